import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { Graph } from '../../../../src-main/core/autodiff/Graph.js'
import { lowerToOnnx } from '../../../../src-main/core/autodiff/toOnnx.js'
import { decoderLogits } from '../../../../src-main/core/train/decoder.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { constantWeights } from '../../../support/adapterCases.js'
import { argmax, maxAbsDiff, TINY_PARITY_CASES } from '../../../support/distributions.js'
import { llamaNextTokenProbabilities } from '../../../support/llamaCpp.js'
import { softmax } from '../../../support/referenceForward.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

describe('our ONNX decoder (fp32, ORT) matches llama.cpp on the same tiny model', () => {
  it.each(TINY_PARITY_CASES)('%s (tied head: %s)', async (architecture, tiedEmbeddings) => {
    const model = await writeTinyGgufModel(await tempDir(), { architecture, tiedEmbeddings })
    const h = model.hyperparameters
    const tokens = Array.from({ length: 20 }, (_, i) => (i * 37 + 11) % h.vocabSize)
    const g = new Graph()
    const ids = g.input('ids', [1, tokens.length], 'int64')
    const logits = decoderLogits(g, h, constantWeights(g, h, model.weights), ids)
    const session = await ort.InferenceSession.create(lowerToOnnx(g, { logits }, { elementType: 'float32' }), { intraOpNumThreads: 1 })
    const result = await session.run({ ids: new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [1, tokens.length]) })
    await session.release()
    const ours = Array.from({ length: tokens.length }, (_, t) => softmax((result['logits']!.data as Float32Array).subarray(t * h.vocabSize, (t + 1) * h.vocabSize)))
    const theirs = await llamaNextTokenProbabilities(model.ggufPath, tokens, h.vocabSize)
    const worst = maxAbsDiff(ours, theirs)
    console.log(`${architecture}${tiedEmbeddings ? ' tied' : ''}: max |Δp| ours vs llama.cpp = ${worst.toExponential(2)}`)
    expect(worst).toBeLessThanOrEqual(1e-3)
    expect(ours.map(argmax)).toEqual(theirs.map(argmax))
  })
})
