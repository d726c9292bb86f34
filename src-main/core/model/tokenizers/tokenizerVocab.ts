import { LecternError } from '../../../shared/errors.js'

/** `tokenizer.ggml.token_type` values (llama.cpp's llama_token_type; gguf-py's TokenType). */
export const TOKEN_TYPE = { undefined: 0, normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const
export type TokenType = (typeof TOKEN_TYPE)[keyof typeof TOKEN_TYPE]

/** `tokenizer.ggml.model` values we read and write: SentencePiece-style (`llama`) and byte-level BPE (`gpt2`). */
export const TOKENIZER_MODELS = ['llama', 'gpt2'] as const
export type TokenizerModelName = (typeof TOKENIZER_MODELS)[number]

/**
 * Everything a GGUF file says about its tokenizer, as plain data. Optional fields are the optional GGUF keys:
 * `undefined` means the key is absent (llama.cpp then uses its default), so conversions write back exactly the
 * keys they read.
 */
export interface TokenizerVocab {
  model: TokenizerModelName
  /** `tokenizer.ggml.pre`: the pre-tokenizer; `default` for `llama` (convert_hf_to_gguf writes that). */
  pre?: string
  /** Token texts by id: `▁` for spaces in `llama`, GPT-2's byte-to-unicode symbols (`Ġ`) in `gpt2`. */
  tokens: string[]
  /** `tokenizer.ggml.scores` (f32): `llama` merges the adjacent pair whose joined text scores highest. */
  scores?: number[]
  /** `tokenizer.ggml.token_type` (i32), see TOKEN_TYPE. */
  tokenTypes?: number[]
  /** `tokenizer.ggml.merges` (`gpt2` only): `"left right"`, best first. */
  merges?: string[]
  bosId?: number
  eosId?: number
  unkId?: number
  padId?: number
  addBos?: boolean
  addEos?: boolean
  /** `tokenizer.ggml.add_space_prefix` (`llama`): prepend a space to text that starts a fragment. */
  addSpacePrefix?: boolean
  /** `tokenizer.chat_template` (Jinja). */
  chatTemplate?: string
}

export function tokenizerError(fileName: string, message: string): never {
  throw new LecternError('invalid_model_file', `${fileName}: ${message}`, { file: fileName })
}

export function unsupportedTokenizer(fileName: string, message: string): never {
  throw new LecternError('unsupported_model', `${fileName}: ${message}`, { file: fileName })
}

/** The token type, treating a missing `token_type` array as llama.cpp does (every token normal). */
export function tokenTypeOf(vocab: TokenizerVocab, id: number): number {
  return vocab.tokenTypes?.[id] ?? TOKEN_TYPE.normal
}

/**
 * Checks what llama.cpp and Hugging Face tokenizers would refuse or silently get wrong: array lengths, unknown
 * token types, duplicate or empty token texts, merges over unknown tokens, and special ids out of range.
 */
export function checkTokenizerVocab(vocab: TokenizerVocab, fileName: string): void {
  if (!(TOKENIZER_MODELS as readonly string[]).includes(vocab.model)) {
    unsupportedTokenizer(fileName, `unknown tokenizer model "${vocab.model}" (supported: ${TOKENIZER_MODELS.join(', ')})`)
  }
  const n = vocab.tokens.length
  if (n === 0) tokenizerError(fileName, 'the tokenizer has no tokens')
  const sameLength = (name: string, values: unknown[] | undefined): void => {
    if (values !== undefined && values.length !== n) tokenizerError(fileName, `tokenizer has ${n} tokens but ${values.length} ${name}`)
  }
  sameLength('scores', vocab.scores)
  sameLength('token types', vocab.tokenTypes)
  vocab.scores?.forEach((score, id) => {
    if (!Number.isFinite(score)) tokenizerError(fileName, `token ${id} has score ${score}`)
  })
  vocab.tokenTypes?.forEach((type, id) => {
    if (!Number.isInteger(type) || type < TOKEN_TYPE.undefined || type > TOKEN_TYPE.byte) tokenizerError(fileName, `token ${id} has unknown token type ${type}`)
  })

  const seen = new Map<string, number>()
  vocab.tokens.forEach((text, id) => {
    if (text === '') tokenizerError(fileName, `token ${id} is empty`)
    const earlier = seen.get(text)
    if (earlier !== undefined) tokenizerError(fileName, `token text ${JSON.stringify(text)} appears twice (ids ${earlier} and ${id})`)
    seen.set(text, id)
  })

  if (vocab.model === 'gpt2') {
    if (vocab.merges === undefined || vocab.merges.length === 0) tokenizerError(fileName, 'a gpt2 (byte-level BPE) tokenizer needs merges')
  }
  vocab.merges?.forEach((merge, rank) => {
    const [left, right] = splitMerge(merge)
    if (left === undefined || right === undefined) tokenizerError(fileName, `merge ${rank} ${JSON.stringify(merge)} is not "left right"`)
    for (const part of [left, right, left + right]) {
      if (!seen.has(part)) tokenizerError(fileName, `merge ${rank} ${JSON.stringify(merge)} refers to unknown token ${JSON.stringify(part)}`)
    }
  })

  for (const [name, id] of [['bos', vocab.bosId], ['eos', vocab.eosId], ['unknown', vocab.unkId], ['padding', vocab.padId]] as const) {
    if (id !== undefined && (!Number.isInteger(id) || id < 0 || id >= n)) tokenizerError(fileName, `${name} token id ${id} is outside the vocabulary (${n} tokens)`)
  }
}

/** Splits a GGUF merge `"left right"` at the first space after the first character, as llama.cpp does. */
export function splitMerge(merge: string): [string | undefined, string | undefined] {
  const at = merge.indexOf(' ', 1)
  return at < 0 ? [undefined, undefined] : [merge.slice(0, at), merge.slice(at + 1)]
}
