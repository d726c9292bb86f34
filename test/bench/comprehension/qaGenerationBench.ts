/**
 * Output tokens per second of LLM mode's `LlamaQaGenerator` against `rawDecodeBaseline`, the ceiling it is
 * measured by: the same model file, the same layout (`contexts` contexts of one sequence and one thread), the same
 * chat-templated prompts and, per prompt, as many output tokens as the generator produced. A third run decodes
 * under the generator's JSON grammar too (still to the same lengths), to tell the grammar sampler's cost from the
 * generator's own. Rates are over wall time from the first prompt to the last output token, prefill included.
 * Figures are returned, never asserted.
 */
import type { Llama } from 'node-llama-cpp'
import { LlamaQaGenerator } from '../../../src-main/core/comprehension/generate/LlamaQaGenerator.js'
import type { QaGenerationResult } from '../../../src-main/core/comprehension/generate/QaGenerator.js'
import { buildQaPrompt } from '../../../src-main/core/comprehension/generate/qaPrompt.js'
import { rawDecodeBaseline, type RawDecodeBaselineResult } from '../../../src-main/core/comprehension/generate/rawDecodeBaseline.js'
import { TINY_WORDS } from '../../fixtures/tokenizers/tinyTokenizers.js'

/**
 * `count` passages of about `chars` characters in the tiny test tokenizers' own words (each one token there), so a
 * passage costs about as many tokens as English prose does in a real tokenizer (~4.5 characters per token) rather
 * than one or two per character. Deterministic for a seed.
 */
export function tinyVocabularyPassages(count: number, chars: number, seed: number): string[] {
  let state = (seed * 2654435761) >>> 0 || 1
  const next = (n: number): number => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state % n
  }
  return Array.from({ length: count }, () => {
    const sentences: string[] = []
    for (let length = 0; length < chars; ) {
      const words = Array.from({ length: 6 + next(12) }, () => TINY_WORDS[next(TINY_WORDS.length)]!)
      const sentence = `${words.join(' ')}.`
      sentences.push(sentence.charAt(0).toUpperCase() + sentence.slice(1))
      length += sentence.length + 1
    }
    return sentences.join(' ')
  })
}

export interface QaGenerationBenchOptions {
  modelPath: string
  llama: Llama
  /** Passages, one prompt each. */
  chunks: readonly string[]
  contexts: number
  /** Defaults to `2048`. */
  contextSize?: number
  /** Pairs asked for per chunk. Defaults to `1`. */
  pairs?: number
  /** Defaults to `160`. */
  maxOutputTokens?: number
  /** Defaults to `60`: short answers keep a random model's output within `maxOutputTokens`, so it parses. */
  questionMaxChars?: number
  /** Defaults to `60`. */
  answerMaxChars?: number
  /** Defaults to `0.8`. */
  temperature?: number
  /** Also run the baseline under the JSON grammar. Defaults to `true`. */
  grammarBaseline?: boolean
}

export interface DecodeRun {
  ms: number
  /** Prompt tokens llama.cpp evaluated (the generator keeps the prefix shared with a slot's previous prompt). */
  promptTokens: number
  outputTokens: number
  tokensPerSecond: number
}

export interface QaGenerationBenchResult {
  prompts: number
  contexts: number
  generator: DecodeRun & { statuses: Record<string, number>; pairs: number }
  raw: DecodeRun
  /** `null` when not asked for; the error message when it failed. */
  rawWithGrammar: DecodeRun | string | null
}

export async function benchQaGeneration(options: QaGenerationBenchOptions): Promise<QaGenerationBenchResult> {
  const { modelPath, llama, chunks, contexts, contextSize = 2048, pairs = 1, maxOutputTokens = 160, questionMaxChars = 60, answerMaxChars = 60, temperature = 0.8, grammarBaseline = true } = options
  const limits = { pairs, questionMaxChars, answerMaxChars }
  const prompts = chunks.map((text) => buildQaPrompt(text, { pairs }))
  // Faults the weights in and warms llama.cpp up, so the generator, which runs first, starts no colder than the baselines.
  await rawDecodeBaseline({ modelPath, llama, prompts: prompts.slice(0, 1), outputTokensPerPrompt: 4, contexts: 1, contextSize })
  const generator = await LlamaQaGenerator.create({ modelPath, llama, contexts, contextSize, maxOutputTokens, bannedTokenPolicy: 'nonAscii', questionMaxChars, answerMaxChars })
  let results: QaGenerationResult[]
  let ms: number
  try {
    const started = performance.now()
    results = await Promise.all(chunks.map((text, i) => generator.generate({ chunkId: i + 1, text, pairs, seed: i + 1, temperature })))
    ms = performance.now() - started
  } finally {
    await generator.close()
  }
  const outputTokens = results.reduce((sum, r) => sum + r.outputTokens, 0)
  const statuses: Record<string, number> = {}
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1

  const baseline = {
    modelPath,
    llama,
    prompts,
    // The generator's own lengths; a prompt that produced nothing (an immediate end of generation) still gets one.
    outputTokensPerPrompt: results.map((r) => Math.max(1, r.outputTokens)),
    contexts,
    contextSize,
    temperature,
    bannedTokenPolicy: 'nonAscii' as const,
  }
  const raw = decodeRun(await rawDecodeBaseline(baseline))
  let rawWithGrammar: DecodeRun | string | null = null
  if (grammarBaseline) {
    try {
      rawWithGrammar = decodeRun(await rawDecodeBaseline({ ...baseline, grammar: limits }))
    } catch (error) {
      rawWithGrammar = (error as Error).message
    }
  }
  return {
    prompts: chunks.length,
    contexts,
    generator: {
      ms,
      promptTokens: results.reduce((sum, r) => sum + r.promptTokens, 0),
      outputTokens,
      tokensPerSecond: outputTokens / (ms / 1000),
      statuses,
      pairs: results.reduce((sum, r) => sum + r.pairs.length, 0),
    },
    raw,
    rawWithGrammar,
  }
}

const decodeRun = ({ ms, promptTokens, outputTokens, tokensPerSecond }: RawDecodeBaselineResult): DecodeRun => ({ ms, promptTokens, outputTokens, tokensPerSecond })
