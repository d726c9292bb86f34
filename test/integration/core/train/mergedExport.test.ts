import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { lowerToOnnx } from '../../../../src-main/core/autodiff/toOnnx.js'
import { convertModel } from '../../../../src-main/core/modelFiles/convertModel.js'
import { openModel } from '../../../../src-main/core/modelFiles/openModel.js'
import { readAdapterFile } from '../../../../src-main/core/train/adapterFile.js'
import { planAdapters } from '../../../../src-main/core/train/adapters.js'
import { decoderWeightRequests, prepareBaseWeights } from '../../../../src-main/core/train/baseWeights.js'
import { buildLogitsGraph, GRADIENT_GRAPH } from '../../../../src-main/core/train/trainGraphs.js'
import type { TrainParamsInput } from '../../../../src-main/shared/types/train.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { argmax, maxAbsDiff } from '../../../support/distributions.js'
import { llamaNextTokenProbabilities } from '../../../support/llamaCpp.js'
import { softmax } from '../../../support/referenceForward.js'
import { useTempDirs } from '../../../support/tempDir.js'
import { trainQuietly } from '../../../support/trainQuietly.js'

const tempDir = useTempDirs()

/** Next-token probabilities of our fp32 ORT decoder with the adapter file's values fed in. */
async function adaptedProbabilities(basePath: string, adapterPath: string, cacheDir: string, tokens: number[]): Promise<Float64Array[]> {
  const opened = await openModel(basePath)
  try {
    const h = opened.source.hyperparameters
    const { config, values } = await readAdapterFile(adapterPath)
    const plan = planAdapters(h, config)
    const base = await prepareBaseWeights(opened.source, basePath, decoderWeightRequests(h), cacheDir)
    const { graph, outputs } = buildLogitsGraph(h, plan, config, 1, tokens.length)
    const modelPath = join(base.dir, 'logits.onnx')
    await writeFile(modelPath, lowerToOnnx(graph, outputs, { externalInitializers: base.externalInitializers }))
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 })
    const feeds: Record<string, ort.Tensor> = { [GRADIENT_GRAPH.tokenIds]: new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [1, tokens.length]) }
    for (const site of plan.sites) for (const p of site.params) feeds[GRADIENT_GRAPH.param(p.name)] = new ort.Tensor('float32', values.get(p.name)!, p.shape)
    const logits = (await session.run(feeds))['logits']!.data as Float32Array
    await session.release()
    return tokens.map((_, t) => softmax(logits.subarray(t * h.vocabSize, (t + 1) * h.vocabSize)))
  } finally {
    await opened.close()
  }
}

describe('trained adapters merged through the model-file layer', () => {
  it.each([
    ['llama', { method: 'mora', moraType: 6, rank: 4 }],
    ['qwen2', { method: 'mora', moraType: 1, rank: 3 }],
    ['llama', { method: 'lora', rank: 4 }],
  ] as const)('%s %o: llama.cpp on the merged GGUF = our adapted forward', async (architecture, adapter) => {
    const dir = await tempDir()
    const model = await writeTinyGgufModel(dir, { architecture })
    const data = join(dir, 'data.jsonl')
    await writeFile(data, Array.from({ length: 12 }, (_, i) => JSON.stringify({ text: `the model ${i} is what we have and it was not there` })).join('\n'))
    const params: TrainParamsInput = { base: model.ggufPath, data, steps: 8, seqLen: 16, lr: 0.02, warmupRatio: 0, ...adapter }
    const { result } = await trainQuietly(dir, join(dir, 'run'), params)
    const merged = join(dir, 'merged.gguf')
    await convertModel(model.ggufPath, merged, { format: 'gguf', type: 'F32' }, { adapter: result.adapterFile })

    const tokens = Array.from({ length: 16 }, (_, i) => (i * 29 + 5) % model.hyperparameters.vocabSize)
    const ours = await adaptedProbabilities(model.ggufPath, result.adapterFile, join(dir, 'cache'), tokens)
    const base = await llamaNextTokenProbabilities(model.ggufPath, tokens, model.hyperparameters.vocabSize)
    const theirs = await llamaNextTokenProbabilities(merged, tokens, model.hyperparameters.vocabSize)
    console.log(`${architecture} ${adapter.method}: adapter moved p by ${maxAbsDiff(ours, base).toExponential(2)}; merged GGUF in llama.cpp vs adapted ORT forward ${maxAbsDiff(ours, theirs).toExponential(2)}`)
    // The adapter moved the model (so the comparison is not base vs base), and the merge carries that move.
    expect(maxAbsDiff(ours, base)).toBeGreaterThan(1e-2)
    expect(maxAbsDiff(ours, theirs)).toBeLessThanOrEqual(1e-4)
    expect(ours.map(argmax)).toEqual(theirs.map(argmax))
  })
})
