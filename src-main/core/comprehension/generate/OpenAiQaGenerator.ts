import { LecternError } from '../../../shared/errors.js'
import { positiveIntegerOption, qaLengthLimits, qaRequestPrompt, qaResultOf, type QaGenerationRequest, type QaGenerationResult, type QaGenerator, type QaResultOf } from './QaGenerator.js'
import { QA_SYSTEM_PROMPT } from './qaPrompt.js'
import { parseQaOutput, qaJsonSchema, qaObjectJsonSchema, type QaSchemaLimits } from './qaSchema.js'

export interface OpenAiQaGeneratorOptions {
  /** Base URL of an OpenAI-compatible server (llama.cpp server, vLLM, Ollama), with or without a trailing `/v1`. */
  endpoint: string
  /** The model name the server knows. */
  model: string
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string | undefined
  /** Requests in flight at once. Defaults to `2`. */
  slots?: number | undefined
  /** Per request, headers and body included. Defaults to `120000`. */
  timeoutMs?: number | undefined
  /** Defaults to `1024`. */
  maxOutputTokens?: number | undefined
  /**
   * `array` sends the paper's bare list as the schema; `object` wraps it as `{"pairs": [...]}` for servers whose
   * strict structured output wants an object at the top (OpenAI itself). Defaults to `'array'`.
   */
  schemaRoot?: 'array' | 'object' | undefined
  /** Defaults to `DEFAULT_QUESTION_MAX_CHARS`. */
  questionMaxChars?: number | undefined
  /** Defaults to `DEFAULT_ANSWER_MAX_CHARS`. */
  answerMaxChars?: number | undefined
  /** Defaults to `QA_SYSTEM_PROMPT`. */
  systemPrompt?: string | undefined
}

/** The part of an OpenAI chat-completion response that is read. */
interface ChatCompletionResponse {
  choices?: { message?: { content?: unknown }; finish_reason?: unknown }[]
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown }
}

const ERROR_BODY_PREVIEW_CHARS = 300

/** Question/answer generation against an OpenAI-compatible `/v1/chat/completions` with a JSON-schema response format. */
export class OpenAiQaGenerator implements QaGenerator {
  readonly slots: number
  readonly description: string
  private readonly url: string
  private readonly options: OpenAiQaGeneratorOptions
  private readonly timeoutMs: number
  private readonly maxOutputTokens: number
  private readonly limits: Required<Omit<QaSchemaLimits, 'pairs'>>
  private readonly waiters: (() => void)[] = []
  private running = 0
  private readonly closing = new AbortController()

  constructor(options: OpenAiQaGeneratorOptions) {
    this.options = options
    this.url = chatCompletionsUrl(options.endpoint)
    this.slots = positiveIntegerOption('slots', options.slots, 2)
    this.timeoutMs = positiveIntegerOption('timeoutMs', options.timeoutMs, 120_000)
    this.maxOutputTokens = positiveIntegerOption('maxOutputTokens', options.maxOutputTokens, 1024)
    this.limits = qaLengthLimits(options)
    this.description = `${options.model} at ${this.url}, ${this.slots} request${this.slots === 1 ? '' : 's'} at a time`
  }

  async generate(request: QaGenerationRequest, signal?: AbortSignal): Promise<QaGenerationResult> {
    const result = qaResultOf(request, performance.now())
    if (this.closing.signal.aborted) return result('error', { error: 'the generator is closed' })
    const cancel = signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal
    if (!(await this.acquire(cancel))) return result('error', { error: signal?.aborted ? 'cancelled' : 'the generator is closed' })
    try {
      const limits: QaSchemaLimits = { pairs: request.pairs, ...this.limits }
      const schema = this.options.schemaRoot === 'object' ? qaObjectJsonSchema(limits) : qaJsonSchema(limits)
      const body = {
        model: this.options.model,
        messages: [
          { role: 'system', content: this.options.systemPrompt ?? QA_SYSTEM_PROMPT },
          { role: 'user', content: qaRequestPrompt(request) },
        ],
        temperature: request.temperature,
        seed: request.seed,
        max_tokens: this.maxOutputTokens,
        response_format: { type: 'json_schema', json_schema: { name: 'qa_pairs', schema, strict: true } },
      }
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
      if (this.options.apiKey) headers['authorization'] = `Bearer ${this.options.apiKey}`
      // The timeout covers the body too: a server that sends headers and then stalls is cut off as well.
      const deadline = AbortSignal.timeout(this.timeoutMs)
      let status: number
      let text: string
      try {
        const response = await fetch(this.url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.any([cancel, deadline]) })
        status = response.status
        text = await response.text()
        if (!response.ok) {
          const preview = text.length > ERROR_BODY_PREVIEW_CHARS ? `${text.slice(0, ERROR_BODY_PREVIEW_CHARS)}…` : text
          return result('error', { raw: text, error: `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''} from ${this.url}${preview ? `: ${preview}` : ''}` })
        }
      } catch (error) {
        if (deadline.aborted && !cancel.aborted) return result('timeout', { error: `no answer from ${this.url} within ${this.timeoutMs} ms` })
        if (cancel.aborted) return result('error', { error: signal?.aborted ? 'cancelled' : 'the generator is closed' })
        return result('error', { error: `request to ${this.url} failed: ${describeFetchError(error)}` })
      }
      return this.readCompletion(text, request, result)
    } finally {
      this.release()
    }
  }

  async close(): Promise<void> {
    this.closing.abort()
    for (const waiter of this.waiters.splice(0)) waiter()
  }

  private readCompletion(text: string, request: QaGenerationRequest, result: QaResultOf): QaGenerationResult {
    let response: ChatCompletionResponse
    try {
      response = JSON.parse(text) as ChatCompletionResponse
    } catch {
      return result('error', { raw: text, error: `the server's reply is not JSON (${text.slice(0, 80)})` })
    }
    const usage = {
      promptTokens: typeof response.usage?.prompt_tokens === 'number' ? response.usage.prompt_tokens : 0,
      outputTokens: typeof response.usage?.completion_tokens === 'number' ? response.usage.completion_tokens : 0,
    }
    const choice = response.choices?.[0]
    const content = choice?.message?.content
    if (typeof content !== 'string') return result('error', { raw: text, error: 'the reply holds no choices[0].message.content text', ...usage })
    const parsed = parseQaOutput(content, { pairs: request.pairs, ...this.limits })
    if (parsed.error !== null) {
      const cutOff = choice?.finish_reason === 'length' ? ` (the answer hit max_tokens = ${this.maxOutputTokens})` : ''
      return result('unparsable', { raw: content, error: parsed.error + cutOff, ...usage })
    }
    return result('ok', { raw: content, pairs: parsed.pairs, ...usage })
  }

  private async acquire(cancel: AbortSignal): Promise<boolean> {
    while (this.running >= this.slots) {
      if (cancel.aborted) return false
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          cancel.removeEventListener('abort', onAbort)
          resolve()
        }
        const onAbort = (): void => {
          const index = this.waiters.indexOf(wake)
          if (index >= 0) this.waiters.splice(index, 1)
          resolve()
        }
        cancel.addEventListener('abort', onAbort, { once: true })
        this.waiters.push(wake)
      })
    }
    if (cancel.aborted) return false
    this.running++
    return true
  }

  private release(): void {
    this.running--
    this.waiters.shift()?.()
  }
}

/** `http://host:8080`, `http://host:8080/` and `http://host:8080/v1` all mean `http://host:8080/v1/chat/completions`. */
export function chatCompletionsUrl(endpoint: string): string {
  let url: URL
  try {
    url = new URL(endpoint.trim())
  } catch {
    throw new LecternError('invalid_argument', `"${endpoint}" is not a URL (expected e.g. http://localhost:8080)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new LecternError('invalid_argument', `"${endpoint}" is not an http or https URL`)
  const path = url.pathname.replace(/\/+$/, '')
  url.pathname = path.endsWith('/v1') ? `${path}/chat/completions` : `${path}/v1/chat/completions`
  return url.toString()
}

/** fetch hides the reason (ECONNREFUSED, ENOTFOUND) in `cause`. */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? error.cause.message : typeof error.cause === 'string' ? error.cause : ''
  return cause && cause !== error.message ? `${error.message} (${cause})` : error.message
}
