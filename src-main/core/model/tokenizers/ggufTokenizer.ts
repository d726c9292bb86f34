import { GgufMetadataReader } from '../gguf/ggufMetadata.js'
import type { GgufMetadata, GgufValue } from '../gguf/ggufTypes.js'
import { checkTokenizerVocab, TOKENIZER_MODELS, unsupportedTokenizer, type TokenizerModelName, type TokenizerVocab } from './tokenizerVocab.js'

/** The GGUF keys of the tokenizer (gguf-py's Keys.Tokenizer), in the order convert_hf_to_gguf writes them. */
export const TOKENIZER_KEYS = {
  model: 'tokenizer.ggml.model',
  pre: 'tokenizer.ggml.pre',
  tokens: 'tokenizer.ggml.tokens',
  scores: 'tokenizer.ggml.scores',
  tokenTypes: 'tokenizer.ggml.token_type',
  merges: 'tokenizer.ggml.merges',
  bosId: 'tokenizer.ggml.bos_token_id',
  eosId: 'tokenizer.ggml.eos_token_id',
  unkId: 'tokenizer.ggml.unknown_token_id',
  padId: 'tokenizer.ggml.padding_token_id',
  addBos: 'tokenizer.ggml.add_bos_token',
  addEos: 'tokenizer.ggml.add_eos_token',
  addSpacePrefix: 'tokenizer.ggml.add_space_prefix',
  chatTemplate: 'tokenizer.chat_template',
} as const

/** Reads and checks the tokenizer of a GGUF file's metadata; errors name `fileName` and the key. */
export function readGgufTokenizer(metadata: GgufMetadata, fileName: string): TokenizerVocab {
  const m = new GgufMetadataReader(fileName, metadata)
  const K = TOKENIZER_KEYS
  const model = m.string(K.model)
  if (!(TOKENIZER_MODELS as readonly string[]).includes(model)) {
    unsupportedTokenizer(fileName, `unknown tokenizer model "${model}" in ${K.model} (supported: ${TOKENIZER_MODELS.join(', ')})`)
  }
  const vocab: TokenizerVocab = { model: model as TokenizerModelName, tokens: m.stringArray(K.tokens) }
  const set = <F extends keyof TokenizerVocab>(field: F, value: TokenizerVocab[F] | undefined): void => {
    if (value !== undefined) vocab[field] = value
  }
  set('pre', m.optionalString(K.pre))
  set('scores', m.optionalNumberArray(K.scores))
  set('tokenTypes', m.optionalNumberArray(K.tokenTypes))
  if (m.has(K.merges)) set('merges', m.stringArray(K.merges))
  set('bosId', m.optionalNumber(K.bosId))
  set('eosId', m.optionalNumber(K.eosId))
  set('unkId', m.optionalNumber(K.unkId))
  set('padId', m.optionalNumber(K.padId))
  set('addBos', m.optionalBool(K.addBos))
  set('addEos', m.optionalBool(K.addEos))
  set('addSpacePrefix', m.optionalBool(K.addSpacePrefix))
  set('chatTemplate', m.optionalString(K.chatTemplate))
  checkTokenizerVocab(vocab, fileName)
  return vocab
}

/** The `tokenizer.*` metadata for a vocabulary, with the value types gguf-py writes (ids u32, scores f32, types i32). */
export function ggufTokenizerEntries(vocab: TokenizerVocab): GgufMetadata {
  const K = TOKENIZER_KEYS
  const out: GgufMetadata = new Map()
  const put = (key: string, value: GgufValue | undefined): void => {
    if (value !== undefined) out.set(key, value)
  }
  const u32 = (value: number | undefined): GgufValue | undefined => (value === undefined ? undefined : { type: 'u32', value })
  const bool = (value: boolean | undefined): GgufValue | undefined => (value === undefined ? undefined : { type: 'bool', value })
  put(K.model, { type: 'string', value: vocab.model })
  put(K.pre, vocab.pre === undefined ? undefined : { type: 'string', value: vocab.pre })
  put(K.tokens, { type: 'array', elementType: 'string', value: vocab.tokens })
  put(K.scores, vocab.scores && { type: 'array', elementType: 'f32', value: vocab.scores })
  put(K.tokenTypes, vocab.tokenTypes && { type: 'array', elementType: 'i32', value: vocab.tokenTypes })
  put(K.merges, vocab.merges && { type: 'array', elementType: 'string', value: vocab.merges })
  put(K.bosId, u32(vocab.bosId))
  put(K.eosId, u32(vocab.eosId))
  put(K.unkId, u32(vocab.unkId))
  put(K.padId, u32(vocab.padId))
  put(K.addBos, bool(vocab.addBos))
  put(K.addEos, bool(vocab.addEos))
  put(K.addSpacePrefix, bool(vocab.addSpacePrefix))
  put(K.chatTemplate, vocab.chatTemplate === undefined ? undefined : { type: 'string', value: vocab.chatTemplate })
  return out
}
