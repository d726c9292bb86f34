import { join } from 'node:path'
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GgufMetadata } from '../../../../../src-main/core/model/gguf/ggufTypes.js'
import { Tokenizer } from '../../../../../src-main/core/model/tokenizers/Tokenizer.js'
import { tinyBpeTokenizerMetadata, tinyHfTokenizerFiles, tinySpmTokenizerMetadata, writeVocabOnlyGguf } from '../../../../fixtures/tokenizers/tinyTokenizers.js'
import { TOKENIZER_TEXTS } from '../../../../fixtures/tokenizers/tokenizerTexts.js'
import { useTempDirs } from '../../../../support/tempDir.js'

/**
 * Our Tokenizer against real llama.cpp (node-llama-cpp 3.21.1): for each tiny vocabulary, written as a GGUF
 * with only the tokenizer and the minimal llama hyper-parameters (no tensors) and loaded with `vocabOnly`,
 * every text must give llama.cpp's `tokenize(text, specialTokens)` ids and `detokenize` text.
 */

const withPre = (metadata: GgufMetadata, pre: string): GgufMetadata => new Map([...metadata, ['tokenizer.ggml.pre', { type: 'string', value: pre }]])

const VARIANTS: { name: string; metadata: () => GgufMetadata }[] = [
  { name: 'SPM', metadata: tinySpmTokenizerMetadata },
  {
    // convert_hf_to_gguf gives every token -1000 when a llama model has only tokenizer.json: all scores tie.
    name: 'SPM with tied scores',
    metadata: () => {
      const m = tinySpmTokenizerMetadata()
      const n = (m.get('tokenizer.ggml.tokens')!.value as string[]).length
      m.set('tokenizer.ggml.scores', { type: 'array', elementType: 'f32', value: new Array<number>(n).fill(-1000) })
      return m
    },
  },
  {
    name: 'SPM without space prefix',
    metadata: () => new Map([...tinySpmTokenizerMetadata(), ['tokenizer.ggml.add_space_prefix', { type: 'bool', value: false }]]),
  },
  { name: 'BPE qwen2', metadata: tinyBpeTokenizerMetadata },
  { name: 'BPE llama-bpe', metadata: () => withPre(tinyBpeTokenizerMetadata(), 'llama-bpe') },
  { name: 'BPE gpt-2', metadata: () => withPre(tinyBpeTokenizerMetadata(), 'gpt-2') },
  { name: 'BPE smollm', metadata: () => withPre(tinyBpeTokenizerMetadata(), 'smollm') },
]

const tempDir = useTempDirs()
let llama: Llama

beforeAll(async () => {
  llama = await getLlama({
    gpu: false,
    build: 'never',
    logLevel: LlamaLogLevel.error,
    // node-llama-cpp first simulates the load to estimate memory; without tensors that simulation fails (and it
    // falls back to its heuristic). The vocab-only load itself succeeds, so drop just those two lines.
    logger: (level, message) => {
      if (/missing tensor 'token_embd\.weight'|llama_model_load_from_file_impl: failed to load model/.test(message)) return
      console.error(`[node-llama-cpp ${level}] ${message}`)
    },
  })
})

afterAll(async () => {
  await llama?.dispose()
})

describe.each(VARIANTS)('$name vocabulary: our tokenizer equals llama.cpp', ({ name, metadata }) => {
  let model: LlamaModel
  let ours: Tokenizer

  beforeAll(async () => {
    const path = join(await tempDir(), 'vocab-only.gguf')
    const m = metadata()
    await writeVocabOnlyGguf(path, m)
    model = await llama.loadModel({ modelPath: path, vocabOnly: true, gpuLayers: 0 })
    ours = Tokenizer.fromGguf(m, path)
  })

  afterAll(async () => {
    await model?.dispose()
  })

  it('reports the same vocabulary kind and special tokens', () => {
    expect(String(model.vocabularyType)).toBe(ours.kind === 'llama' ? 'spm' : 'bpe')
    expect(model.tokens.bos ?? undefined).toBe(ours.bosId)
    expect(model.tokens.eos ?? undefined).toBe(ours.eosId)
    expect(model.tokens.shouldPrependBosToken).toBe(ours.addBos)
    expect(model.tokens.shouldAppendEosToken).toBe(ours.addEos)
  })

  it.each([false, true])('encodes %#: every text gives llama.cpp ids (specialTokens %s)', (specialTokens) => {
    for (const text of TOKENIZER_TEXTS) {
      expect(ours.encode(text, { parseSpecial: specialTokens }), `${name}: ${JSON.stringify(text)}`).toEqual(model.tokenize(text, specialTokens))
    }
  })

  it.each([false, true])('decodes %#: every text gives llama.cpp text (specialTokens %s)', (specialTokens) => {
    for (const text of TOKENIZER_TEXTS) {
      const ids = model.tokenize(text, true)
      for (const withBos of [false, true]) {
        const sequence = withBos && ours.bosId !== undefined ? [ours.bosId, ...ids] : ids
        expect(ours.decode(sequence, { renderSpecial: specialTokens }), `${name}: ${JSON.stringify(text)} bos=${withBos}`).toBe(
          model.detokenize(sequence as Token[], specialTokens),
        )
      }
    }
  })

  it('decodes every single token as llama.cpp does', () => {
    for (let id = 0; id < ours.vocabSize; id++) {
      for (const specialTokens of [false, true]) {
        expect(ours.decode([id], { renderSpecial: specialTokens }), `${name}: token ${id} ${JSON.stringify(ours.tokenText(id))}`).toBe(
          model.detokenize([id as Token], specialTokens),
        )
      }
    }
  })
})

describe.each(['spm', 'bpe'] as const)('%s tokenizer.json', (kind) => {
  it('gives llama.cpp ids for the GGUF made from it', async () => {
    const path = join(await tempDir(), `${kind}.gguf`)
    await writeVocabOnlyGguf(path, kind === 'spm' ? tinySpmTokenizerMetadata() : tinyBpeTokenizerMetadata())
    const model = await llama.loadModel({ modelPath: path, vocabOnly: true, gpuLayers: 0 })
    try {
      const fromHf = Tokenizer.fromHf(tinyHfTokenizerFiles(kind), `tiny-${kind}/tokenizer.json`)
      for (const text of TOKENIZER_TEXTS) expect(fromHf.encode(text, { parseSpecial: true }), JSON.stringify(text)).toEqual(model.tokenize(text, true))
    } finally {
      await model.dispose()
    }
  })
})
