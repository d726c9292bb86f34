import { LecternError } from '../../shared/errors.js'

/**
 * The Llama family as Lectern supports it, and the one table that maps Hugging Face tensor names to GGUF
 * names and back (llama.cpp's convert_hf_to_gguf.py / gguf-py tensor mapping for these architectures).
 */
export const SUPPORTED_ARCHITECTURES = ['llama', 'qwen2', 'qwen3'] as const
export type ArchitectureName = (typeof SUPPORTED_ARCHITECTURES)[number]

export interface ArchitectureInfo {
  name: ArchitectureName
  /** HF `config.json` `architectures[0]` values that map here. */
  hfClasses: string[]
  /** HF `model_type`. */
  hfModelType: string
  /**
   * llama.cpp's `llama` arch rotates adjacent pairs (GPT-J style), while HF checkpoints rotate the two
   * halves of each head (NeoX style); converting q/k weights reorders their rows. qwen2/qwen3 are NeoX in
   * llama.cpp too, so their weights are copied as they are.
   */
  permuteQueryKey: boolean
  hasQkvBias: boolean
  hasQkNorm: boolean
}

export const ARCHITECTURES: Record<ArchitectureName, ArchitectureInfo> = {
  llama: {
    name: 'llama',
    hfClasses: ['LlamaForCausalLM', 'MistralForCausalLM'],
    hfModelType: 'llama',
    permuteQueryKey: true,
    hasQkvBias: false,
    hasQkNorm: false,
  },
  qwen2: { name: 'qwen2', hfClasses: ['Qwen2ForCausalLM'], hfModelType: 'qwen2', permuteQueryKey: false, hasQkvBias: true, hasQkNorm: false },
  qwen3: { name: 'qwen3', hfClasses: ['Qwen3ForCausalLM'], hfModelType: 'qwen3', permuteQueryKey: false, hasQkvBias: false, hasQkNorm: true },
}

export function unsupportedArchitecture(found: string, file: string): LecternError {
  return new LecternError(
    'unsupported_model',
    `${file}: unsupported architecture "${found}"; Lectern supports ${SUPPORTED_ARCHITECTURES.join(', ')} (Llama 2/3, Mistral, SmolLM, TinyLlama, Qwen2/2.5, Qwen3)`,
    { file },
  )
}

export function architectureFromGguf(name: string, file: string): ArchitectureInfo {
  if ((SUPPORTED_ARCHITECTURES as readonly string[]).includes(name)) return ARCHITECTURES[name as ArchitectureName]
  throw unsupportedArchitecture(name, file)
}

export function architectureFromHfConfig(config: { architectures?: unknown; model_type?: unknown }, file: string): ArchitectureInfo {
  const hfClass = Array.isArray(config.architectures) ? String(config.architectures[0]) : undefined
  const byClass = Object.values(ARCHITECTURES).find((a) => hfClass !== undefined && a.hfClasses.includes(hfClass))
  if (byClass) return byClass
  const byType = Object.values(ARCHITECTURES).find((a) => a.hfModelType === config.model_type)
  if (byType) return byType
  throw unsupportedArchitecture(hfClass ?? String(config.model_type ?? 'unknown'), file)
}

/** Per-layer tensors: HF suffix after `model.layers.N.` and GGUF suffix after `blk.N.`. */
const LAYER_TENSORS: { hf: string; gguf: string; only?: (a: ArchitectureInfo) => boolean }[] = [
  { hf: 'input_layernorm.weight', gguf: 'attn_norm.weight' },
  { hf: 'self_attn.q_proj.weight', gguf: 'attn_q.weight' },
  { hf: 'self_attn.k_proj.weight', gguf: 'attn_k.weight' },
  { hf: 'self_attn.v_proj.weight', gguf: 'attn_v.weight' },
  { hf: 'self_attn.o_proj.weight', gguf: 'attn_output.weight' },
  { hf: 'self_attn.q_proj.bias', gguf: 'attn_q.bias', only: (a) => a.hasQkvBias },
  { hf: 'self_attn.k_proj.bias', gguf: 'attn_k.bias', only: (a) => a.hasQkvBias },
  { hf: 'self_attn.v_proj.bias', gguf: 'attn_v.bias', only: (a) => a.hasQkvBias },
  { hf: 'self_attn.q_norm.weight', gguf: 'attn_q_norm.weight', only: (a) => a.hasQkNorm },
  { hf: 'self_attn.k_norm.weight', gguf: 'attn_k_norm.weight', only: (a) => a.hasQkNorm },
  { hf: 'post_attention_layernorm.weight', gguf: 'ffn_norm.weight' },
  { hf: 'mlp.gate_proj.weight', gguf: 'ffn_gate.weight' },
  { hf: 'mlp.up_proj.weight', gguf: 'ffn_up.weight' },
  { hf: 'mlp.down_proj.weight', gguf: 'ffn_down.weight' },
]

const GLOBAL_TENSORS: { hf: string; gguf: string }[] = [
  { hf: 'model.embed_tokens.weight', gguf: 'token_embd.weight' },
  { hf: 'model.norm.weight', gguf: 'output_norm.weight' },
  { hf: 'lm_head.weight', gguf: 'output.weight' },
]

/** HF tensors that carry no weights llama.cpp needs (recomputed buffers). */
const IGNORED_HF = /\.rotary_emb\.inv_freq$/

export type QueryKeyRole = 'query' | 'key' | null

export interface TensorNameMapping {
  gguf: string
  hf: string
  layer: number | null
  /** Set for q/k projection weights (and biases) that need the RoPE row permutation in `llama`. */
  role: QueryKeyRole
}

/** The GGUF name of an HF tensor; null for tensors llama.cpp does not need, undefined for unknown names. */
export function ggufNameForHf(arch: ArchitectureInfo, hfName: string): TensorNameMapping | null | undefined {
  if (IGNORED_HF.test(hfName)) return null
  const global = GLOBAL_TENSORS.find((t) => t.hf === hfName)
  if (global) return { gguf: global.gguf, hf: hfName, layer: null, role: null }
  const match = /^model\.layers\.(\d+)\.(.+)$/.exec(hfName)
  const entry = match && LAYER_TENSORS.find((t) => t.hf === match[2] && (t.only?.(arch) ?? true))
  if (!match || !entry) return undefined
  const layer = Number(match[1])
  return { gguf: `blk.${layer}.${entry.gguf}`, hf: hfName, layer, role: roleOf(entry.gguf) }
}

export function hfNameForGguf(arch: ArchitectureInfo, ggufName: string): TensorNameMapping | undefined {
  const global = GLOBAL_TENSORS.find((t) => t.gguf === ggufName)
  if (global) return { gguf: ggufName, hf: global.hf, layer: null, role: null }
  const match = /^blk\.(\d+)\.(.+)$/.exec(ggufName)
  const entry = match && LAYER_TENSORS.find((t) => t.gguf === match[2] && (t.only?.(arch) ?? true))
  if (!match || !entry) return undefined
  const layer = Number(match[1])
  return { gguf: ggufName, hf: `model.layers.${layer}.${entry.hf}`, layer, role: roleOf(entry.gguf) }
}

/** Maps every HF tensor name, failing with the names it does not know (a different architecture, or a bad file). */
export function mapHfTensorNames(arch: ArchitectureInfo, hfNames: string[], file: string): TensorNameMapping[] {
  const mapped: TensorNameMapping[] = []
  const unknown: string[] = []
  for (const name of hfNames) {
    const mapping = ggufNameForHf(arch, name)
    if (mapping === null) continue
    if (mapping === undefined) unknown.push(name)
    else mapped.push(mapping)
  }
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 5).join(', ') + (unknown.length > 5 ? ` and ${unknown.length - 5} more` : '')
    throw new LecternError('unsupported_model', `${file}: tensors not part of the ${arch.name} architecture: ${shown}`, { file })
  }
  return mapped
}

function roleOf(ggufSuffix: string): QueryKeyRole {
  if (ggufSuffix.startsWith('attn_q.')) return 'query'
  if (ggufSuffix.startsWith('attn_k.')) return 'key'
  return null
}

/**
 * Reorders the rows of a q or k projection between HF's half-split RoPE layout and llama.cpp's interleaved
 * one. `rows` holds `heads` heads of `headDim` rows each, `rowLength` values per row. Within a head, HF row
 * `half·D/2 + i` becomes llama.cpp row `2i + half`. `inverse` undoes it (GGUF → HF).
 */
export function permuteQueryKeyRows<T extends Float32Array | Float64Array>(rows: T, heads: number, rowLength: number, inverse = false): T {
  const headDim = rows.length / rowLength / heads
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new Error(`cannot permute ${rows.length} values into ${heads} heads of even size`)
  const out = new (rows.constructor as new (n: number) => T)(rows.length)
  const halfDim = headDim / 2
  for (let h = 0; h < heads; h++) {
    for (let half = 0; half < 2; half++) {
      for (let i = 0; i < halfDim; i++) {
        const hfRow = h * headDim + half * halfDim + i
        const ggufRow = h * headDim + 2 * i + half
        const [from, to] = inverse ? [ggufRow, hfRow] : [hfRow, ggufRow]
        out.set(rows.subarray(from * rowLength, (from + 1) * rowLength), to * rowLength)
      }
    }
  }
  return out
}
