import { LecternError } from '../../shared/errors.js'
import { architectureFromGguf, architectureFromHfConfig, type ArchitectureInfo, type ArchitectureName } from './architectures.js'
import { GgufMetadataReader } from './gguf/ggufMetadata.js'
import type { GgufMetadata, GgufValue } from './gguf/ggufTypes.js'

/** The shape of a Llama-family decoder, independent of the file format it came from. */
export interface ModelHyperparameters {
  architecture: ArchitectureName
  vocabSize: number
  contextLength: number
  /** E: the residual width. */
  embeddingLength: number
  blockCount: number
  /** F: the SwiGLU hidden width. */
  feedForwardLength: number
  headCount: number
  headCountKv: number
  /** D: per-head width; usually E / headCount, explicit in Qwen3. */
  headDim: number
  rmsNormEps: number
  ropeTheta: number
  /** The LM head reuses the token embedding (no separate output.weight / lm_head.weight). */
  tiedEmbeddings: boolean
}

type HfConfig = Record<string, unknown>

/** Reads a Hugging Face config.json object, naming the file and the field on any problem. */
export function hyperparametersFromHfConfig(config: HfConfig, file: string): ModelHyperparameters {
  const arch: ArchitectureInfo = architectureFromHfConfig(config, file)
  const int = (key: string, fallback?: number): number => {
    const value = config[key] ?? fallback
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new LecternError('invalid_model_file', `${file}: ${key} must be a positive integer (found ${JSON.stringify(config[key])})`, { file })
    }
    return value
  }
  const positive = (key: string, fallback: number): number => {
    const value = config[key] ?? fallback
    if (typeof value !== 'number' || !(value > 0)) throw new LecternError('invalid_model_file', `${file}: ${key} must be a positive number`, { file })
    return value
  }
  const embeddingLength = int('hidden_size')
  const headCount = int('num_attention_heads')
  const headDim = int('head_dim', embeddingLength / headCount)
  const scaling = config['rope_scaling']
  if (scaling !== null && scaling !== undefined) {
    const kind = (scaling as { rope_type?: unknown; type?: unknown }).rope_type ?? (scaling as { type?: unknown }).type
    throw new LecternError('unsupported_model', `${file}: rope_scaling "${String(kind)}" is not supported yet`, { file })
  }
  return {
    architecture: arch.name,
    vocabSize: int('vocab_size'),
    contextLength: int('max_position_embeddings', 2048),
    embeddingLength,
    blockCount: int('num_hidden_layers'),
    feedForwardLength: int('intermediate_size'),
    headCount,
    headCountKv: int('num_key_value_heads', headCount),
    headDim,
    rmsNormEps: positive('rms_norm_eps', 1e-6),
    ropeTheta: positive('rope_theta', 10000),
    tiedEmbeddings: config['tie_word_embeddings'] === true,
  }
}

/** A config.json for these hyper-parameters, as transformers writes it for the architecture. */
export function hfConfigFromHyperparameters(h: ModelHyperparameters, tokens: { bos: number | null; eos: number | null }): HfConfig {
  const arch = architectureFromGguf(h.architecture, 'config.json')
  return {
    architectures: [arch.hfClasses[0]],
    model_type: arch.hfModelType,
    vocab_size: h.vocabSize,
    max_position_embeddings: h.contextLength,
    hidden_size: h.embeddingLength,
    num_hidden_layers: h.blockCount,
    intermediate_size: h.feedForwardLength,
    num_attention_heads: h.headCount,
    num_key_value_heads: h.headCountKv,
    head_dim: h.headDim,
    hidden_act: 'silu',
    rms_norm_eps: h.rmsNormEps,
    rope_theta: h.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: h.tiedEmbeddings,
    attention_bias: arch.hasQkvBias,
    torch_dtype: 'float32',
    ...(tokens.bos === null ? {} : { bos_token_id: tokens.bos }),
    ...(tokens.eos === null ? {} : { eos_token_id: tokens.eos }),
  }
}

/** The `<arch>.*` keys llama.cpp reads for these hyper-parameters (a GGUF's model section). */
export function ggufHyperparameterMetadata(h: ModelHyperparameters): GgufMetadata {
  const a = h.architecture
  const u32 = (value: number): GgufValue => ({ type: 'u32', value })
  const f32 = (value: number): GgufValue => ({ type: 'f32', value })
  const entries: [string, GgufValue][] = [
    ['general.architecture', { type: 'string', value: a }],
    [`${a}.vocab_size`, u32(h.vocabSize)],
    [`${a}.context_length`, u32(h.contextLength)],
    [`${a}.embedding_length`, u32(h.embeddingLength)],
    [`${a}.block_count`, u32(h.blockCount)],
    [`${a}.feed_forward_length`, u32(h.feedForwardLength)],
    [`${a}.attention.head_count`, u32(h.headCount)],
    [`${a}.attention.head_count_kv`, u32(h.headCountKv)],
    [`${a}.attention.layer_norm_rms_epsilon`, f32(h.rmsNormEps)],
    [`${a}.rope.freq_base`, f32(h.ropeTheta)],
    [`${a}.rope.dimension_count`, u32(h.headDim)],
  ]
  if (h.headDim * h.headCount !== h.embeddingLength) {
    entries.push([`${a}.attention.key_length`, u32(h.headDim)], [`${a}.attention.value_length`, u32(h.headDim)])
  }
  return new Map(entries)
}

/** Reads the model section of GGUF metadata; `tensorNames` tells whether the LM head is tied. */
export function hyperparametersFromGguf(metadata: GgufMetadata, file: string, tensorNames: readonly string[]): ModelHyperparameters {
  const m = new GgufMetadataReader(file, metadata)
  const arch = architectureFromGguf(m.string('general.architecture'), file)
  const a = arch.name
  const embeddingLength = m.number(`${a}.embedding_length`)
  const headCount = m.number(`${a}.attention.head_count`)
  const scaling = m.optionalString(`${a}.rope.scaling.type`)
  if (scaling !== undefined && scaling !== 'none') {
    throw new LecternError('unsupported_model', `${file}: RoPE scaling "${scaling}" is not supported yet`, { file })
  }
  const tokens = metadata.get('tokenizer.ggml.tokens')
  const vocabSize = m.optionalNumber(`${a}.vocab_size`) ?? (tokens?.type === 'array' ? tokens.value.length : m.fail('vocabulary size unknown: no vocab_size and no tokenizer.ggml.tokens'))
  return {
    architecture: a,
    vocabSize,
    contextLength: m.number(`${a}.context_length`),
    embeddingLength,
    blockCount: m.number(`${a}.block_count`),
    feedForwardLength: m.number(`${a}.feed_forward_length`),
    headCount,
    headCountKv: m.optionalNumber(`${a}.attention.head_count_kv`) ?? headCount,
    headDim: m.optionalNumber(`${a}.attention.key_length`) ?? m.optionalNumber(`${a}.rope.dimension_count`) ?? embeddingLength / headCount,
    rmsNormEps: m.number(`${a}.attention.layer_norm_rms_epsilon`),
    ropeTheta: m.optionalNumber(`${a}.rope.freq_base`) ?? 10000,
    tiedEmbeddings: !tensorNames.includes('output.weight'),
  }
}

/** Every tensor of the model with its shape in PyTorch order ([out, in]); GGUF shapes are the reverse. */
export function expectedHfTensorShapes(h: ModelHyperparameters): Map<string, number[]> {
  const arch = architectureFromGguf(h.architecture, 'model')
  const E = h.embeddingLength
  const q = h.headCount * h.headDim
  const kv = h.headCountKv * h.headDim
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [h.vocabSize, E]]])
  for (let l = 0; l < h.blockCount; l++) {
    const p = `model.layers.${l}.`
    shapes.set(p + 'input_layernorm.weight', [E])
    shapes.set(p + 'self_attn.q_proj.weight', [q, E])
    shapes.set(p + 'self_attn.k_proj.weight', [kv, E])
    shapes.set(p + 'self_attn.v_proj.weight', [kv, E])
    if (arch.hasQkvBias) {
      shapes.set(p + 'self_attn.q_proj.bias', [q])
      shapes.set(p + 'self_attn.k_proj.bias', [kv])
      shapes.set(p + 'self_attn.v_proj.bias', [kv])
    }
    if (arch.hasQkNorm) {
      shapes.set(p + 'self_attn.q_norm.weight', [h.headDim])
      shapes.set(p + 'self_attn.k_norm.weight', [h.headDim])
    }
    shapes.set(p + 'self_attn.o_proj.weight', [E, q])
    shapes.set(p + 'post_attention_layernorm.weight', [E])
    shapes.set(p + 'mlp.gate_proj.weight', [h.feedForwardLength, E])
    shapes.set(p + 'mlp.up_proj.weight', [h.feedForwardLength, E])
    shapes.set(p + 'mlp.down_proj.weight', [E, h.feedForwardLength])
  }
  shapes.set('model.norm.weight', [E])
  if (!h.tiedEmbeddings) shapes.set('lm_head.weight', [h.vocabSize, E])
  return shapes
}
