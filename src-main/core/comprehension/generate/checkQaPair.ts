import type { QaRejectReason as StoredQaRejectReason } from '../../../shared/types/comprehension.js'
import { codePointLength, DEFAULT_ANSWER_MAX_CHARS, DEFAULT_QUESTION_MAX_CHARS, type QaPair } from './qaSchema.js'

/** The reasons the automatic checks give; the stored reasons add `user` for pairs rejected by hand. */
export type QaRejectReason = Exclude<StoredQaRejectReason, 'user'>

export interface QaFilterThresholds {
  /** Least share of the answer's content words that must occur in the chunk (0..1). */
  minGrounding: number
  maxQuestionChars: number
  maxAnswerChars: number
}

export const DEFAULT_QA_FILTERS: Readonly<QaFilterThresholds> = Object.freeze({
  minGrounding: 0.5,
  maxQuestionChars: DEFAULT_QUESTION_MAX_CHARS,
  maxAnswerChars: DEFAULT_ANSWER_MAX_CHARS,
})

export type QaPairVerdict = { ok: true } | { ok: false; reason: QaRejectReason; message: string }

export interface QaPairRejection {
  pair: QaPair
  reason: QaRejectReason
  message: string
}

export interface CheckQaPairOptions {
  /** Defaults to `DEFAULT_QA_FILTERS`; missing fields fall back to it. */
  filters?: Partial<QaFilterThresholds>
  /** Normalized questions of pairs of the same chunk kept before this one (see `normalizeQaText`). */
  earlierQuestions?: ReadonlySet<string>
}

/** Checks one generated pair against its source chunk. The first failing check decides the reason. */
export function checkQaPair(pair: QaPair, chunkText: string, options: CheckQaPairOptions = {}): QaPairVerdict {
  return checkAgainst(pair, chunkWordStems(chunkText), resolveFilters(options.filters), options.earlierQuestions ?? new Set())
}

/** The pairs of one chunk split into kept and rejected; a question repeating an earlier kept one is a duplicate. */
export function filterQaPairs(pairs: readonly QaPair[], chunkText: string, filters: Partial<QaFilterThresholds> = {}): { kept: QaPair[]; rejected: QaPairRejection[] } {
  const kept: QaPair[] = []
  const rejected: QaPairRejection[] = []
  for (const judged of judgeQaPairs(pairs, chunkText, filters)) {
    const pair = { question: judged.question, answer: judged.answer }
    if (judged.rejectReason === null) kept.push(pair)
    else rejected.push({ pair, reason: judged.rejectReason, message: judged.rejectDetail ?? judged.rejectReason })
  }
  return { kept, rejected }
}

export interface JudgedQaPair extends QaPair {
  rejectReason: QaRejectReason | null
  rejectDetail: string | null
}

/** Every pair of one chunk in order, each with its verdict (see `filterQaPairs`). */
export function judgeQaPairs(pairs: readonly QaPair[], chunkText: string, filters: Partial<QaFilterThresholds> = {}): JudgedQaPair[] {
  const resolved = resolveFilters(filters)
  const chunkStems = chunkWordStems(chunkText)
  const earlierQuestions = new Set<string>()
  return pairs.map((pair) => {
    const verdict = checkAgainst(pair, chunkStems, resolved, earlierQuestions)
    if (!verdict.ok) return { question: pair.question, answer: pair.answer, rejectReason: verdict.reason, rejectDetail: verdict.message }
    earlierQuestions.add(normalizeQaText(pair.question))
    return { question: pair.question, answer: pair.answer, rejectReason: null, rejectDetail: null }
  })
}

/** Defaults for the thresholds left out or set to `undefined`. */
export function resolveFilters(filters: Partial<QaFilterThresholds> | undefined): QaFilterThresholds {
  const resolved: QaFilterThresholds = { ...DEFAULT_QA_FILTERS }
  for (const key of Object.keys(resolved) as (keyof QaFilterThresholds)[]) {
    const value = filters?.[key]
    if (typeof value === 'number' && Number.isFinite(value)) resolved[key] = value
  }
  return resolved
}

/** Lowercase, punctuation dropped, whitespace collapsed: what two texts must share to count as the same. */
export function normalizeQaText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
}

/** Share of the answer's content words found in the chunk; an answer with none (e.g. "yes") counts as grounded. */
export function groundingShare(answer: string, chunkText: string): number {
  return groundingAgainst(answer, chunkWordStems(chunkText))
}

function checkAgainst(pair: QaPair, chunkStems: ReadonlySet<string>, filters: QaFilterThresholds, earlierQuestions: ReadonlySet<string>): QaPairVerdict {
  if (pair.question.includes('\uFFFD') || pair.answer.includes('\uFFFD')) {
    return reject('broken_text', `the ${pair.question.includes('\uFFFD') ? 'question' : 'answer'} contains U+FFFD, the mark of broken UTF-8`)
  }
  const question = normalizeQaText(pair.question)
  const answer = normalizeQaText(pair.answer)
  if (question === '' || answer === '') return reject('empty', `the ${question === '' ? 'question' : 'answer'} is blank`)
  const questionChars = codePointLength(pair.question)
  const answerChars = codePointLength(pair.answer)
  if (questionChars > filters.maxQuestionChars) return reject('too_long', `the question has ${questionChars} characters (at most ${filters.maxQuestionChars})`)
  if (answerChars > filters.maxAnswerChars) return reject('too_long', `the answer has ${answerChars} characters (at most ${filters.maxAnswerChars})`)
  if (` ${answer} `.includes(` ${question} `)) return reject('copied_question', 'the answer repeats the question')
  if (earlierQuestions.has(question)) return reject('duplicate', 'the same question was already asked about this chunk')
  const share = groundingAgainst(pair.answer, chunkStems)
  if (share < filters.minGrounding) {
    return reject('not_grounded', `only ${Math.round(share * 100)}% of the answer's content words occur in the chunk (at least ${Math.round(filters.minGrounding * 100)}% needed)`)
  }
  return { ok: true }
}

function reject(reason: QaRejectReason, message: string): QaPairVerdict {
  return { ok: false, reason, message }
}

function groundingAgainst(answer: string, chunkStems: ReadonlySet<string>): number {
  const content = contentWords(answer)
  if (content.length === 0) return 1
  let found = 0
  for (const word of content) if (chunkStems.has(stem(word))) found++
  return found / content.length
}

function chunkWordStems(text: string): Set<string> {
  return new Set(words(text).map(stem))
}

function contentWords(text: string): string[] {
  return words(text).filter((word) => !STOPWORDS.has(word))
}

function words(text: string): string[] {
  return normalizeQaText(text).split(' ').filter((word) => word !== '')
}

/** A crude suffix stripper: enough to match "studies"/"study" or "measured"/"measuring", not a linguistic stemmer. */
function stem(word: string): string {
  if (word.length <= 3 || /^\p{N}+$/u.test(word)) return word
  for (const [suffix, replacement] of SUFFIXES) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) return word.slice(0, word.length - suffix.length) + replacement
  }
  return word
}

const SUFFIXES: readonly (readonly [string, string])[] = [
  ['ingly', ''],
  ['ings', ''],
  ['ing', ''],
  ['ies', 'y'],
  ['ied', 'y'],
  ['ly', ''],
  ['ed', ''],
  ['es', ''],
  ['s', ''],
  ['e', ''],
]

/** Common English function words (our own list); they say nothing about whether an answer comes from the text. */
const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or but nor so yet if then else than that this these those there here what which who whom whose when where why how ' +
    'is are was were be been being am do does did done doing have has had having will would shall should can could may might must ' +
    'i me my mine we us our ours you your yours he him his she her hers it its they them their theirs ' +
    'of in on at by for with about against between into through during before after above below to from up down out off over under ' +
    'again further once all any both each few more most other some such no not only own same too very just also as because until while ' +
    'it s t don can will yes'
  ).split(' '),
)
