import { describe, expect, it } from 'vitest'
import { LecternError } from '../../../../../src-main/shared/errors.js'
import { ggufTokenizerMetadata } from '../../../../../src-main/core/model/tokenizers/ggufTokenizerMetadata.js'
import { readHfTokenizer, type HfTokenizerFiles } from '../../../../../src-main/core/model/tokenizers/hfTokenizer.js'
import { Tokenizer } from '../../../../../src-main/core/model/tokenizers/Tokenizer.js'

const QWEN2_REGEX = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
const added = (id: number, content: string, special = true): object => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special })

/** A Llama-style tokenizer.json as recent transformers write it: Metaspace, string merges, <s> template. */
function llamaStyle(): HfTokenizerFiles {
  return {
    tokenizerJson: {
      added_tokens: [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')],
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
      post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }] },
      model: {
        type: 'BPE',
        unk_token: '<unk>',
        byte_fallback: true,
        vocab: { '<unk>': 0, '<s>': 1, '</s>': 2, '<0x0A>': 3, '▁': 4, a: 5, b: 6, '▁a': 7, ab: 8, '▁ab': 9 },
        merges: ['▁ a', 'a b', '▁a b', '▁ ab'],
      },
    },
    tokenizerConfig: { bos_token: { __type: 'AddedToken', content: '<s>' }, eos_token: '</s>', unk_token: '<unk>' },
    chatTemplateJinja: '{{ messages[0].content }}',
  }
}

/** A Qwen2-style tokenizer.json: NFC, Split + ByteLevel, specials beyond model.vocab. */
function qwenStyle(regex = QWEN2_REGEX): HfTokenizerFiles {
  return {
    tokenizerJson: {
      added_tokens: [added(4, '<|endoftext|>'), added(5, '<|fim_prefix|>', false), added(6, '<tool_call>', false)],
      normalizer: { type: 'NFC' },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
        ],
      },
      model: { type: 'BPE', vocab: { a: 0, b: 1, Ġ: 2, ab: 3 }, merges: [['a', 'b']] },
    },
    tokenizerConfig: { eos_token: '<|endoftext|>', pad_token: '<|endoftext|>', bos_token: null, chat_template: [{ name: 'default', template: 'T' }, { name: 'tool_use', template: 'U' }] },
  }
}

function expectError(run: () => unknown, code: string, pattern: RegExp): void {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(LecternError)
    expect((error as LecternError).code).toBe(code)
    expect((error as LecternError).message).toMatch(pattern)
    expect((error as LecternError).file).toBe('model/tokenizer.json')
    return
  }
  throw new Error('expected an error')
}

describe('ggufTokenizerMetadata from real-world tokenizer.json layouts', () => {
  it('reads a SentencePiece-style tokenizer: types, scores from merge ranks, BOS from the template', () => {
    const vocab = readHfTokenizer(llamaStyle(), 'model/tokenizer.json')
    expect(vocab).toMatchObject({ model: 'llama', pre: 'default', bosId: 1, eosId: 2, unkId: 0, addBos: true, chatTemplate: '{{ messages[0].content }}' })
    expect(vocab.tokenTypes).toEqual([2, 3, 3, 6, 1, 1, 1, 1, 1, 1])
    // ▁a, ab, ▁ab in merge order, then the normal tokens no merge makes (▁, a, b) by id.
    expect(vocab.scores).toEqual([0, 0, 0, 0, -3, -4, -5, 0, -1, -2])
    expect(vocab.addSpacePrefix).toBeUndefined()
    expect(vocab.merges).toBeUndefined()
  })

  it('writes the keys in convert_hf_to_gguf order with its value types', () => {
    const metadata = ggufTokenizerMetadata(llamaStyle(), 'model/tokenizer.json')
    expect([...metadata.keys()]).toEqual([
      'tokenizer.ggml.model',
      'tokenizer.ggml.pre',
      'tokenizer.ggml.tokens',
      'tokenizer.ggml.scores',
      'tokenizer.ggml.token_type',
      'tokenizer.ggml.bos_token_id',
      'tokenizer.ggml.eos_token_id',
      'tokenizer.ggml.unknown_token_id',
      'tokenizer.ggml.add_bos_token',
      'tokenizer.chat_template',
    ])
    expect(metadata.get('tokenizer.ggml.scores')).toMatchObject({ type: 'array', elementType: 'f32' })
    expect(metadata.get('tokenizer.ggml.token_type')).toMatchObject({ type: 'array', elementType: 'i32' })
    expect(metadata.get('tokenizer.ggml.bos_token_id')).toEqual({ type: 'u32', value: 1 })
  })

  it('marks a Prepend-less SentencePiece tokenizer add_space_prefix false', () => {
    const files = llamaStyle()
    files.tokenizerJson['pre_tokenizer'] = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: false }
    expect(readHfTokenizer(files, 'model/tokenizer.json').addSpacePrefix).toBe(false)
  })

  it('reads a Qwen2-style tokenizer: control and user-defined added tokens, merges, default chat template', () => {
    const vocab = readHfTokenizer(qwenStyle(), 'model/tokenizer.json')
    expect(vocab).toMatchObject({ model: 'gpt2', pre: 'qwen2', tokens: ['a', 'b', 'Ġ', 'ab', '<|endoftext|>', '<|fim_prefix|>', '<tool_call>'], merges: ['a b'], eosId: 4, padId: 4, chatTemplate: 'T' })
    // <|fim_prefix|> is not marked special but looks it (convert_hf_to_gguf's does_token_look_special).
    expect(vocab.tokenTypes).toEqual([1, 1, 1, 1, 3, 3, 4])
    expect(vocab.bosId).toBeUndefined()
    expect(vocab.scores).toBeUndefined()
  })

  it('recognises each supported pre-tokenizer by its structure', () => {
    const llama3 = QWEN2_REGEX.replace(String.raw`|\p{N}|`, String.raw`|\p{N}{1,3}|`)
    expect(readHfTokenizer(qwenStyle(llama3), 'model/tokenizer.json').pre).toBe('llama-bpe')
    const adapted = QWEN2_REGEX.replace(String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)`, String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`)
    expect(readHfTokenizer(qwenStyle(adapted), 'model/tokenizer.json').pre).toBe('qwen2')
    const gpt2 = qwenStyle()
    gpt2.tokenizerJson['pre_tokenizer'] = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }
    expect(readHfTokenizer(gpt2, 'model/tokenizer.json').pre).toBe('gpt-2')
    const smollm = qwenStyle()
    smollm.tokenizerJson['pre_tokenizer'] = { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, { type: 'ByteLevel', add_prefix_space: false, use_regex: true }] }
    expect(readHfTokenizer(smollm, 'model/tokenizer.json').pre).toBe('smollm')
  })

  it('pads ids up to the model vocabulary size with unused [PAD<id>] tokens', () => {
    const vocab = readHfTokenizer(qwenStyle(), 'model/tokenizer.json', { vocabSize: 9 })
    expect(vocab.tokens.slice(7)).toEqual(['[PAD7]', '[PAD8]'])
    expect(vocab.tokenTypes!.slice(7)).toEqual([5, 5])
  })

  it('gives the same ids from tokenizer.json as from the GGUF metadata made from it', () => {
    const fromHf = Tokenizer.fromHf(llamaStyle(), 'model/tokenizer.json')
    const fromGguf = Tokenizer.fromGguf(ggufTokenizerMetadata(llamaStyle(), 'model/tokenizer.json'), 'model.gguf')
    for (const text of ['ab a b', 'aab\nba', '<s>ab</s>']) expect(fromHf.encode(text, { addSpecial: true, parseSpecial: true })).toEqual(fromGguf.encode(text, { addSpecial: true, parseSpecial: true }))
    expect(fromHf.encode('ab', { addSpecial: true }).map((id) => fromHf.tokenText(id))).toEqual(['<s>', '▁ab'])
  })
})

describe('malformed tokenizer.json', () => {
  it('refuses a merge over an unknown token, naming the merge and the token', () => {
    const spm = llamaStyle()
    ;(spm.tokenizerJson['model'] as { merges: string[] }).merges.push('a c')
    expectError(() => ggufTokenizerMetadata(spm, 'model/tokenizer.json'), 'invalid_model_file', /merge 4 "a c" refers to unknown token "c"/)
    const bpe = qwenStyle()
    ;(bpe.tokenizerJson['model'] as { merges: string[][] }).merges.push(['b', 'a'])
    expectError(() => ggufTokenizerMetadata(bpe, 'model/tokenizer.json'), 'invalid_model_file', /merge 1 "b a" refers to unknown token "ba"/)
  })

  it('refuses a missing vocabulary, a malformed merge, and a special token that is no token', () => {
    const noVocab = qwenStyle()
    delete (noVocab.tokenizerJson['model'] as Record<string, unknown>)['vocab']
    expectError(() => readHfTokenizer(noVocab, 'model/tokenizer.json'), 'invalid_model_file', /model\.vocab is missing/)
    const badMerge = qwenStyle()
    ;(badMerge.tokenizerJson['model'] as { merges: unknown[] }).merges = ['a b c']
    expectError(() => readHfTokenizer(badMerge, 'model/tokenizer.json'), 'invalid_model_file', /merges\[0\] is not a pair/)
    const badBos = qwenStyle()
    badBos.tokenizerConfig!['bos_token'] = '<bos>'
    expectError(() => readHfTokenizer(badBos, 'model/tokenizer.json'), 'invalid_model_file', /bos_token "<bos>" is not a token/)
  })

  it('names what it does not support: other models and unknown pre-tokenizers', () => {
    const unigram = qwenStyle()
    ;(unigram.tokenizerJson['model'] as Record<string, unknown>)['type'] = 'Unigram'
    expectError(() => readHfTokenizer(unigram, 'model/tokenizer.json'), 'unsupported_model', /model type "Unigram" is not supported/)
    const other = qwenStyle(String.raw`\p{L}+|\s+`)
    expectError(() => readHfTokenizer(other, 'model/tokenizer.json'), 'unsupported_model', /pre-tokenizer we do not know \(supported: qwen2, llama-bpe, gpt-2, smollm\)/)
  })
})
