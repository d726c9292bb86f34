import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ModelHyperparameters } from '../../../src-main/core/model/hyperparameters.js'
import { Tokenizer } from '../../../src-main/core/model/tokenizers/Tokenizer.js'
import { openModel } from '../../../src-main/core/modelFiles/openModel.js'
import { decoderWeightRequests, prepareBaseWeights, type PreparedBaseWeights } from '../../../src-main/core/train/baseWeights.js'
import { packSequences, readTrainingJsonl, tokenizeExamples, type PackedDataset } from '../../../src-main/core/train/trainingData.js'
import { writeTinyGgufModel } from '../../fixtures/tinyModels.js'
import { uuidPairsJsonl, type UuidPair } from './uuidPairs.js'

export interface MemorizationModelOptions {
  /** C. Defaults to `128`. */
  embeddingLength?: number
  /** Defaults to `2`. */
  blockCount?: number
  /** F. Defaults to `2 × embeddingLength`. */
  feedForwardLength?: number
  /** H (= KV heads, so every projection is C → C or C ↔ F). Defaults to `4`. */
  headCount?: number
  /** Scales the random base weights (`tinyWeights`); lower is a flatter base. Defaults to `0.15`. */
  gain?: number
  /** Seed of the base weights. Defaults to `1`. */
  seed?: number
}

/** A random-weight base model with the pairs tokenized and packed the way a training run does it. */
export interface MemorizationSetup {
  dir: string
  modelPath: string
  h: ModelHyperparameters
  tokenizer: Tokenizer
  base: PreparedBaseWeights
  pairs: readonly UuidPair[]
  /** One window per pair, aligned: window k is pair k from BOS to EOS (see `prepareMemorization`). */
  dataset: PackedDataset
  /** Tokens of every example: BOS, the key and separator (the prompt, P tokens), the value (n tokens), EOS. */
  examples: number[][]
  /** P: tokens before the value, the same for every pair. */
  promptTokens: number
  /** n: tokens of each value, the same for every pair (one per hex digit). */
  valueTokens: number
}

/**
 * Writes a tiny llama (SentencePiece tokenizer) under `dir`, the pairs as {"prompt","response"} JSONL, and then
 * goes through the app's own data path: `readTrainingJsonl` → `tokenizeExamples` (only the value and its EOS carry
 * loss weight) → `packSequences`, and `prepareBaseWeights`. Every example has the same length L, and the windows
 * are cut with T = L, so each window holds exactly one pair, from BOS to EOS (its last target, the next pair's
 * BOS, has weight 0): no value is ever cut off from its key.
 */
export async function prepareMemorization(dir: string, pairs: readonly UuidPair[], options: MemorizationModelOptions = {}): Promise<MemorizationSetup> {
  const { embeddingLength = 128, blockCount = 2, feedForwardLength = 2 * embeddingLength, headCount = 4, gain = 0.15, seed = 1 } = options
  const model = await writeTinyGgufModel(dir, {
    architecture: 'llama',
    tokenizer: 'spm',
    gain,
    seed,
    hyperparameters: { embeddingLength, blockCount, feedForwardLength, headCount, headCountKv: headCount, headDim: embeddingLength / headCount },
  })
  const dataPath = join(dir, 'pairs.jsonl')
  await writeFile(dataPath, uuidPairsJsonl(pairs))
  const opened = await openModel(model.ggufPath)
  try {
    const h = opened.source.hyperparameters
    const tokenizer = Tokenizer.fromGguf(opened.source.tokenizer, opened.source.name)
    const tokenized = tokenizeExamples((await readTrainingJsonl(dataPath)).examples, tokenizer)
    const length = tokenized[0]!.ids.length
    const promptTokens = tokenized[0]!.weights.indexOf(1)
    const valueTokens = length - promptTokens - 1
    for (const [i, example] of tokenized.entries()) {
      const counted = example.weights.slice(promptTokens).every((w) => w === 1) && example.weights.slice(0, promptTokens).every((w) => w === 0)
      if (example.ids.length !== length || !counted || valueTokens !== pairs[i]!.value.length) {
        throw new Error(`pair ${i} (${pairs[i]!.key}) does not tokenize to ${promptTokens} prompt + one token per hex digit + EOS`)
      }
    }
    const dataset = packSequences(tokenized, length)
    if (dataset.sequenceCount !== pairs.length) throw new Error(`expected one window per pair, got ${dataset.sequenceCount} for ${pairs.length}`)
    const base = await prepareBaseWeights(opened.source, model.ggufPath, decoderWeightRequests(h), join(dir, 'cache'))
    return { dir, modelPath: model.ggufPath, h, tokenizer, base, pairs, dataset, examples: tokenized.map((t) => t.ids), promptTokens, valueTokens }
  } finally {
    await opened.close()
  }
}
