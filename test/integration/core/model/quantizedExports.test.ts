import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileByteSource } from '../../../../src-main/core/io/fileBytes.js'
import { convertModel } from '../../../../src-main/core/modelFiles/convertModel.js'
import { openModel } from '../../../../src-main/core/modelFiles/openModel.js'
import { readGgufHeader } from '../../../../src-main/core/model/gguf/readGgufHeader.js'
import type { GgufFileType } from '../../../../src-main/core/model/quantize/quantMixture.js'
import { writeTinyGgufModel, type TinyModel } from '../../../fixtures/tinyModels.js'
import { meanKl } from '../../../support/distributions.js'
import { llamaNextTokenProbabilities } from '../../../support/llamaCpp.js'
import { referenceLogits, softmax } from '../../../support/referenceForward.js'
import { expectHuggingFaceGgufAgrees } from '../../../support/huggingfaceGguf.js'

/** ggml's bits per weight of each block type (block bytes × 8 / block elements). */
const BITS_PER_WEIGHT: Record<string, number> = { F32: 32, F16: 16, Q8_0: 8.5, Q4_K: 4.5, Q5_K: 5.5, Q6_K: 6.5625, Q5_0: 5.5, Q5_1: 6 }

describe('quantized GGUF exports, loaded by llama.cpp', () => {
  let model: TinyModel & { ggufPath: string; hfDir: string }
  let dir: string
  let tokens: number[]
  let f32: Float64Array[]

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lectern-quant-'))
    // Width and FFN multiples of 256, so the K-quants apply without fallbacks.
    model = await writeTinyGgufModel(dir, {
      architecture: 'llama',
      hyperparameters: { embeddingLength: 256, feedForwardLength: 512, headCount: 4, headCountKv: 2, headDim: 64 },
      // Gentler weights than the default: llama.cpp also quantizes activations, which very sharp random
      // distributions amplify far beyond what real models show.
      gain: 0.5,
    })
    tokens = Array.from({ length: 32 }, (_, i) => (i * 53 + 7) % model.hyperparameters.vocabSize)
    f32 = await llamaNextTokenProbabilities(model.ggufPath, tokens, model.hyperparameters.vocabSize)
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it.each([
    // 2 layers: llama.cpp's use_more_bits picks layer 1 only for attn_v/ffn_down, plus output.weight → 3 × Q6_K.
    ['Q8_0', 1e-2, { Q8_0: 16, F32: 5 }],
    ['Q5_K_M', 0.15, { Q5_K: 13, Q6_K: 3, F32: 5 }],
    ['Q4_K_M', 0.3, { Q4_K: 13, Q6_K: 3, F32: 5 }],
  ] as const)('%s: mean KL to F32 within %s, llama.cpp tensor types and bits per weight', async (fileType: GgufFileType, klBound, typeCounts) => {
    const path = join(dir, `model-${fileType}.gguf`)
    await convertModel(model.hfDir, path, { format: 'gguf', type: fileType })
    const quantized = await llamaNextTokenProbabilities(path, tokens, model.hyperparameters.vocabSize)
    const kl = meanKl(f32, quantized)
    // llama.cpp must decode our blocks as we do: against a reference on our own dequantized weights, only
    // llama.cpp's activation quantization is left.
    const opened = await openModel(path)
    const dequantized = new Map<string, Float32Array>()
    for (const t of opened.source.tensors) dequantized.set(t.name, await t.readRows(0, t.shape.length > 1 ? t.shape[0]! : 1))
    await opened.close()
    const decodedKl = meanKl(referenceLogits(model.hyperparameters, dequantized, tokens).map(softmax), quantized)

    const source = await FileByteSource.open(path)
    const header = await readGgufHeader(source)
    await source.close()
    const counts: Record<string, number> = {}
    let weightBits = 0
    let weights = 0
    for (const t of header.tensors) {
      counts[t.type.name] = (counts[t.type.name] ?? 0) + 1
      expect(t.byteLength * 8, `${t.name} ${t.type.name}`).toBe(t.elementCount * BITS_PER_WEIGHT[t.type.name]!)
      weightBits += t.byteLength * 8
      weights += t.elementCount
    }
    const fileBytes = (await stat(path)).size
    const last = header.tensors.reduce((a, b) => (a.absoluteOffset > b.absoluteOffset ? a : b))
    expect(fileBytes).toBe(last.absoluteOffset + last.byteLength)
    console.log(`${fileType}: mean KL ${kl.toExponential(2)} to F32, ${decodedKl.toExponential(2)} to our dequantized weights, ${(weightBits / weights).toFixed(3)} bits per weight, ${fileBytes} bytes, types ${JSON.stringify(counts)}`)
    expect(counts).toEqual(typeCounts)
    expect(kl).toBeLessThan(klBound)
    expect(decodedKl).toBeLessThan(Math.min(kl, 1e-2))
    const expectedFileType: Record<string, number> = { Q8_0: 7, Q4_K_M: 15, Q5_K_M: 17 }
    expect(header.metadata.get('general.file_type')).toEqual({ type: 'u32', value: expectedFileType[fileType] })
    await expectHuggingFaceGgufAgrees(path, header)
  })
})
