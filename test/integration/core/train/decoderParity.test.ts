import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { Graph } from '../../../../src-main/core/autodiff/Graph.js'
import type { TensorRef } from '../../../../src-main/core/autodiff/types.js'
import { lowerToOnnx } from '../../../../src-main/core/autodiff/toOnnx.js'
import { expectedHfTensorShapes } from '../../../../src-main/core/model/hyperparameters.js'
import { decoderLogits } from '../../../../src-main/core/train/decoder.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { argmax, maxAbsDiff, TINY_PARITY_CASES } from '../../../support/distributions.js'
import { llamaNextTokenProbabilities } from '../../../support/llamaCpp.js'
import { softmax } from '../../../support/referenceForward.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

/** (rows, cols) row-major → (cols, rows). */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!
  return out
}

describe('our ONNX decoder (fp32, ORT) matches llama.cpp on the same tiny model', () => {
  it.each(TINY_PARITY_CASES)('%s (tied head: %s)', async (architecture, tiedEmbeddings) => {
    const model = await writeTinyGgufModel(await tempDir(), { architecture, tiedEmbeddings })
    const h = model.hyperparameters
    const tokens = Array.from({ length: 20 }, (_, i) => (i * 37 + 11) % h.vocabSize)
    const g = new Graph()
    const ids = g.input('ids', [1, tokens.length], 'int64')
    const shapes = expectedHfTensorShapes(h)
    const cache = new Map<string, TensorRef>()
    const logits = decoderLogits(
      g,
      h,
      (name, layout) => {
        const key = `${name}:${layout}`
        if (!cache.has(key)) {
          const data = model.weights.get(name)!
          const shape = shapes.get(name)!
          const [rows, cols] = shape as [number, number]
          cache.set(key, layout === 'stored' ? g.constant(data, shape) : g.constant(transposed(data, rows, cols), [cols, rows]))
        }
        return cache.get(key)!
      },
      ids,
    )
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
