import { describe, expect, it } from 'vitest'
import {
  chooseTensorType,
  GGUF_FILE_TYPES,
  ggufFileTypeNumber,
  useMoreBits,
  type GgufFileType,
} from '../../../../../src-main/core/model/quantize/quantMixture.js'
import type { GgmlTypeName } from '../../../../../src-main/core/model/tensorTypes.js'

interface Dims {
  layers: number
  hidden: number
  ffn: number
  vocab: number
  kv: number
  tied: boolean
}

/** The GGUF tensors of a llama-architecture model, shapes ne0 first. */
function llamaTensors(d: Dims): { name: string; shape: number[] }[] {
  const tensors = [
    { name: 'token_embd.weight', shape: [d.hidden, d.vocab] },
    { name: 'output_norm.weight', shape: [d.hidden] },
    ...(d.tied ? [] : [{ name: 'output.weight', shape: [d.hidden, d.vocab] }]),
  ]
  for (let i = 0; i < d.layers; i++) {
    tensors.push(
      { name: `blk.${i}.attn_norm.weight`, shape: [d.hidden] },
      { name: `blk.${i}.attn_q.weight`, shape: [d.hidden, d.hidden] },
      { name: `blk.${i}.attn_k.weight`, shape: [d.hidden, d.kv] },
      { name: `blk.${i}.attn_v.weight`, shape: [d.hidden, d.kv] },
      { name: `blk.${i}.attn_output.weight`, shape: [d.hidden, d.hidden] },
      { name: `blk.${i}.ffn_norm.weight`, shape: [d.hidden] },
      { name: `blk.${i}.ffn_gate.weight`, shape: [d.hidden, d.ffn] },
      { name: `blk.${i}.ffn_up.weight`, shape: [d.hidden, d.ffn] },
      { name: `blk.${i}.ffn_down.weight`, shape: [d.ffn, d.hidden] },
    )
  }
  return tensors
}

function typesFor(fileType: GgufFileType, d: Dims): Map<string, GgmlTypeName> {
  return new Map(llamaTensors(d).map((t) => [t.name, chooseTensorType({ fileType, tensorName: t.name, shape: t.shape, layerCount: d.layers, tiedEmbeddings: d.tied })]))
}

function histogram(types: Map<string, GgmlTypeName>): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const type of types.values()) counts[type] = (counts[type] ?? 0) + 1
  return counts
}

const LLAMA2_7B: Dims = { layers: 32, hidden: 4096, ffn: 11008, vocab: 32000, kv: 4096, tied: false }

describe('chooseTensorType: Llama-2-7B shapes (llama-quantize reports these counts)', () => {
  it('Q4_K_M: 65 F32, 193 Q4_K, 33 Q6_K', () => {
    expect(histogram(typesFor('Q4_K_M', LLAMA2_7B))).toEqual({ F32: 65, Q4_K: 193, Q6_K: 33 })
  })

  it('Q5_K_M: 65 F32, 193 Q5_K, 33 Q6_K', () => {
    expect(histogram(typesFor('Q5_K_M', LLAMA2_7B))).toEqual({ F32: 65, Q5_K: 193, Q6_K: 33 })
  })

  it('Q8_0, F16, BF16, F32: every matrix in the file type, norms stay F32', () => {
    expect(histogram(typesFor('Q8_0', LLAMA2_7B))).toEqual({ F32: 65, Q8_0: 226 })
    expect(histogram(typesFor('F16', LLAMA2_7B))).toEqual({ F32: 65, F16: 226 })
    expect(histogram(typesFor('BF16', LLAMA2_7B))).toEqual({ F32: 65, BF16: 226 })
    expect(histogram(typesFor('F32', LLAMA2_7B))).toEqual({ F32: 291 })
  })

  it('32 layers: attn_v and ffn_down get Q6_K in the first and last 4 layers and every third between', () => {
    const types = typesFor('Q4_K_M', LLAMA2_7B)
    const q6 = (tensor: string): number[] =>
      Array.from({ length: 32 }, (_, i) => i).filter((i) => types.get(`blk.${i}.${tensor}.weight`) === 'Q6_K')
    const expected = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]
    expect(q6('attn_v')).toEqual(expected)
    expect(q6('ffn_down')).toEqual(expected)
    expect(q6('attn_q')).toEqual([])
    expect(types.get('output.weight')).toBe('Q6_K')
    expect(types.get('token_embd.weight')).toBe('Q4_K')
    expect(types.get('blk.7.attn_output.weight')).toBe('Q4_K')
  })
})

describe('chooseTensorType: 2-layer models', () => {
  const small: Dims = { layers: 2, hidden: 256, ffn: 512, vocab: 1000, kv: 256, tied: false }

  it('Q4_K_M and Q5_K_M: the head and layer 1 attn_v / ffn_down get Q6_K', () => {
    for (const [fileType, base] of [['Q4_K_M', 'Q4_K'], ['Q5_K_M', 'Q5_K']] as const) {
      expect(Object.fromEntries(typesFor(fileType, small))).toEqual({
        'token_embd.weight': base,
        'output_norm.weight': 'F32',
        'output.weight': 'Q6_K',
        'blk.0.attn_norm.weight': 'F32',
        'blk.0.attn_q.weight': base,
        'blk.0.attn_k.weight': base,
        'blk.0.attn_v.weight': base,
        'blk.0.attn_output.weight': base,
        'blk.0.ffn_norm.weight': 'F32',
        'blk.0.ffn_gate.weight': base,
        'blk.0.ffn_up.weight': base,
        'blk.0.ffn_down.weight': base,
        'blk.1.attn_norm.weight': 'F32',
        'blk.1.attn_q.weight': base,
        'blk.1.attn_k.weight': base,
        'blk.1.attn_v.weight': 'Q6_K',
        'blk.1.attn_output.weight': base,
        'blk.1.ffn_norm.weight': 'F32',
        'blk.1.ffn_gate.weight': base,
        'blk.1.ffn_up.weight': base,
        'blk.1.ffn_down.weight': 'Q6_K',
      })
    }
  })

  it('tied embeddings: token_embd is quantized like the head', () => {
    const types = typesFor('Q4_K_M', { ...small, tied: true })
    expect(types.get('token_embd.weight')).toBe('Q6_K')
    expect(types.has('output.weight')).toBe(false)
    expect(typesFor('Q8_0', { ...small, tied: true }).get('token_embd.weight')).toBe('Q8_0')
  })

  it('rows not a multiple of 256 fall back: Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0, and the head to Q8_0', () => {
    const tiny: Dims = { layers: 2, hidden: 64, ffn: 128, vocab: 512, kv: 32, tied: false }
    const q4 = typesFor('Q4_K_M', tiny)
    expect(q4.get('blk.0.attn_q.weight')).toBe('Q5_0')
    expect(q4.get('blk.0.attn_v.weight')).toBe('Q5_0')
    expect(q4.get('blk.1.attn_v.weight')).toBe('Q8_0')
    expect(q4.get('blk.1.ffn_down.weight')).toBe('Q8_0')
    expect(q4.get('output.weight')).toBe('Q8_0')
    expect(q4.get('token_embd.weight')).toBe('Q5_0')
    const q5 = typesFor('Q5_K_M', tiny)
    expect(q5.get('blk.0.ffn_up.weight')).toBe('Q5_1')
    expect(q5.get('blk.1.attn_v.weight')).toBe('Q8_0')
  })
})

describe('chooseTensorType: edge cases', () => {
  const base = { fileType: 'Q4_K_M', layerCount: 4, tiedEmbeddings: false } as const

  it('leaves 1-D tensors (trailing 1s do not count), norms and non-weights in their source type', () => {
    expect(chooseTensorType({ ...base, tensorName: 'blk.0.attn_norm.weight', shape: [4096] })).toBe('F32')
    expect(chooseTensorType({ ...base, tensorName: 'blk.0.attn_q.weight', shape: [4096, 1] })).toBe('F32')
    expect(chooseTensorType({ ...base, tensorName: 'blk.0.attn_q.bias', shape: [4096, 2] })).toBe('F32')
    expect(chooseTensorType({ ...base, tensorName: 'blk.0.attn_q_norm.weight', shape: [128, 2] })).toBe('F32')
    expect(chooseTensorType({ ...base, tensorName: 'blk.0.ffn_norm.weight', shape: [4096], sourceType: 'F16' })).toBe('F16')
  })

  it('uses F16 when rows are not even a multiple of 32, and refuses Q8_0 then, as llama.cpp does', () => {
    expect(chooseTensorType({ ...base, tensorName: 'blk.0.attn_q.weight', shape: [48, 64] })).toBe('F16')
    expect(() => chooseTensorType({ ...base, fileType: 'Q8_0', tensorName: 'blk.0.attn_q.weight', shape: [100, 64] })).toThrow(
      'tensor blk.0.attn_q.weight: rows of 100 are not a multiple of 32, which Q8_0 needs, and llama.cpp has no fallback type for Q8_0',
    )
  })

  it('takes the attn_v position from the caller when given, and checks block indices', () => {
    expect(chooseTensorType({ ...base, tensorName: 'blk.1.attn_v.weight', shape: [256, 256] })).toBe('Q4_K')
    expect(chooseTensorType({ ...base, tensorName: 'blk.1.attn_v.weight', shape: [256, 256], attentionVIndex: 3 })).toBe('Q6_K')
    expect(chooseTensorType({ ...base, tensorName: 'blk.0.attn_qkv.weight', shape: [256, 768] })).toBe('Q4_K')
    expect(() => chooseTensorType({ ...base, tensorName: 'blk.9.ffn_down.weight', shape: [256, 256] })).toThrow(/block 9 is outside the model's 4 blocks/)
  })

  it('use_more_bits on small layer counts', () => {
    expect([0, 1].map((i) => useMoreBits(i, 2))).toEqual([false, true])
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => useMoreBits(i, 8))).toEqual([true, false, false, true, false, false, true, true])
  })

  it('general.file_type numbers are llama.cpp’s llama_ftype values', () => {
    expect(Object.fromEntries(GGUF_FILE_TYPES.map((t) => [t, ggufFileTypeNumber(t)]))).toEqual({ F32: 0, F16: 1, BF16: 32, Q8_0: 7, Q4_K_M: 15, Q5_K_M: 17 })
  })
})
