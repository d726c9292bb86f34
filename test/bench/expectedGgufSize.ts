import { ARCHITECTURES, ggufNameForHf } from '../../src-main/core/model/architectures.js'
import { expectedHfTensorShapes, type ModelHyperparameters } from '../../src-main/core/model/hyperparameters.js'
import { chooseTensorType, type GgufFileType } from '../../src-main/core/model/quantize/quantMixture.js'
import type { GgmlTypeName } from '../../src-main/core/model/tensorTypes.js'

/**
 * Bits per weight of each GGML type, from the block structs in ggml/src/ggml-common.h, written out here
 * independently of src-main's type table so the benchmark's size baseline does not check our code against itself:
 * block_q4_K is 2+2+12+128 bytes per 256 weights = 4.5 bpw, block_q6_K 128+64+16+2 bytes per 256 = 6.5625 bpw, etc.
 */
export const GGML_BITS_PER_WEIGHT: Partial<Record<GgmlTypeName, number>> = {
  F32: 32,
  F16: 16,
  BF16: 16,
  Q8_0: (34 * 8) / 32,
  Q5_0: (22 * 8) / 32,
  Q5_1: (24 * 8) / 32,
  Q4_K: (144 * 8) / 256,
  Q5_K: (176 * 8) / 256,
  Q6_K: (210 * 8) / 256,
}

export interface ExpectedGgufSize {
  weightCount: number
  /** Tensor data bytes the ggml block sizes give for the types `chooseTensorType` picks, without padding. */
  dataBytes: number
  /** Weights and bytes per GGML type, largest share first. */
  byType: { type: GgmlTypeName; weightCount: number; tensorCount: number; dataBytes: number }[]
  /** Tensor name (GGUF) → type and weight count, to compare with what the writer put in the file. */
  typeOf: Map<string, GgmlTypeName>
  countOf: Map<string, number>
}

/** The size llama.cpp's mixture rules and ggml's block sizes predict for the tensor data of `fileType`. */
export function expectedGgufSize(h: ModelHyperparameters, fileType: GgufFileType): ExpectedGgufSize {
  const arch = ARCHITECTURES[h.architecture]
  const byType = new Map<GgmlTypeName, { weightCount: number; tensorCount: number; dataBytes: number }>()
  const typeOf = new Map<string, GgmlTypeName>()
  const countOf = new Map<string, number>()
  let weightCount = 0
  let dataBytes = 0
  for (const [hfName, hfShape] of expectedHfTensorShapes(h)) {
    const mapping = ggufNameForHf(arch, hfName)
    if (!mapping) throw new Error(`no GGUF name for ${hfName}`)
    const shape = [...hfShape].reverse()
    const type = chooseTensorType({ fileType, tensorName: mapping.gguf, shape, layerCount: h.blockCount, tiedEmbeddings: h.tiedEmbeddings })
    const bpw = GGML_BITS_PER_WEIGHT[type]
    if (bpw === undefined) throw new Error(`${mapping.gguf}: no bits-per-weight figure for ${type}`)
    const count = shape.reduce((a, b) => a * b, 1)
    const bytes = (count * bpw) / 8
    typeOf.set(mapping.gguf, type)
    countOf.set(mapping.gguf, count)
    const entry = byType.get(type) ?? { weightCount: 0, tensorCount: 0, dataBytes: 0 }
    entry.weightCount += count
    entry.tensorCount += 1
    entry.dataBytes += bytes
    byType.set(type, entry)
    weightCount += count
    dataBytes += bytes
  }
  return {
    weightCount,
    dataBytes,
    byType: [...byType].map(([type, e]) => ({ type, ...e })).sort((a, b) => b.weightCount - a.weightCount),
    typeOf,
    countOf,
  }
}
