import { LecternError } from '../../../shared/errors.js'
import type { QaGenerationStatus } from '../../../shared/types/comprehension.js'
import { buildQaPrompt } from './qaPrompt.js'
import { DEFAULT_ANSWER_MAX_CHARS, DEFAULT_QUESTION_MAX_CHARS, type QaPair, type QaSchemaLimits } from './qaSchema.js'

export interface QaGenerationRequest {
  chunkId: number
  text: string
  /** How many pairs to ask for (the schema allows 1..pairs). */
  pairs: number
  /** Defaults to `DEFAULT_QA_DOMAIN`. */
  domain?: string
  seed: number
  temperature: number
}

export type { QaGenerationStatus }

export interface QaGenerationResult {
  chunkId: number
  status: QaGenerationStatus
  /** The model's text as it came, also when it could not be parsed. */
  raw: string
  /** Parsed pairs, not yet filtered by `checkQaPair`. */
  pairs: QaPair[]
  /** Why the status is not 'ok', in words; `null` when it is. */
  error: string | null
  promptTokens: number
  outputTokens: number
  ms: number
}

/**
 * A source of question/answer pairs for chunks: a local GGUF (`LlamaQaGenerator`) or an OpenAI-compatible server
 * (`OpenAiQaGenerator`). `generate` never rejects and never hangs: timeouts, sampler dead ends, HTTP failures and a
 * cancel through `signal` come back as a status (a cancel as 'error'; callers check their signal). Up to `slots`
 * calls may run at once; more wait for a free slot.
 */
export interface QaGenerator {
  readonly slots: number
  /** One line for logs and the UI, e.g. the model file and the number of contexts. */
  readonly description: string
  generate(request: QaGenerationRequest, signal?: AbortSignal): Promise<QaGenerationResult>
  close(): Promise<void>
}

/** Builds the result of one `generate` call: empty fields unless given, and the time since `started`. */
export type QaResultOf = (status: QaGenerationStatus, fields: Partial<QaGenerationResult>) => QaGenerationResult

/** The `QaResultOf` for `request`, timed from `started` (`performance.now()` when the call began). */
export function qaResultOf(request: QaGenerationRequest, started: number): QaResultOf {
  return (status, fields) => ({
    chunkId: request.chunkId,
    status,
    raw: '',
    pairs: [],
    error: null,
    promptTokens: 0,
    outputTokens: 0,
    ...fields,
    ms: performance.now() - started,
  })
}

/** The user prompt for `request`: its chunk, pair count and domain. */
export function qaRequestPrompt(request: QaGenerationRequest): string {
  return buildQaPrompt(request.text, { pairs: request.pairs, ...(request.domain === undefined ? {} : { domain: request.domain }) })
}

/** A generator option that must be a positive integer: `fallback` when unset, else a LecternError `invalid_argument` naming it. */
export function positiveIntegerOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1) throw new LecternError('invalid_argument', `${name} must be a positive integer, got ${value}`)
  return value
}

/** The per-pair length limits of a generator's options, defaulted and checked. */
export function qaLengthLimits(options: { questionMaxChars?: number | undefined; answerMaxChars?: number | undefined }): Required<Omit<QaSchemaLimits, 'pairs'>> {
  return {
    questionMaxChars: positiveIntegerOption('questionMaxChars', options.questionMaxChars, DEFAULT_QUESTION_MAX_CHARS),
    answerMaxChars: positiveIntegerOption('answerMaxChars', options.answerMaxChars, DEFAULT_ANSWER_MAX_CHARS),
  }
}
