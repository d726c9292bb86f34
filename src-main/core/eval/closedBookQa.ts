import type { LlamaModel, Token } from 'node-llama-cpp'
import { LecternError } from '../../shared/errors.js'
import type { HeldOutQa } from '../dataset/writeDataset.js'
import { derivedRandom } from '../train/random.js'
import { exactMatch, normalizeAnswer, tokenF1 } from './answerMatch.js'
import { commonPrefixLength, runOnScorers, tokenizeForScoring, withScorers, type EvalContextOptions, type EvalModelSource, type SequenceScorer } from './SequenceScorer.js'


export interface ClosedBookQaOptions extends EvalContextOptions {
  /** Distractors per question, drawn from the other questions' answers. Defaults to `3`. */
  distractors?: number
  /** Seed of the distractor draw and the option order. Defaults to `0`. */
  seed?: number
  /** Also generate a greedy answer per question and score it by EM and F1. Defaults to `true`. */
  generate?: boolean
  /** Longest greedy answer, in tokens; generation also stops at the first newline. Defaults to `64`. */
  maxAnswerTokens?: number
  signal?: AbortSignal
  onProgress?: (progress: { done: number; total: number }) => void
}

export interface ScoredOption {
  text: string
  isReference: boolean
  /** Option tokens scored (the prompt's tokens are masked). */
  tokens: number
  /** Mean negative log-likelihood of the option's tokens given the prompt, in nats. */
  meanNll: number
}

export interface ClosedBookQaRecord {
  question: string
  reference: string
  documentId: number
  /** The reference and its distractors in the (seeded) order they were presented, each with its score. */
  options: ScoredOption[]
  /** The option with the lowest mean NLL. */
  ranked: string
  /** The reference has a strictly lower mean NLL than every distractor. */
  correct: boolean
  /** The greedy answer up to its first newline, trimmed; null when generation is off. */
  prediction: string | null
  exactMatch: number | null
  f1: number | null
}

export interface ClosedBookQaResult {
  questions: number
  /** Share of questions whose reference ranked first. */
  accuracy: number
  /** Mean exact match and token F1 of the greedy answers; null when generation is off. */
  exactMatch: number | null
  f1: number | null
  /** Mean number of options per question (fewer than 1 + k when the held-out set has too few distinct answers). */
  meanOptions: number
  records: ClosedBookQaRecord[]
}

/** The prompt of a question; an option is scored as its continuation `' ' + option`. */
export function closedBookPrompt(question: string): string {
  return `Question: ${question}\nAnswer:`
}

/**
 * Draws up to `k` distractors for question `index`: answers of other questions whose normalized form differs from
 * the reference's and from each other's, chosen uniformly by a stream seeded with (seed, index).
 */
export function drawDistractors(items: readonly HeldOutQa[], index: number, k: number, seed: number): string[] {
  const reference = normalizeAnswer(items[index]!.answer)
  const seen = new Set([reference])
  const pool: string[] = []
  for (let i = 0; i < items.length; i++) {
    if (i === index) continue
    const answer = items[i]!.answer
    const key = normalizeAnswer(answer)
    if (key.length === 0 || seen.has(key)) continue
    seen.add(key)
    pool.push(answer)
  }
  const random = derivedRandom(seed, 'closedBookQa.distractors', index)
  const picked = Math.min(k, pool.length)
  for (let i = 0; i < picked; i++) {
    const j = i + random.nextBelow(pool.length - i)
    ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
  }
  return pool.slice(0, picked)
}

/**
 * Closed-book QA on held-out pairs. Likelihood part (AdaptLLM's multiple-choice scoring): each option is scored as
 * `prompt + ' ' + option`, with the prompt's tokens masked, by the mean NLL of the option's tokens; the question
 * counts as correct when the reference scores lowest. Generation part: a greedy answer, scored against the
 * reference by SQuAD exact match and token F1.
 */
export async function evaluateClosedBookQa(source: EvalModelSource, items: readonly HeldOutQa[], options: ClosedBookQaOptions): Promise<ClosedBookQaResult> {
  const k = options.distractors ?? 3
  const seed = options.seed ?? 0
  const generate = options.generate ?? true
  const maxAnswerTokens = options.maxAnswerTokens ?? 64
  if (!Number.isInteger(k) || k < 1) throw new LecternError('invalid_argument', `distractors must be a positive integer; got ${k}`)
  if (!Number.isInteger(maxAnswerTokens) || maxAnswerTokens < 1) throw new LecternError('invalid_argument', `maxAnswerTokens must be a positive integer; got ${maxAnswerTokens}`)
  items.forEach((item, i) => {
    if (item.question.trim() === '' || item.answer.trim() === '') throw new LecternError('invalid_argument', `Held-out QA ${i + 1} has an empty question or answer`)
  })
  const { signal, onProgress } = options
  signal?.throwIfAborted()
  return withScorers(source, options, async (scorers, model) => {
    const records = new Array<ClosedBookQaRecord>(items.length)
    let done = 0
    onProgress?.({ done, total: items.length })
    await runOnScorers(scorers, items.length, async (scorer, index) => {
      records[index] = await evaluateQuestion(scorer, model, items, index, { k, seed, generate, maxAnswerTokens, signal })
      onProgress?.({ done: ++done, total: items.length })
    }, signal)
    const mean = (values: number[]): number => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length)
    return {
      questions: records.length,
      accuracy: mean(records.map((r) => (r.correct ? 1 : 0))),
      exactMatch: generate ? mean(records.map((r) => r.exactMatch ?? 0)) : null,
      f1: generate ? mean(records.map((r) => r.f1 ?? 0)) : null,
      meanOptions: mean(records.map((r) => r.options.length)),
      records,
    }
  })
}

/**
 * Mean NLL of `continuation` after `prompt`. Both strings are tokenized whole, as AdaptLLM does; the masked part
 * is the tokens the prompt alone shares with `prompt + continuation`, so a token merged across the boundary is
 * scored with the option. A prompt too long for the context loses tokens from its left.
 */
export async function scoreContinuation(scorer: SequenceScorer, model: LlamaModel, prompt: string, continuation: string): Promise<{ tokens: number; meanNll: number }> {
  const promptTokens = tokenizeForScoring(model, prompt)
  let full = tokenizeForScoring(model, prompt + continuation)
  let masked = Math.max(1, commonPrefixLength(promptTokens, full))
  const scored = full.length - masked
  if (scored === 0) return { tokens: 0, meanNll: Number.NaN }
  if (full.length > scorer.contextSize) {
    const drop = full.length - scorer.contextSize
    if (drop >= masked) throw new LecternError('invalid_argument', `An option of ${scored} tokens does not fit a context of ${scorer.contextSize}`)
    full = full.slice(drop)
    masked -= drop
  }
  const logProbs = await scorer.logProbabilities(full, masked)
  let nll = 0
  for (const lp of logProbs) nll -= lp
  return { tokens: logProbs.length, meanNll: nll / logProbs.length }
}

async function evaluateQuestion(
  scorer: SequenceScorer,
  model: LlamaModel,
  items: readonly HeldOutQa[],
  index: number,
  settings: { k: number; seed: number; generate: boolean; maxAnswerTokens: number; signal: AbortSignal | undefined },
): Promise<ClosedBookQaRecord> {
  const item = items[index]!
  const prompt = closedBookPrompt(item.question)
  const texts = [item.answer, ...drawDistractors(items, index, settings.k, settings.seed)]
  const order = derivedRandom(settings.seed, 'closedBookQa.order', index)
  for (let i = texts.length - 1; i > 0; i--) {
    const j = order.nextBelow(i + 1)
    ;[texts[i], texts[j]] = [texts[j]!, texts[i]!]
  }
  const scored: ScoredOption[] = []
  for (const text of texts) {
    settings.signal?.throwIfAborted()
    const { tokens, meanNll } = await scoreContinuation(scorer, model, prompt, ` ${text}`)
    scored.push({ text, isReference: text === item.answer, tokens, meanNll })
  }
  const best = scored.reduce((a, b) => (b.meanNll < a.meanNll ? b : a))
  const reference = scored.find((o) => o.isReference)!
  const correct = scored.every((o) => o.isReference || reference.meanNll < o.meanNll)

  let prediction: string | null = null
  if (settings.generate) {
    settings.signal?.throwIfAborted()
    prediction = await greedyAnswer(scorer, model, prompt, settings.maxAnswerTokens, settings.signal)
  }
  return {
    question: item.question,
    reference: item.answer,
    documentId: item.document_id,
    options: scored,
    ranked: best.text,
    correct,
    prediction,
    exactMatch: prediction === null ? null : exactMatch(prediction, item.answer),
    f1: prediction === null ? null : tokenF1(prediction, item.answer),
  }
}

/** Greedy answer to `prompt`, up to the first newline, trimmed. A prompt too long for the context loses its left. */
export async function greedyAnswer(scorer: SequenceScorer, model: LlamaModel, prompt: string, maxTokens: number, signal?: AbortSignal): Promise<string> {
  let promptTokens: Token[] = tokenizeForScoring(model, prompt)
  const room = Math.max(1, scorer.contextSize - maxTokens)
  if (promptTokens.length > room) promptTokens = promptTokens.slice(promptTokens.length - room)
  const generated = await scorer.greedy(promptTokens, maxTokens, (tokens) => model.detokenize(tokens).includes('\n'), signal)
  const text = model.detokenize(generated)
  const newline = text.indexOf('\n')
  return (newline === -1 ? text : text.slice(0, newline)).trim()
}
