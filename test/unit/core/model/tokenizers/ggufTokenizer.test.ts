import { describe, expect, it } from 'vitest'
import type { GgufMetadata, GgufValue } from '../../../../../src-main/core/model/gguf/ggufTypes.js'
import { readGgufTokenizer } from '../../../../../src-main/core/model/tokenizers/ggufTokenizer.js'
import { Tokenizer } from '../../../../../src-main/core/model/tokenizers/Tokenizer.js'
import { tokenizerFromGguf } from '../../../../../src-main/core/model/tokenizers/tokenizerFromGguf.js'
import { LecternError } from '../../../../../src-main/shared/errors.js'
import { tinyBpeTokenizerMetadata, tinySpmTokenizerMetadata } from '../../../../fixtures/tokenizers/tinyTokenizers.js'

function changed(metadata: GgufMetadata, key: string, value: GgufValue | undefined): GgufMetadata {
  const out = new Map(metadata)
  if (value === undefined) out.delete(key)
  else out.set(key, value)
  return out
}

function expectError(run: () => unknown, code: string, pattern: RegExp): void {
  let caught: unknown
  try {
    run()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(LecternError)
  expect((caught as LecternError).code).toBe(code)
  expect((caught as LecternError).message).toMatch(new RegExp(`^model\\.gguf: ${pattern.source}`))
  expect((caught as LecternError).file).toBe('model.gguf')
}

const spm = tinySpmTokenizerMetadata()
const bpe = tinyBpeTokenizerMetadata()
const tokenCount = (spm.get('tokenizer.ggml.tokens')!.value as string[]).length

describe('malformed GGUF tokenizer metadata', () => {
  // Every entry point (GGUF → tokenizer.json, Tokenizer.fromGguf, readGgufTokenizer) checks the same way.
  const entryPoints = [
    ['readGgufTokenizer', (m: GgufMetadata) => readGgufTokenizer(m, 'model.gguf')],
    ['tokenizerFromGguf', (m: GgufMetadata) => tokenizerFromGguf(m, 'model.gguf')],
    ['Tokenizer.fromGguf', (m: GgufMetadata) => Tokenizer.fromGguf(m, 'model.gguf')],
  ] as const

  it.each(entryPoints)('%s: tokens and scores of different lengths', (_, run) => {
    const scores = changed(spm, 'tokenizer.ggml.scores', { type: 'array', elementType: 'f32', value: [0, -1] })
    expectError(() => run(scores), 'invalid_model_file', new RegExp(`tokenizer has ${tokenCount} tokens but 2 scores`))
  })

  it.each(entryPoints)('%s: merges over unknown tokens', (_, run) => {
    const merges = bpe.get('tokenizer.ggml.merges')!.value as string[]
    const bad = changed(bpe, 'tokenizer.ggml.merges', { type: 'array', elementType: 'string', value: [...merges, 'Ġthe zz'] })
    expectError(() => run(bad), 'invalid_model_file', new RegExp(`merge ${merges.length} "Ġthe zz" refers to unknown token "zz"`))
  })

  it.each(entryPoints)('%s: unknown tokenizer model', (_, run) => {
    expectError(() => run(changed(spm, 'tokenizer.ggml.model', { type: 'string', value: 'bert' })), 'unsupported_model', /unknown tokenizer model "bert" .*\(supported: llama, gpt2\)/)
  })

  it('token types of the wrong length or value', () => {
    expectError(() => readGgufTokenizer(changed(spm, 'tokenizer.ggml.token_type', { type: 'array', elementType: 'i32', value: [1] }), 'model.gguf'), 'invalid_model_file', /tokenizer has \d+ tokens but 1 token types/)
    const types = [...(spm.get('tokenizer.ggml.token_type')!.value as number[])]
    types[7] = 9
    expectError(() => readGgufTokenizer(changed(spm, 'tokenizer.ggml.token_type', { type: 'array', elementType: 'i32', value: types }), 'model.gguf'), 'invalid_model_file', /token 7 has unknown token type 9/)
  })

  it('missing or mistyped keys', () => {
    expectError(() => readGgufTokenizer(changed(spm, 'tokenizer.ggml.tokens', undefined), 'model.gguf'), 'invalid_model_file', /required metadata key tokenizer\.ggml\.tokens is missing/)
    expectError(
      () => readGgufTokenizer(changed(spm, 'tokenizer.ggml.scores', { type: 'array', elementType: 'string', value: ['x'] }), 'model.gguf'),
      'invalid_model_file',
      /metadata tokenizer\.ggml\.scores should be an array of numbers/,
    )
    expectError(() => readGgufTokenizer(changed(bpe, 'tokenizer.ggml.merges', undefined), 'model.gguf'), 'invalid_model_file', /a gpt2 \(byte-level BPE\) tokenizer needs merges/)
  })

  it('duplicate token texts and special ids outside the vocabulary', () => {
    const tokens = [...(spm.get('tokenizer.ggml.tokens')!.value as string[])]
    tokens[4] = tokens[3]!
    expectError(() => readGgufTokenizer(changed(spm, 'tokenizer.ggml.tokens', { type: 'array', elementType: 'string', value: tokens }), 'model.gguf'), 'invalid_model_file', /token text "<0x00>" appears twice \(ids 3 and 4\)/)
    expectError(() => readGgufTokenizer(changed(spm, 'tokenizer.ggml.eos_token_id', { type: 'u32', value: 99999 }), 'model.gguf'), 'invalid_model_file', /eos token id 99999 is outside the vocabulary/)
  })

  it('pre-tokenizers llama.cpp knows but we do not, and a missing one', () => {
    expectError(() => Tokenizer.fromGguf(changed(bpe, 'tokenizer.ggml.pre', { type: 'string', value: 'falcon' }), 'model.gguf'), 'unsupported_model', /unsupported pre-tokenizer "falcon" \(supported: qwen2, llama-bpe, gpt-2, smollm\)/)
    expectError(() => tokenizerFromGguf(changed(bpe, 'tokenizer.ggml.pre', undefined), 'model.gguf'), 'unsupported_model', /the gpt2 tokenizer has no tokenizer\.ggml\.pre/)
  })
})
