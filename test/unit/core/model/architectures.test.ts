import { describe, expect, it } from 'vitest'
import {
  ARCHITECTURES,
  architectureFromGguf,
  architectureFromHfConfig,
  ggufNameForHf,
  hfNameForGguf,
  mapHfTensorNames,
  permuteQueryKeyRows,
} from '../../../../src-main/core/model/architectures.js'

describe('architecture map', () => {
  it('maps every llama tensor both ways', () => {
    const names = [
      'model.embed_tokens.weight',
      'model.norm.weight',
      'lm_head.weight',
      ...['input_layernorm', 'post_attention_layernorm'].map((n) => `model.layers.3.${n}.weight`),
      ...['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => `model.layers.3.self_attn.${n}.weight`),
      ...['gate_proj', 'up_proj', 'down_proj'].map((n) => `model.layers.3.mlp.${n}.weight`),
    ]
    const mapped = mapHfTensorNames(ARCHITECTURES.llama, names, 'model.safetensors')
    expect(mapped.map((m) => m.gguf).sort()).toEqual(
      [
        'token_embd.weight',
        'output_norm.weight',
        'output.weight',
        ...['attn_norm', 'ffn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'].map((n) => `blk.3.${n}.weight`),
      ].sort(),
    )
    for (const m of mapped) expect(hfNameForGguf(ARCHITECTURES.llama, m.gguf)?.hf).toBe(m.hf)
    expect(ggufNameForHf(ARCHITECTURES.llama, 'model.layers.3.self_attn.q_proj.weight')).toMatchObject({ layer: 3, role: 'query' })
    expect(ggufNameForHf(ARCHITECTURES.llama, 'model.layers.3.self_attn.k_proj.weight')).toMatchObject({ role: 'key' })
  })

  it('knows qwen2 biases and qwen3 q/k norms, and only for those', () => {
    expect(ggufNameForHf(ARCHITECTURES.qwen2, 'model.layers.0.self_attn.k_proj.bias')?.gguf).toBe('blk.0.attn_k.bias')
    expect(ggufNameForHf(ARCHITECTURES.qwen3, 'model.layers.1.self_attn.q_norm.weight')?.gguf).toBe('blk.1.attn_q_norm.weight')
    expect(ggufNameForHf(ARCHITECTURES.llama, 'model.layers.0.self_attn.k_proj.bias')).toBeUndefined()
    expect(ggufNameForHf(ARCHITECTURES.llama, 'model.layers.0.self_attn.rotary_emb.inv_freq')).toBeNull()
  })

  it('names unknown tensors and unsupported architectures in its errors', () => {
    expect(() => mapHfTensorNames(ARCHITECTURES.llama, ['model.layers.0.block_sparse_moe.gate.weight'], '/m/model.safetensors')).toThrow(
      '/m/model.safetensors: tensors not part of the llama architecture: model.layers.0.block_sparse_moe.gate.weight',
    )
    expect(() => architectureFromGguf('gemma3', '/m/x.gguf')).toThrow(/unsupported architecture "gemma3"; Lectern supports llama, qwen2, qwen3/)
    expect(() => architectureFromHfConfig({ architectures: ['PhiForCausalLM'], model_type: 'phi' }, 'config.json')).toThrow(/"PhiForCausalLM"/)
    expect(architectureFromHfConfig({ architectures: ['MistralForCausalLM'] }, 'config.json').name).toBe('llama')
    expect(architectureFromHfConfig({ model_type: 'qwen3' }, 'config.json').name).toBe('qwen3')
  })

  it('permutes q/k rows from half-split to interleaved pairs per head, and back', () => {
    // 2 heads of dim 4, rows of length 1: HF rows per head [a0 a1 b0 b1] (halves a, b) → [a0 b0 a1 b1]
    const hf = Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13])
    const gguf = permuteQueryKeyRows(hf, 2, 1)
    expect([...gguf]).toEqual([0, 2, 1, 3, 10, 12, 11, 13])
    expect([...permuteQueryKeyRows(gguf, 2, 1, true)]).toEqual([...hf])
    const wide = Float32Array.from({ length: 2 * 8 * 3 }, (_, i) => i)
    expect([...permuteQueryKeyRows(permuteQueryKeyRows(wide, 2, 3), 2, 3, true)]).toEqual([...wide])
    expect(() => permuteQueryKeyRows(new Float32Array(6), 2, 1)).toThrow(/even size/)
  })
})
