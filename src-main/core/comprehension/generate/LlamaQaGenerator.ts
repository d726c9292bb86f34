import { basename } from 'node:path'
import type { ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaGrammarEvaluationState, LlamaModel, Token, TokenBias } from 'node-llama-cpp'
import { LecternError } from '../../../shared/errors.js'
import { defaultContextCount, loadCheckedLlamaModel, type LoadedLlamaModel } from '../../llm/loadLlamaModel.js'
import { GgufMetadataReader } from '../../model/gguf/ggufMetadata.js'
import type { GgufHeader } from '../../model/gguf/ggufTypes.js'
import { CHAR_TO_BYTE } from '../../model/tokenizers/byteLevel.js'
import { positiveIntegerOption, qaLengthLimits, qaRequestPrompt, qaResultOf, type QaGenerationRequest, type QaGenerationResult, type QaGenerator } from './QaGenerator.js'
import { QA_SYSTEM_PROMPT } from './qaPrompt.js'
import { parseQaOutput, qaJsonSchema, type QaSchemaLimits } from './qaSchema.js'

export type BannedTokenPolicy = 'none' | 'nonAscii'

export interface LlamaQaGeneratorOptions {
  modelPath: string
  /** A llama.cpp instance to share; without one, a CPU/auto one is made and disposed on close. */
  llama?: Llama
  /** Parallel contexts (slots), each with one sequence and one thread. Defaults to `defaultContextCount()`. */
  contexts?: number
  /** Tokens per context: system prompt, chunk, instruction and answer must fit. Defaults to `2048`. */
  contextSize?: number
  /** Defaults to `512`. */
  maxOutputTokens?: number
  /** Watchdog per prompt, from the moment a slot is free. Defaults to `120000`. */
  timeoutMs?: number
  /**
   * `nonAscii` bans every token whose text is not printable ASCII (space, tab and newline are kept), which makes
   * random or weak models produce JSON that parses. It also stops a real model writing non-English text.
   * Defaults to `'none'`.
   */
  bannedTokenPolicy?: BannedTokenPolicy
  /** Extra logit biases by token id; a plain list bans those ids. Advanced: banning structure tokens dead-ends the grammar. */
  extraTokenBias?: ReadonlyMap<number, number | 'never'> | readonly number[]
  /** `'auto'` offloads all layers when llama.cpp finds a GPU. Defaults to `false`. */
  gpu?: false | 'auto'
  /** Defaults to `DEFAULT_QUESTION_MAX_CHARS`. */
  questionMaxChars?: number
  /** Defaults to `DEFAULT_ANSWER_MAX_CHARS`. */
  answerMaxChars?: number
  /** Defaults to `QA_SYSTEM_PROMPT`. */
  systemPrompt?: string
}

/**
 * Ids of the tokens whose text is not printable ASCII, read from the GGUF's own token list. Space, tab and newline
 * stay allowed: the JSON grammar needs them, and banning every token it allows next dead-ends the sampler. The list
 * is used rather than `detokenize([id])` because that drops an SPM piece's leading space. Control tokens (end of
 * turn) are left alone.
 */
export function nonAsciiTokenIds(header: GgufHeader, file: string): number[] {
  const m = new GgufMetadataReader(file, header.metadata)
  const tokens = m.stringArray('tokenizer.ggml.tokens')
  const types = m.optionalNumberArray('tokenizer.ggml.token_type')
  const byteLevel = m.string('tokenizer.ggml.model') === 'gpt2'
  const banned: number[] = []
  tokens.forEach((piece, id) => {
    const type = types?.[id] ?? TOKEN_TYPE_NORMAL
    if (type === TOKEN_TYPE_CONTROL) return
    if (type === TOKEN_TYPE_UNKNOWN || type === TOKEN_TYPE_UNUSED) {
      banned.push(id)
      return
    }
    const bytes = type === TOKEN_TYPE_BYTE ? bytePieceValue(piece) : byteLevel ? byteLevelBytes(piece) : spmBytes(piece)
    if (bytes === null || bytes.length === 0 || !bytes.every(isAllowedAsciiByte)) banned.push(id)
  })
  return banned
}

const TOKEN_TYPE_NORMAL = 1
const TOKEN_TYPE_UNKNOWN = 2
const TOKEN_TYPE_CONTROL = 3
const TOKEN_TYPE_UNUSED = 5
const TOKEN_TYPE_BYTE = 6

function isAllowedAsciiByte(byte: number): boolean {
  return (byte >= 0x20 && byte <= 0x7e) || byte === 0x09 || byte === 0x0a
}

function bytePieceValue(piece: string): number[] | null {
  const match = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece)
  return match?.[1] === undefined ? null : [parseInt(match[1], 16)]
}

function spmBytes(piece: string): number[] {
  return [...new TextEncoder().encode(piece.replaceAll('\u2581', ' '))]
}

function byteLevelBytes(piece: string): number[] | null {
  const bytes: number[] = []
  for (const char of piece) {
    const byte = CHAR_TO_BYTE.get(char)
    if (byte === undefined) return null
    bytes.push(byte)
  }
  return bytes
}

interface InFlightPrompt {
  outputTokensSeen: number
  fail(message: string): void
}

interface Slot {
  context: LlamaContext
  sequence: LlamaContextSequence
  /** Held from acquire to release, including while a broken context is being replaced. */
  busy: boolean
  inFlight: InFlightPrompt | null
}

const CANCELLED = 'cancelled'
const SAMPLER_DEAD_END = 'Failed to accept token in sampler'
/** How long an in-flight prompt may go without a new token, after a dead-end report, before it is taken as the one that died. */
const DEAD_END_GRACE_MS = 400
/** A context stuck in a dead end may never finish disposing; it is abandoned after this. */
const DISPOSE_WAIT_MS = 2000
/** Tokens of context a piece is detokenized with, so SPM word-start spaces and split UTF-8 come out right. */
const DETOKENIZE_CONTEXT_TOKENS = 8

/**
 * Question/answer generation with a local GGUF through node-llama-cpp: one context per slot with one sequence and
 * one thread (the fastest layout on CPU, node-llama-cpp.md §4), a JSON-schema grammar, and a watchdog per prompt.
 * The prompt is rendered with the model's own chat template and decoded with `sequence.evaluate` directly: a
 * `LlamaChatSession` per chunk cost several times the decode time on small models. The tokens shared with the
 * slot's previous prompt (system prompt, template) are kept in the context and not evaluated again.
 */
export class LlamaQaGenerator implements QaGenerator {
  readonly slots: number
  readonly description: string
  private readonly loaded: LoadedLlamaModel
  private readonly slotList: Slot[]
  private readonly waiters: ((slot: Slot | null) => void)[] = []
  private readonly grammars = new Map<number, Promise<LlamaGrammar>>()
  private readonly tokenBias: TokenBias | undefined
  private readonly settings: Required<Pick<LlamaQaGeneratorOptions, 'contextSize' | 'maxOutputTokens' | 'timeoutMs' | 'systemPrompt' | 'questionMaxChars' | 'answerMaxChars'>>
  private readonly chatWrapper: ChatWrapper
  private readonly grammarStateClass: typeof LlamaGrammarEvaluationState
  private readonly renewals = new Set<Promise<void>>()
  private closed = false

  private constructor(init: {
    loaded: LoadedLlamaModel
    slots: Slot[]
    tokenBias: TokenBias | undefined
    settings: LlamaQaGenerator['settings']
    description: string
    chatWrapper: ChatWrapper
    grammarStateClass: typeof LlamaGrammarEvaluationState
  }) {
    this.loaded = init.loaded
    this.slotList = init.slots
    this.slots = init.slots.length
    this.tokenBias = init.tokenBias
    this.settings = init.settings
    this.description = init.description
    this.chatWrapper = init.chatWrapper
    this.grammarStateClass = init.grammarStateClass
    registerForDeadEnds(this)
  }

  static async create(options: LlamaQaGeneratorOptions): Promise<LlamaQaGenerator> {
    const settings = {
      contextSize: positiveIntegerOption('contextSize', options.contextSize, 2048),
      maxOutputTokens: positiveIntegerOption('maxOutputTokens', options.maxOutputTokens, 512),
      timeoutMs: positiveIntegerOption('timeoutMs', options.timeoutMs, 120_000),
      systemPrompt: options.systemPrompt ?? QA_SYSTEM_PROMPT,
      ...qaLengthLimits(options),
    }
    const contexts = positiveIntegerOption('contexts', options.contexts, defaultContextCount())
    const loaded = await loadCheckedLlamaModel(options.modelPath, { ...(options.llama ? { llama: options.llama } : {}), gpu: options.gpu ?? false })
    const slots: Slot[] = []
    try {
      const { LlamaGrammarEvaluationState, resolveChatWrapper, TokenBias } = await import('node-llama-cpp')
      const banned = options.bannedTokenPolicy === 'nonAscii' ? nonAsciiTokenIds(loaded.header, options.modelPath) : []
      const extra = options.extraTokenBias
      const extraEntries: [number, number | 'never'][] = extra === undefined ? [] : Array.isArray(extra) ? extra.map((id: number) => [id, 'never']) : [...(extra as ReadonlyMap<number, number | 'never'>)]
      let tokenBias: TokenBias | undefined
      if (banned.length > 0 || extraEntries.length > 0) {
        tokenBias = new TokenBias(loaded.model.tokenizer)
        for (const id of banned) tokenBias.set(id as Token, 'never')
        for (const [id, bias] of extraEntries) tokenBias.set(id as Token, bias)
      }
      for (let i = 0; i < contexts; i++) slots.push(await createSlot(loaded.model, settings.contextSize))
      const description = `${basename(options.modelPath)} on llama.cpp (${loaded.llama.gpu === false ? 'CPU' : loaded.llama.gpu}), ${contexts} context${contexts === 1 ? '' : 's'} × 1 thread`
      const chatWrapper = resolveChatWrapper(loaded.model)
      return new LlamaQaGenerator({ loaded, slots, tokenBias, settings, description, chatWrapper, grammarStateClass: LlamaGrammarEvaluationState })
    } catch (error) {
      for (const slot of slots) await slot.context.dispose()
      await loaded.dispose()
      if (error instanceof LecternError) throw error
      throw new LecternError('invalid_argument', `${options.modelPath}: could not set up ${contexts} llama.cpp context${contexts === 1 ? '' : 's'} of ${settings.contextSize} tokens (${(error as Error).message})`, {
        file: options.modelPath,
        cause: error,
      })
    }
  }

  async generate(request: QaGenerationRequest, signal?: AbortSignal): Promise<QaGenerationResult> {
    const result = qaResultOf(request, performance.now())
    if (this.closed) return result('error', { error: 'the generator is closed' })
    const prompt = qaRequestPrompt(request)
    let promptTokens: Token[]
    try {
      promptTokens = this.renderPrompt(prompt)
    } catch (error) {
      return result('error', { error: `could not apply the model's chat template: ${(error as Error).message}` })
    }
    if (promptTokens.length + this.settings.maxOutputTokens > this.settings.contextSize) {
      return result('error', {
        error: `the chunk is too long: ${promptTokens.length} prompt tokens plus ${this.settings.maxOutputTokens} for the answer exceed the context of ${this.settings.contextSize}`,
      })
    }
    let grammar: LlamaGrammar
    try {
      grammar = await this.grammarFor(request.pairs)
    } catch (error) {
      return result('error', { error: `could not build the JSON grammar: ${(error as Error).message}` })
    }

    const slot = await this.acquireSlot(signal)
    if (slot === null) {
      const why = signal?.aborted ? CANCELLED : this.closed ? 'the generator is closed' : 'no llama.cpp context is left: recreating them after failures did not work'
      return result('error', { error: why })
    }
    const stopPrompt = new AbortController()
    let settleOutcome: (outcome: PromptOutcome) => void = () => undefined
    const outcome = new Promise<PromptOutcome>((resolve) => (settleOutcome = resolve))
    const progress: DecodeProgress = { promptTokens: 0, outputTokens: 0, text: '' }
    const inFlight: InFlightPrompt = { outputTokensSeen: 0, fail: (message) => settleOutcome({ kind: 'dead_end', message }) }
    slot.inFlight = inFlight
    const watchdog = setTimeout(() => settleOutcome({ kind: 'timeout' }), this.settings.timeoutMs)
    const onUserAbort = (): void => settleOutcome({ kind: 'cancelled' })
    signal?.addEventListener('abort', onUserAbort, { once: true })
    if (signal?.aborted) onUserAbort()

    this.decode(slot, promptTokens, grammar, request, progress, inFlight, stopPrompt.signal).then(
      (hitMaxTokens) => settleOutcome({ kind: 'done', text: progress.text, hitMaxTokens }),
      (error: unknown) => settleOutcome({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }),
    )
    const finished = await outcome
    clearTimeout(watchdog)
    signal?.removeEventListener('abort', onUserAbort)
    slot.inFlight = null
    const tokens = { promptTokens: progress.promptTokens, outputTokens: progress.outputTokens }
    const raw = progress.text

    if (finished.kind === 'done') {
      this.releaseSlot(slot)
      const parsed = parseQaOutput(finished.text, { pairs: request.pairs, questionMaxChars: this.settings.questionMaxChars, answerMaxChars: this.settings.answerMaxChars })
      const error = parsed.error === null ? null : finished.hitMaxTokens ? `${parsed.error} (the answer hit maxOutputTokens = ${this.settings.maxOutputTokens})` : parsed.error
      return result(error === null ? 'ok' : 'unparsable', { raw: finished.text, pairs: parsed.pairs, error, ...tokens })
    }
    // Anything else leaves the sequence in an unknown state (or a prompt that never settles): stop it and start the
    // slot over with a fresh context, so the next request finds a working one. The slot stays taken until then, but
    // this result does not wait for it.
    stopPrompt.abort()
    const renewal = this.renewSlot(slot).finally(() => this.renewals.delete(renewal))
    this.renewals.add(renewal)
    if (finished.kind === 'cancelled') return result('error', { raw, error: CANCELLED, ...tokens })
    if (finished.kind === 'timeout') {
      return result('timeout', { raw, error: `no complete answer within ${this.settings.timeoutMs} ms (${inFlight.outputTokensSeen} tokens generated)`, ...tokens })
    }
    return result('error', { raw, error: finished.message, ...tokens })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    unregisterForDeadEnds(this)
    for (const slot of this.slotList) slot.inFlight?.fail('the generator was closed')
    for (const waiter of this.waiters.splice(0)) waiter(null)
    await Promise.all([...this.renewals])
    await Promise.all(this.slotList.map((slot) => disposeWithin(slot.context)))
    await this.loaded.dispose().catch(() => undefined)
  }

  /** A sampler dead end was reported somewhere in the process; the prompts of ours that stopped moving are its victims. */
  handleDeadEnd(message: string, onlyPromptInProcess: boolean): void {
    const inFlight = this.slotList.flatMap((slot) => (slot.inFlight ? [slot.inFlight] : []))
    if (onlyPromptInProcess) {
      for (const prompt of inFlight) prompt.fail(message)
      return
    }
    const seen = inFlight.map((prompt) => prompt.outputTokensSeen)
    setTimeout(() => {
      inFlight.forEach((prompt, i) => {
        if (prompt.outputTokensSeen === seen[i]) prompt.fail(message)
      })
    }, DEAD_END_GRACE_MS)
  }

  /** Prompts of this generator now running; read by the process-wide dead-end listener. */
  inFlightCount(): number {
    return this.slotList.filter((slot) => slot.inFlight !== null).length
  }

  /** System prompt and instruction in the model's chat template, ending where the assistant's answer starts. */
  private renderPrompt(prompt: string): Token[] {
    const { contextText } = this.chatWrapper.generateContextState({
      chatHistory: [
        { type: 'system', text: this.settings.systemPrompt },
        { type: 'user', text: prompt },
        { type: 'model', response: [] },
      ],
    })
    return contextText.tokenize(this.loaded.model.tokenizer)
  }

  /** Generates into `progress` until the grammar's stop text, an end-of-generation token or the token limit; true at the limit. */
  private async decode(slot: Slot, promptTokens: Token[], grammar: LlamaGrammar, request: QaGenerationRequest, progress: DecodeProgress, inFlight: InFlightPrompt, stop: AbortSignal): Promise<boolean> {
    const { model } = this.loaded
    const { sequence } = slot
    // At least one prompt token is evaluated again: the first answer token is sampled from its logits.
    const kept = commonPrefixLength(sequence.contextTokens, promptTokens, promptTokens.length - 1)
    if (sequence.nextTokenIndex > kept) await sequence.eraseContextTokenRanges([{ start: kept, end: sequence.nextTokenIndex }])
    progress.promptTokens = promptTokens.length - kept
    const stopTexts = grammar.stopGenerationTriggers.map((trigger) => trigger.toString()).filter((text) => text !== '')
    const generated: Token[] = []
    const tokens = sequence.evaluate(promptTokens.slice(kept), {
      temperature: request.temperature,
      seed: request.seed,
      grammarEvaluationState: new this.grammarStateClass({ model, grammar }),
      ...(this.tokenBias ? { tokenBias: this.tokenBias } : {}),
    })
    for await (const token of tokens) {
      if (stop.aborted || model.isEogToken(token)) return false
      progress.text += model.detokenize([token], false, generated.slice(-DETOKENIZE_CONTEXT_TOKENS))
      generated.push(token)
      progress.outputTokens = generated.length
      inFlight.outputTokensSeen = generated.length
      const stopText = stopTexts.find((text) => progress.text.endsWith(text))
      if (stopText !== undefined) {
        progress.text = progress.text.slice(0, progress.text.length - stopText.length).trimEnd()
        return false
      }
      if (generated.length >= this.settings.maxOutputTokens) return true
    }
    return false
  }

  private grammarFor(pairs: number): Promise<LlamaGrammar> {
    const count = Math.max(1, Math.floor(pairs))
    let grammar = this.grammars.get(count)
    if (!grammar) {
      const limits: QaSchemaLimits = { pairs: count, questionMaxChars: this.settings.questionMaxChars, answerMaxChars: this.settings.answerMaxChars }
      grammar = this.loaded.llama.createGrammarForJsonSchema(qaJsonSchema(limits))
      grammar.catch(() => this.grammars.delete(count))
      this.grammars.set(count, grammar)
    }
    return grammar
  }

  private acquireSlot(signal: AbortSignal | undefined): Promise<Slot | null> {
    if (this.slotList.length === 0) return Promise.resolve(null)
    const free = this.slotList.find((slot) => !slot.busy)
    if (free) {
      free.busy = true
      return Promise.resolve(free)
    }
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const index = this.waiters.indexOf(take)
        if (index >= 0) this.waiters.splice(index, 1)
        resolve(null)
      }
      const take = (slot: Slot | null): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve(slot)
      }
      if (signal?.aborted) return resolve(null)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(take)
    })
  }

  private releaseSlot(slot: Slot): void {
    const next = this.closed ? undefined : this.waiters.shift()
    if (next) next(slot)
    else slot.busy = false
  }

  private async renewSlot(slot: Slot): Promise<void> {
    await disposeWithin(slot.context)
    if (this.closed) return
    try {
      const fresh = await createSlot(this.loaded.model, this.settings.contextSize)
      slot.context = fresh.context
      slot.sequence = fresh.sequence
      this.releaseSlot(slot)
    } catch {
      // The slot is lost (e.g. out of memory); the others keep working, and without any, waiting requests fail.
      const index = this.slotList.indexOf(slot)
      if (index >= 0) this.slotList.splice(index, 1)
      if (this.slotList.length === 0) for (const waiter of this.waiters.splice(0)) waiter(null)
    }
  }
}

interface DecodeProgress {
  promptTokens: number
  outputTokens: number
  text: string
}

function commonPrefixLength(a: readonly Token[], b: readonly Token[], atMost: number): number {
  const limit = Math.min(a.length, b.length, atMost)
  let length = 0
  while (length < limit && a[length] === b[length]) length++
  return length
}

type PromptOutcome = { kind: 'done'; text: string; hitMaxTokens: boolean } | { kind: 'failed'; message: string } | { kind: 'dead_end'; message: string } | { kind: 'timeout' } | { kind: 'cancelled' }

async function createSlot(model: LlamaModel, contextSize: number): Promise<Slot> {
  const context = await model.createContext({ contextSize, sequences: 1, threads: 1 })
  return { context, sequence: context.getSequence(), busy: false, inFlight: null }
}

async function disposeWithin(context: LlamaContext): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([context.dispose().catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, DISPOSE_WAIT_MS)))])
  clearTimeout(timer)
}

/**
 * node-llama-cpp reports a grammar/token-bias dead end as an unhandled rejection and leaves the prompt pending
 * (node-llama-cpp.md §3). One process listener, installed while any generator lives, hands it to them. Any other
 * unhandled rejection is rethrown when no one else listens, which is what Node does by default.
 */
const liveGenerators = new Set<LlamaQaGenerator>()

function onUnhandledRejection(reason: unknown): void {
  const message = reason instanceof Error ? reason.message : String(reason)
  if (message.startsWith(SAMPLER_DEAD_END)) {
    const inFlight = [...liveGenerators].reduce((sum, generator) => sum + generator.inFlightCount(), 0)
    for (const generator of liveGenerators) generator.handleDeadEnd(message, inFlight === 1)
    return
  }
  if (process.listenerCount('unhandledRejection') === 1) throw reason
}

function registerForDeadEnds(generator: LlamaQaGenerator): void {
  if (liveGenerators.size === 0) process.on('unhandledRejection', onUnhandledRejection)
  liveGenerators.add(generator)
}

function unregisterForDeadEnds(generator: LlamaQaGenerator): void {
  liveGenerators.delete(generator)
  if (liveGenerators.size === 0) process.off('unhandledRejection', onUnhandledRejection)
}
