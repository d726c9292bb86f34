export interface QaPair {
  question: string
  answer: string
}

export interface QaSchemaLimits {
  /** The most pairs one answer may hold; at least 1. */
  pairs: number
  /** At most `MAX_STRING_CHARS`. Defaults to `DEFAULT_QUESTION_MAX_CHARS`. */
  questionMaxChars?: number
  /** At most `MAX_STRING_CHARS`. Defaults to `DEFAULT_ANSWER_MAX_CHARS`. */
  answerMaxChars?: number
}

export const DEFAULT_QUESTION_MAX_CHARS = 300
export const DEFAULT_ANSWER_MAX_CHARS = 600
/**
 * Caps above this are lowered to it. llama.cpp refuses the grammar node-llama-cpp writes for a 2000-character
 * string inside a list of 5 or more items ("number of rules that are going to be repeated … exceeds sane
 * defaults"); 1500 passed with 20 items (measured with node-llama-cpp 3.21.1).
 */
export const MAX_STRING_CHARS = 1500

interface QaStringSchema {
  readonly type: 'string'
  readonly minLength: number
  readonly maxLength: number
}

/** A top-level JSON array, as the paper asks for; node-llama-cpp's grammar builder accepts arrays at the top. */
export interface QaJsonSchema {
  readonly type: 'array'
  readonly minItems: number
  readonly maxItems: number
  readonly items: {
    readonly type: 'object'
    readonly properties: { readonly question: QaStringSchema; readonly answer: QaStringSchema }
    readonly required: readonly ['question', 'answer']
    readonly additionalProperties: false
  }
}

/**
 * The JSON schema of one generation: 1..N objects with a question and an answer, both length-capped strings.
 * There are no number fields on purpose: llama.cpp's grammar lets exponents through (node-llama-cpp.md §3).
 */
export function qaJsonSchema(limits: QaSchemaLimits): QaJsonSchema {
  const { questionMaxChars, answerMaxChars, maxPairs } = resolveLimits(limits)
  return {
    type: 'array',
    minItems: 1,
    maxItems: maxPairs,
    items: {
      type: 'object',
      properties: {
        question: { type: 'string', minLength: 1, maxLength: questionMaxChars },
        answer: { type: 'string', minLength: 1, maxLength: answerMaxChars },
      },
      required: ['question', 'answer'],
      additionalProperties: false,
    },
  }
}

/**
 * The same list wrapped as `{"pairs": [...]}`, for endpoints whose structured output requires an object at the
 * top (OpenAI's strict mode does; llama.cpp server, vLLM and Ollama accept the bare list).
 */
export interface QaObjectJsonSchema {
  readonly type: 'object'
  readonly properties: { readonly pairs: QaJsonSchema }
  readonly required: readonly ['pairs']
  readonly additionalProperties: false
}

export function qaObjectJsonSchema(limits: QaSchemaLimits): QaObjectJsonSchema {
  return { type: 'object', properties: { pairs: qaJsonSchema(limits) }, required: ['pairs'], additionalProperties: false }
}

export interface ParsedQaOutput {
  pairs: QaPair[]
  /** Why nothing usable came out; `null` when at least one pair did. */
  error: string | null
  /** Items that were present but unusable (not an object, a key missing or blank, over a length cap, over the count). */
  dropped: number
}

/** Keys under which remote models tend to wrap the list when they answer with an object. */
const WRAPPER_KEYS = ['pairs', 'questions', 'qa', 'items', 'data', 'results']

/**
 * Reads a model's answer leniently (domain-rc.md §2.1): code fences are stripped, the list is taken from the first
 * `[` to the last `]`, and an object wrapping the list under a usual key is accepted too. Lengths are counted in
 * code points, not UTF-16 units, so output that obeyed the grammar's character caps is never refused here.
 */
export function parseQaOutput(raw: string, limits?: QaSchemaLimits): ParsedQaOutput {
  const text = stripCodeFences(raw).trim()
  if (text === '') return { pairs: [], error: 'the output is empty', dropped: 0 }
  const value = parseLenient(text)
  if (value === undefined) return { pairs: [], error: `no JSON list found in the output (${preview(text)})`, dropped: 0 }
  const items = listIn(value)
  if (items === null) return { pairs: [], error: 'the JSON is neither a list nor an object holding a list', dropped: 0 }
  const resolved = limits === undefined ? null : resolveLimits(limits)
  const pairs: QaPair[] = []
  let dropped = 0
  for (const item of items) {
    const pair = pairFrom(item)
    const fits =
      pair !== null &&
      (resolved === null ||
        (pairs.length < resolved.maxPairs && codePointLength(pair.question) <= resolved.questionMaxChars && codePointLength(pair.answer) <= resolved.answerMaxChars))
    if (fits) pairs.push(pair)
    else dropped++
  }
  if (pairs.length === 0) {
    const error = items.length === 0 ? 'the JSON list is empty' : `none of the ${items.length} items is an object with a non-empty question and answer within the limits`
    return { pairs, error, dropped }
  }
  return { pairs, error: null, dropped }
}

export function codePointLength(text: string): number {
  let count = 0
  for (const _ of text) count++
  return count
}

function resolveLimits(limits: QaSchemaLimits): { maxPairs: number; questionMaxChars: number; answerMaxChars: number } {
  const positive = (value: number | undefined, fallback: number): number => (value !== undefined && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback)
  return {
    maxPairs: positive(limits.pairs, 1),
    questionMaxChars: Math.min(positive(limits.questionMaxChars, DEFAULT_QUESTION_MAX_CHARS), MAX_STRING_CHARS),
    answerMaxChars: Math.min(positive(limits.answerMaxChars, DEFAULT_ANSWER_MAX_CHARS), MAX_STRING_CHARS),
  }
}

function stripCodeFences(raw: string): string {
  const fenced = /```[a-zA-Z0-9_-]*[ \t]*\r?\n([\s\S]*?)```/.exec(raw)
  return fenced?.[1] ?? raw.replace(/```[a-zA-Z0-9_-]*/g, '')
}

function parseLenient(text: string): unknown {
  const whole = tryJson(text)
  if (whole !== undefined) return whole
  const start = text.indexOf('[')
  const end = text.lastIndexOf(']')
  if (start >= 0 && end > start) {
    const list = tryJson(text.slice(start, end + 1))
    if (list !== undefined) return list
  }
  const objectStart = text.indexOf('{')
  const objectEnd = text.lastIndexOf('}')
  if (objectStart >= 0 && objectEnd > objectStart) return tryJson(text.slice(objectStart, objectEnd + 1))
  return undefined
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function listIn(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value
  if (typeof value !== 'object' || value === null) return null
  const record = value as Record<string, unknown>
  for (const key of WRAPPER_KEYS) {
    const inner = record[key]
    if (Array.isArray(inner)) return inner
  }
  // A single pair written as an object rather than a list of one.
  if ('question' in record && 'answer' in record) return [record]
  return null
}

function pairFrom(item: unknown): QaPair | null {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return null
  const record = item as Record<string, unknown>
  const question = record['question']
  const answer = record['answer']
  if (typeof question !== 'string' || typeof answer !== 'string') return null
  const trimmedQuestion = question.trim()
  const trimmedAnswer = answer.trim()
  if (trimmedQuestion === '' || trimmedAnswer === '') return null
  return { question: trimmedQuestion, answer: trimmedAnswer }
}

function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ')
  return oneLine.length > 60 ? `starts "${oneLine.slice(0, 60)}…"` : `"${oneLine}"`
}
