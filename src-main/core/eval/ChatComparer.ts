import type { ChatWrapper, Llama, Token } from 'node-llama-cpp'
import { LecternError } from '../../shared/errors.js'
import type { ChatReply, EvalReport } from '../../shared/types/export.js'
import { loadCheckedLlamaModel, type LoadedLlamaModel } from '../llm/loadLlamaModel.js'
import { SequenceScorer, tokenizeForScoring } from './SequenceScorer.js'

export interface ChatComparerOptions {
  /** A llama.cpp instance to load the models with. Defaults to one made on first use and disposed with the comparer. */
  llama?: Llama
  /** Largest context per model, in tokens (capped at the model's training length). Defaults to `2048`. */
  maxContextSize?: number
}

interface ChatModel {
  loaded: LoadedLlamaModel
  scorer: SequenceScorer
  /** The model's own chat template; null when its GGUF has none, and prompts go in raw. */
  chatWrapper: ChatWrapper | null
}

/**
 * Side-by-side chat between the base and the adapted model of an evaluation: the same prompt, in each model's chat
 * template when its GGUF has one, answered greedily (temperature 0) by one model after the other. The models stay
 * loaded (one single-thread context each) for the next prompt until `dispose()`; asking about another report's
 * pair of models unloads the previous pair first.
 */
export class ChatComparer {
  private readonly models = new Map<string, Promise<ChatModel>>()
  private llama: Promise<Llama> | null = null
  private queue: Promise<unknown> = Promise.resolve()
  private disposed = false

  public constructor(private readonly options: ChatComparerOptions = {}) {}

  /** Both models' replies to `prompt`, at most `maxTokens` tokens each; calls run one at a time, in order. */
  public reply(report: Pick<EvalReport, 'baseModel' | 'adaptedModel'>, prompt: string, maxTokens: number, signal?: AbortSignal): Promise<{ base: ChatReply; adapted: ChatReply }> {
    if (!Number.isInteger(maxTokens) || maxTokens < 1) return Promise.reject(new LecternError('invalid_argument', `maxTokens must be a positive integer; got ${maxTokens}`))
    if (prompt.trim() === '') return Promise.reject(new LecternError('invalid_argument', 'The prompt is empty'))
    const run = async (): Promise<{ base: ChatReply; adapted: ChatReply }> => {
      if (this.disposed) throw new LecternError('invalid_argument', 'The chat comparer was disposed')
      signal?.throwIfAborted()
      await this.keepOnly([report.baseModel, report.adaptedModel])
      const base = await this.answer(await this.model(report.baseModel), prompt, maxTokens, signal)
      const adapted = await this.answer(await this.model(report.adaptedModel), prompt, maxTokens, signal)
      return { base, adapted }
    }
    const result = this.queue.then(run, run)
    this.queue = result.catch(() => undefined)
    return result
  }

  /** Unloads every model (and the llama.cpp instance made here). Idempotent. */
  public async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    await this.queue
    await this.keepOnly([])
    if (this.llama !== null && this.options.llama === undefined) await (await this.llama.catch(() => null))?.dispose()
    this.llama = null
  }

  private async answer(model: ChatModel, prompt: string, maxTokens: number, signal: AbortSignal | undefined): Promise<ChatReply> {
    const started = performance.now()
    const { model: llamaModel } = model.loaded
    let tokens: Token[]
    if (model.chatWrapper === null) tokens = tokenizeForScoring(llamaModel, prompt)
    else {
      const { contextText } = model.chatWrapper.generateContextState({ chatHistory: [{ type: 'user', text: prompt }, { type: 'model', response: [] }] })
      tokens = contextText.tokenize(llamaModel.tokenizer)
    }
    // A prompt longer than the room left for the reply loses tokens from its left, as a chat history would.
    const room = Math.max(1, model.scorer.contextSize - maxTokens)
    if (tokens.length > room) tokens = tokens.slice(tokens.length - room)
    const generated = await model.scorer.greedy(tokens, maxTokens, () => false, signal)
    return { text: llamaModel.detokenize(generated), tokens: generated.length, elapsedMs: performance.now() - started }
  }

  private model(path: string): Promise<ChatModel> {
    let model = this.models.get(path)
    if (model === undefined) {
      model = this.load(path)
      this.models.set(path, model)
      model.catch(() => this.models.delete(path))
    }
    return model
  }

  private async load(path: string): Promise<ChatModel> {
    const llama = await this.sharedLlama()
    const loaded = await loadCheckedLlamaModel(path, { llama })
    try {
      const contextSize = Math.min(this.options.maxContextSize ?? 2048, loaded.model.trainContextSize)
      const scorer = await SequenceScorer.create(loaded.model, { contextSize })
      let chatWrapper: ChatWrapper | null = null
      if (typeof loaded.header.metadata.get('tokenizer.chat_template')?.value === 'string') {
        const { resolveChatWrapper } = await import('node-llama-cpp')
        chatWrapper = resolveChatWrapper(loaded.model)
      }
      return { loaded, scorer, chatWrapper }
    } catch (error) {
      await loaded.dispose()
      throw error
    }
  }

  private sharedLlama(): Promise<Llama> {
    if (this.options.llama !== undefined) return Promise.resolve(this.options.llama)
    this.llama ??= import('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) => getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error }))
    return this.llama
  }

  /** Unloads the cached models whose paths are not in `paths`. */
  private async keepOnly(paths: readonly string[]): Promise<void> {
    for (const [path, model] of [...this.models]) {
      if (paths.includes(path)) continue
      this.models.delete(path)
      const ready = await model.catch(() => null)
      if (ready === null) continue
      await ready.scorer.dispose()
      await ready.loaded.dispose()
    }
  }
}
