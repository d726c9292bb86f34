import { Tokenizer as HfLibraryTokenizer } from '@huggingface/tokenizers'
import { describe, expect, it } from 'vitest'
import type { GgufMetadata } from '../../../../../src-main/core/model/gguf/ggufTypes.js'
import { ggufTokenizerMetadata } from '../../../../../src-main/core/model/tokenizers/ggufTokenizerMetadata.js'
import { Tokenizer } from '../../../../../src-main/core/model/tokenizers/Tokenizer.js'
import { tokenizerFromGguf } from '../../../../../src-main/core/model/tokenizers/tokenizerFromGguf.js'
import { tinyTokenizerMetadata, type TinyTokenizerKind } from '../../../../fixtures/tokenizers/tinyTokenizers.js'
import { TOKENIZER_TEXTS } from '../../../../fixtures/tokenizers/tokenizerTexts.js'

const KINDS: TinyTokenizerKind[] = ['spm', 'bpe']

/** GGUF → tokenizer.json files on disk (as JSON text) → GGUF. */
function roundTrip(metadata: GgufMetadata, vocabSize?: number): GgufMetadata {
  const files = tokenizerFromGguf(metadata, 'model.gguf')
  const onDisk = { tokenizerJson: JSON.parse(JSON.stringify(files.tokenizerJson)), tokenizerConfig: JSON.parse(JSON.stringify(files.tokenizerConfig)) }
  return ggufTokenizerMetadata(onDisk, 'model/tokenizer.json', vocabSize === undefined ? {} : { vocabSize })
}

describe.each(KINDS)('%s: GGUF metadata → tokenizer.json → GGUF metadata', (kind) => {
  it('gives back the same keys, values, value types and order', () => {
    const metadata = tinyTokenizerMetadata(kind)
    expect([...roundTrip(metadata).entries()]).toEqual([...metadata.entries()])
  })

  it('writes a tokenizer.json that Hugging Face tokenizers runs to the same ids as llama.cpp', () => {
    // @huggingface/tokenizers runs the whole HF pipeline here: added tokens, normalizer, pre-tokenizer, BPE,
    // post-processor (BOS). Our Tokenizer matches llama.cpp (test/integration/…/llamaCppTokenizerParity).
    const files = tokenizerFromGguf(tinyTokenizerMetadata(kind), 'model.gguf')
    const hf = new HfLibraryTokenizer(files.tokenizerJson, files.tokenizerConfig)
    const ours = Tokenizer.fromGguf(tinyTokenizerMetadata(kind), 'model.gguf')
    for (const text of TOKENIZER_TEXTS) {
      const ids = ours.encode(text, { addSpecial: true, parseSpecial: true })
      expect(hf.encode(text).ids, JSON.stringify(text)).toEqual(ids)
      if (ids.length > 0) expect(hf.decode(ids, { skip_special_tokens: false }), JSON.stringify(text)).toBe(ours.decode(ids, { renderSpecial: true }))
    }
  })

  it('keeps [PAD<id>] padding out of tokenizer.json and restores it from the vocabulary size', () => {
    const metadata = tinyTokenizerMetadata(kind)
    const tokens = metadata.get('tokenizer.ggml.tokens')!.value as string[]
    const n = tokens.length
    const padded: GgufMetadata = new Map(
      [...metadata].map(([key, value]): [string, typeof value] => {
        if (key === 'tokenizer.ggml.tokens') return [key, { type: 'array', elementType: 'string', value: [...tokens, `[PAD${n}]`, `[PAD${n + 1}]`] }]
        if (key === 'tokenizer.ggml.token_type') return [key, { type: 'array', elementType: 'i32', value: [...(value.value as number[]), 5, 5] }]
        if (key === 'tokenizer.ggml.scores') return [key, { type: 'array', elementType: 'f32', value: [...(value.value as number[]), -10000, -10000] }]
        return [key, value]
      }),
    )
    const json = tokenizerFromGguf(padded, 'model.gguf').tokenizerJson as { model: { vocab: Record<string, number> } }
    expect(Object.keys(json.model.vocab)).not.toContain(`[PAD${n}]`)
    expect([...roundTrip(padded, n + 2).entries()]).toEqual([...padded.entries()])
  })
})

describe('tokenizer.json layout', () => {
  it('writes SentencePiece-style vocabularies as Llama does: BPE with byte fallback, ▁, <s> template', () => {
    const { tokenizerJson: json, tokenizerConfig: config } = tokenizerFromGguf(tinyTokenizerMetadata('spm'), 'model.gguf')
    const model = json['model'] as Record<string, unknown>
    expect(model).toMatchObject({ type: 'BPE', byte_fallback: true, fuse_unk: true, unk_token: '<unk>' })
    expect((model['vocab'] as Record<string, number>)['<0x0A>']).toBe(3 + 0x0a)
    expect(model['merges']).toContainEqual(['▁', 't'])
    expect(json['normalizer']).toEqual({
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    })
    expect((json['added_tokens'] as { content: string; special: boolean }[]).map((t) => [t.content, t.special])).toEqual([
      ['<unk>', true],
      ['<s>', true],
      ['</s>', true],
      ['<|im_start|>', true],
      ['<|im_end|>', true],
    ])
    expect(json['post_processor']).toMatchObject({ type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>' } }, { Sequence: { id: 'A' } }] })
    expect(config).toMatchObject({ add_bos_token: true, add_eos_token: false, bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', legacy: true })
    expect(config['chat_template']).toContain('<|im_start|>')
  })

  it('writes byte-level vocabularies as Qwen2 does: specials only in added_tokens, Split + ByteLevel', () => {
    const { tokenizerJson: json, tokenizerConfig: config } = tokenizerFromGguf(tinyTokenizerMetadata('bpe'), 'model.gguf')
    const model = json['model'] as { vocab: Record<string, number>; merges: string[][]; byte_fallback: boolean }
    expect(model.byte_fallback).toBe(false)
    expect(model.vocab).not.toHaveProperty('<|im_end|>')
    expect(model.vocab['Ġthe']).toBeGreaterThan(255)
    expect(model.merges[0]).toHaveLength(2)
    expect(json['pre_tokenizer']).toMatchObject({ type: 'Sequence', pretokenizers: [{ type: 'Split', behavior: 'Isolated' }, { type: 'ByteLevel', use_regex: false }] })
    expect((json['added_tokens'] as { content: string }[]).map((t) => t.content)).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>'])
    expect(config).toMatchObject({ add_bos_token: false, bos_token: '<|endoftext|>', eos_token: '<|im_end|>', pad_token: '<|endoftext|>', unk_token: null })
  })
})
