import type { GgufMetadata, GgufValue } from '../../src-main/core/model/gguf/ggufTypes.js'

/**
 * `tokenizer.*` metadata for a SentencePiece-style (`llama`) vocabulary of exactly `vocabSize` tokens: `<unk>`,
 * `<s>`, `</s>`, the 256 byte tokens `<0x00>`…`<0xFF>`, then `tok259`, `tok260`, … with falling scores. It only has
 * to be the right size and shape for a benchmark: about as many bytes of metadata as a real 32k vocabulary.
 */
export function syntheticTokenizerMetadata(vocabSize: number): GgufMetadata {
  const hex = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0')
  const special = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, b) => `<0x${hex(b)}>`)]
  if (vocabSize < special.length + 1) throw new Error(`vocabSize ${vocabSize} is too small: ${special.length} special and byte tokens come first`)
  const tokens = Array.from({ length: vocabSize }, (_, i) => special[i] ?? `tok${i}`)
  // token_type: 2 unknown, 3 control, 6 byte, 1 normal (llama.cpp's llama_token_type).
  const types = tokens.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < special.length ? 6 : 1))
  const u32 = (value: number): GgufValue => ({ type: 'u32', value })
  return new Map<string, GgufValue>([
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'default' }],
    ['tokenizer.ggml.tokens', { type: 'array', elementType: 'string', value: tokens }],
    ['tokenizer.ggml.scores', { type: 'array', elementType: 'f32', value: tokens.map((_, i) => (i < special.length ? 0 : -(i - special.length))) }],
    ['tokenizer.ggml.token_type', { type: 'array', elementType: 'i32', value: types }],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
  ])
}
