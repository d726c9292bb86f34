import type { QaGenerationStatus } from '../../../shared/types/comprehension.js'
import type { QaPair } from './qaSchema.js'

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
