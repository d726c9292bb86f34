import { LecternError } from '../../../shared/errors.js'
import { ggmlType, type GgmlTypeName } from '../tensorTypes.js'

/**
 * Which GGML type each tensor gets in a file of a given llama.cpp file type, as llama-quantize decides it
 * for dense llama / qwen2 / qwen3 models without an importance matrix or overrides. Follows
 * src/llama-quant.cpp: `tensor_allows_quantization` (what is left alone), `llama_tensor_get_type_impl`
 * (the per-tensor rules of the Q4_K_M and Q5_K_M mixtures) and `tensor_type_fallback` (rows that do not
 * divide into the type's blocks).
 *
 * Rules that need facts we do not have, or that never fire for these models, are left out: the 70B attn_v
 * bump (`LLM_TYPE_70B`), the 8-expert rules, Falcon, and the IQ/Q2/Q3 file types.
 */
export type GgufFileType = 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_K_M' | 'Q5_K_M'

export const GGUF_FILE_TYPES: readonly GgufFileType[] = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_K_M', 'Q5_K_M']

/** GGUF `general.file_type`: llama.cpp's `enum llama_ftype` (include/llama.h). */
export const LLAMA_FILE_TYPE: Readonly<Record<GgufFileType, number>> = {
  F32: 0, // LLAMA_FTYPE_ALL_F32
  F16: 1, // LLAMA_FTYPE_MOSTLY_F16
  Q8_0: 7, // LLAMA_FTYPE_MOSTLY_Q8_0
  Q4_K_M: 15, // LLAMA_FTYPE_MOSTLY_Q4_K_M
  Q5_K_M: 17, // LLAMA_FTYPE_MOSTLY_Q5_K_M
  BF16: 32, // LLAMA_FTYPE_MOSTLY_BF16
}

/** The `general.file_type` number of `fileType`. */
export function ggufFileTypeNumber(fileType: GgufFileType): number {
  return LLAMA_FILE_TYPE[fileType]
}

/** The type most tensors of the file get (`llama_ftype_get_default_type`). */
export const FILE_TYPE_DEFAULT: Readonly<Record<GgufFileType, GgmlTypeName>> = {
  F32: 'F32',
  F16: 'F16',
  BF16: 'BF16',
  Q8_0: 'Q8_0',
  Q4_K_M: 'Q4_K',
  Q5_K_M: 'Q5_K',
}

export interface ChooseTensorTypeOptions {
  fileType: GgufFileType
  /** GGUF tensor name, e.g. `blk.3.ffn_down.weight`. */
  tensorName: string
  /** GGUF order: ne0 (the row length) first. */
  shape: readonly number[]
  /** Number of transformer blocks (`<arch>.block_count`). */
  layerCount: number
  /** True when the model has no `output.weight` and reuses `token_embd.weight` as its head. */
  tiedEmbeddings: boolean
  /**
   * Position of this tensor among the model's attn_v / attn_qkv / attn_kv_b tensors in llama.cpp's order
   * (by layer, then name), and how many there are. llama.cpp counts them as it goes; for the supported
   * architectures (one attn_v per block) that is the block index and the block count. Defaults to the
   * block index in the name and `layerCount`.
   */
  attentionVIndex?: number
  /** Defaults to `layerCount`. */
  attentionVCount?: number
  /**
   * Type of the tensor in the source, which llama.cpp keeps for tensors it does not quantize (1-D tensors,
   * norms, anything not ending in `weight`). Defaults to `F32`, the type converters give those tensors.
   */
  sourceType?: GgmlTypeName
}

/** llama.cpp's `use_more_bits`: the first and last eighth of the layers, and every third one between. */
export function useMoreBits(layer: number, layerCount: number): boolean {
  const eighth = Math.trunc(layerCount / 8)
  return layer < eighth || layer >= Math.trunc((7 * layerCount) / 8) || (layer - eighth) % 3 === 2
}

/** `ggml_n_dims`: trailing dimensions of size 1 do not count, so [4096, 1] is 1-D. */
function dimensionCount(shape: readonly number[]): number {
  for (let i = shape.length - 1; i >= 1; i--) if (shape[i]! > 1) return i + 1
  return 1
}

/** `tensor_allows_quantization`, reduced to the names llama/qwen2/qwen3 models carry. */
function allowsQuantization(name: string, shape: readonly number[]): boolean {
  if (dimensionCount(shape) < 2) return false
  if (!name.endsWith('weight')) return false
  if (name.includes('_norm.weight')) return false
  if (name.includes('ffn_gate_inp.weight')) return false
  return true
}

type Category = 'output' | 'token_embd' | 'attn_qkv' | 'attn_kv_b' | 'attn_v' | 'attn_k' | 'attn_q' | 'attn_output' | 'ffn_up' | 'ffn_gate' | 'ffn_down' | 'other'

/** `tensor_get_category`: the same substring tests in the same order. */
function categoryOf(name: string): Category {
  if (name === 'output.weight') return 'output'
  if (name === 'token_embd.weight') return 'token_embd'
  if (name.includes('attn_qkv.weight')) return 'attn_qkv'
  if (name.includes('attn_kv_b.weight')) return 'attn_kv_b'
  if (name.includes('attn_v.weight')) return 'attn_v'
  if (name.includes('attn_k.weight')) return 'attn_k'
  if (name.includes('attn_q.weight')) return 'attn_q'
  if (name.includes('attn_output.weight')) return 'attn_output'
  if (name.includes('ffn_up')) return 'ffn_up'
  if (name.includes('ffn_gate')) return 'ffn_gate'
  if (name.includes('ffn_down')) return 'ffn_down'
  return 'other'
}

function layerOf(name: string, layerCount: number): number {
  const match = /^blk\.(\d+)\./.exec(name)
  if (!match) throw new LecternError('invalid_argument', `tensor ${name}: no block index in its name`)
  const layer = Number(match[1])
  if (layer >= layerCount) throw new LecternError('invalid_argument', `tensor ${name}: block ${layer} is outside the model's ${layerCount} blocks`)
  return layer
}

/**
 * The GGML type llama-quantize would give this tensor (see the module comment). Throws when llama.cpp
 * would refuse too: a Q8_0 tensor whose rows are not a multiple of 32.
 */
export function chooseTensorType(options: ChooseTensorTypeOptions): GgmlTypeName {
  const { fileType, tensorName: name, shape, layerCount, tiedEmbeddings, sourceType = 'F32' } = options
  if (!Number.isInteger(layerCount) || layerCount < 1) throw new LecternError('invalid_argument', `layerCount must be a positive integer, got ${layerCount}`)
  if (!allowsQuantization(name, shape)) return sourceType

  const defaultType = FILE_TYPE_DEFAULT[fileType]
  // llama_tensor_get_type only refines quantized defaults; F32/F16/BF16 files take the default as is.
  if (defaultType === 'F32' || defaultType === 'F16' || defaultType === 'BF16') return defaultType

  const rowLength = shape[0]!
  const category = categoryOf(name)
  let type: GgmlTypeName = defaultType

  if (category === 'output' || (tiedEmbeddings && category === 'token_embd')) {
    // The head gets more bits: Q6_K, or Q8_0 when its rows do not divide into the default type's blocks.
    if (rowLength % ggmlType(defaultType).blockSize !== 0) type = 'Q8_0'
    else if (type !== 'Q8_0') type = 'Q6_K'
  } else if (fileType === 'Q4_K_M' || fileType === 'Q5_K_M') {
    if (category === 'attn_v' || category === 'attn_qkv' || category === 'attn_kv_b') {
      const index = options.attentionVIndex ?? layerOf(name, layerCount)
      const count = options.attentionVCount ?? layerCount
      if (useMoreBits(index, count)) type = 'Q6_K'
    }
    // llama.cpp also has an attn_qkv rule (Q5_K / Q6_K), but the attn_v branch above catches attn_qkv
    // first, so it never applies; attn_output and the other projections keep the default for these types.
    if (category === 'ffn_down' && useMoreBits(layerOf(name, layerCount), layerCount)) type = 'Q6_K'
  }
  return fallback(name, type, rowLength)
}

/** `tensor_type_fallback`: a type whose blocks do not divide the rows is replaced, as llama.cpp does. */
function fallback(name: string, type: GgmlTypeName, rowLength: number): GgmlTypeName {
  if (rowLength % ggmlType(type).blockSize === 0) return type
  const replacement: Partial<Record<GgmlTypeName, GgmlTypeName>> = { Q4_K: 'Q5_0', Q5_K: 'Q5_1', Q6_K: 'Q8_0', Q2_K: 'Q4_0', Q3_K: 'Q4_0' }
  const next = replacement[type]
  if (!next) {
    throw new LecternError('unsupported_model', `tensor ${name}: rows of ${rowLength} are not a multiple of ${ggmlType(type).blockSize}, which ${type} needs, and llama.cpp has no fallback type for ${type}`)
  }
  // A row that is not even a multiple of 32 leaves only F16 (llama.cpp: "must use F16 due to unusual shape").
  return rowLength % ggmlType(next).blockSize === 0 ? next : 'F16'
}
