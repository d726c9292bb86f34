import { describe, expect, it } from 'vitest'
import { SpmEncoder } from '../../../../../src-main/core/model/tokenizers/SpmEncoder.js'
import { Tokenizer } from '../../../../../src-main/core/model/tokenizers/Tokenizer.js'
import { LecternError } from '../../../../../src-main/shared/errors.js'
import { TINY_WORDS, tinyBpeTokenizerMetadata, tinyHfTokenizerFiles, tinySpmTokenizerMetadata, tinyTokenizerMetadata } from '../../../../fixtures/tokenizers/tinyTokenizers.js'
import { TOKENIZER_TEXTS } from '../../../../fixtures/tokenizers/tokenizerTexts.js'

const spm = Tokenizer.fromGguf(tinySpmTokenizerMetadata(), 'tiny-spm.gguf')
const bpe = Tokenizer.fromGguf(tinyBpeTokenizerMetadata(), 'tiny-bpe.gguf')
const texts = (tokenizer: Tokenizer, ids: number[]): string[] => ids.map((id) => tokenizer.tokenText(id))

describe('tiny tokenizer fixtures', () => {
  it('build the same GGUF metadata and tokenizer.json every time', () => {
    for (const kind of ['spm', 'bpe'] as const) {
      expect(tinyTokenizerMetadata(kind)).toEqual(tinyTokenizerMetadata(kind))
      expect(tinyHfTokenizerFiles(kind)).toEqual(tinyHfTokenizerFiles(kind))
    }
  })

  it('have the promised shape', () => {
    expect(spm.vocabSize).toBeGreaterThan(400)
    expect(texts(spm, [0, 1, 2, 3, 258, 259, 260])).toEqual(['<unk>', '<s>', '</s>', '<0x00>', '<0xFF>', '<|im_start|>', '<|im_end|>'])
    expect([spm.bosId, spm.eosId, spm.addBos, spm.addEos]).toEqual([1, 2, true, false])
    expect(bpe.vocabSize).toBeGreaterThan(300)
    expect(texts(bpe, [0, bpe.vocabSize - 3, bpe.vocabSize - 2, bpe.vocabSize - 1])).toEqual(['!', '<|endoftext|>', '<|im_start|>', '<|im_end|>'])
    expect([bpe.tokenText(bpe.eosId!), bpe.addBos]).toEqual(['<|im_end|>', false])
  })

  it('tokenize each word as one token, with and without a space before it', () => {
    for (const word of TINY_WORDS) {
      expect(texts(spm, spm.encode(word)), word).toEqual([`▁${word}`])
      expect(texts(bpe, bpe.encode(word)), word).toEqual([word])
      expect(texts(bpe, bpe.encode(` ${word}`)), word).toEqual([`Ġ${word}`])
    }
  })
})

describe('Tokenizer', () => {
  it('adds BOS only where the model asks for it', () => {
    expect(spm.encode('the', { addSpecial: true })).toEqual([1, ...spm.encode('the')])
    expect(bpe.encode('the', { addSpecial: true })).toEqual(bpe.encode('the'))
  })

  it('matches control-token text only with parseSpecial, and puts a space after it in SPM', () => {
    expect(spm.encode('<|im_end|>', { parseSpecial: true })).toEqual([260])
    expect(spm.encode('<|im_end|>').length).toBeGreaterThan(1)
    expect(texts(spm, spm.encode('<|im_start|>the', { parseSpecial: true }))).toEqual(['<|im_start|>', '▁the'])
    expect(texts(bpe, bpe.encode('<|im_start|>the', { parseSpecial: true }))).toEqual(['<|im_start|>', 'the'])
  })

  it('decodes what it encodes, for every test text', () => {
    for (const tokenizer of [spm, bpe]) {
      for (const text of TOKENIZER_TEXTS) expect(tokenizer.decode(tokenizer.encode(text)), `${tokenizer.kind}: ${JSON.stringify(text)}`).toBe(text)
    }
  })

  it('writes control tokens only when asked', () => {
    const ids = bpe.encode('<|im_start|>user\nhi<|im_end|>', { parseSpecial: true })
    expect(bpe.decode(ids)).toBe('user\nhi')
    expect(bpe.decode(ids, { renderSpecial: true })).toBe('<|im_start|>user\nhi<|im_end|>')
    expect(spm.decode([1, ...spm.encode('the model')])).toBe(' the model')
    expect(() => spm.decode([spm.vocabSize])).toThrow(RangeError)
  })

  it('treats end-of-generation texts as control even when typed normal, as llama.cpp does', () => {
    const metadata = tinyBpeTokenizerMetadata()
    const types = [...(metadata.get('tokenizer.ggml.token_type')!.value as number[])]
    types[types.length - 1] = 1
    metadata.set('tokenizer.ggml.token_type', { type: 'array', elementType: 'i32', value: types })
    const t = Tokenizer.fromGguf(metadata, 'tiny-bpe.gguf')
    expect(t.encode('<|im_end|>', { parseSpecial: true })).toEqual([t.vocabSize - 1])
    expect(t.decode([t.vocabSize - 1])).toBe('')
  })

  it('gives the same ids from the tokenizer.json as from the GGUF metadata', () => {
    for (const kind of ['spm', 'bpe'] as const) {
      const fromGguf = kind === 'spm' ? spm : bpe
      const fromHf = Tokenizer.fromHf(tinyHfTokenizerFiles(kind), `tiny-${kind}/tokenizer.json`)
      for (const text of TOKENIZER_TEXTS) {
        for (const options of [{}, { addSpecial: true, parseSpecial: true }]) expect(fromHf.encode(text, options), JSON.stringify(text)).toEqual(fromGguf.encode(text, options))
      }
    }
  })

  it('renders the ChatML chat template with @huggingface/jinja', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is the model?' },
    ]
    const prompt = bpe.applyChatTemplate(messages, { addGenerationPrompt: true })
    expect(prompt).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is the model?<|im_end|>\n<|im_start|>assistant\n')
    const ids = bpe.encode(prompt, { parseSpecial: true })
    expect(ids[0]).toBe(bpe.vocabSize - 2)
    expect(ids.filter((id) => id === bpe.eosId)).toHaveLength(2)
    expect(spm.applyChatTemplate(messages)).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is the model?<|im_end|>\n')
  })

  it('says when the model has no chat template', () => {
    const metadata = tinySpmTokenizerMetadata()
    metadata.delete('tokenizer.chat_template')
    const t = Tokenizer.fromGguf(metadata, 'plain.gguf')
    expect(() => t.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(LecternError)
    expect(() => t.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/plain\.gguf: the model has no chat template/)
  })
})

describe('SpmEncoder (llama.cpp SPM merging)', () => {
  const tokens = ['<0x63>', '<0xC3>', '<0xA9>', 'a', 'b', 'c', 'ab', 'bc']
  const encode = (scores: number[], text: string): string[] => {
    const out: number[] = []
    new SpmEncoder(tokens, scores).encode(text, out)
    return out.map((id) => tokens[id]!)
  }

  it('joins the highest-scoring pair first', () => {
    expect(encode([0, 0, 0, 0, 0, 0, -2, -1], 'abc')).toEqual(['a', 'bc'])
    expect(encode([0, 0, 0, 0, 0, 0, -1, -2], 'abc')).toEqual(['ab', 'c'])
  })

  it('breaks ties to the leftmost pair, comparing scores as float32', () => {
    expect(encode([0, 0, 0, 0, 0, 0, -1, -1], 'abc')).toEqual(['ab', 'c'])
    // 0.1 and 0.1 + 1e-12 differ as doubles but not as float32: still a tie.
    expect(encode([0, 0, 0, 0, 0, 0, 0.1, 0.1 + 1e-12], 'abc')).toEqual(['ab', 'c'])
  })

  it('falls back to byte tokens for pieces outside the vocabulary', () => {
    expect(encode([0, 0, 0, 0, 0, 0, 0, 0], 'é')).toEqual(['<0xC3>', '<0xA9>'])
    expect(() => encode([0, 0, 0, 0, 0, 0, 0, 0], 'd')).toThrow(/no token for byte 0x64/)
  })
})
