import { basename } from 'node:path'
import type { Llama, LlamaEmbeddingContext, Token } from 'node-llama-cpp'
import { LecternError } from '../../../shared/errors.js'
import { defaultContextCount, loadCheckedLlamaModel, type LoadedLlamaModel } from '../../llm/loadLlamaModel.js'

export interface LlamaEmbedderOptions {
  modelPath: string
  /** A llama.cpp instance to share; without one, a CPU one is made and disposed on close. */
  llama?: Llama
  /** Embedding contexts working in parallel, one thread each. Defaults to `defaultContextCount()`. */
  contexts?: number
  /** Tokens per text; longer texts are cut to fit. Defaults to the model's training context, at most `512`. */
  contextSize?: number
  /** Defaults to `false`. */
  gpu?: false | 'auto'
}

/** Tokens kept free for the BOS/EOS (or CLS/SEP) tokens node-llama-cpp adds, plus the one its length check needs. */
const SPECIAL_TOKEN_ROOM = 3
const DEFAULT_MAX_CONTEXT = 512

/**
 * Text embeddings for clustering (domain-rc.md §2.2) from a GGUF through node-llama-cpp. Vectors are L2-normalised,
 * because llama.cpp returns raw hidden states (node-llama-cpp.md §3). Several single-thread contexts share the work;
 * one context evaluates one text at a time.
 */
export class LlamaEmbedder {
  readonly dimension: number
  readonly contextSize: number
  readonly description: string
  private readonly loaded: LoadedLlamaModel
  private readonly contexts: LlamaEmbeddingContext[]
  private closed = false

  private constructor(loaded: LoadedLlamaModel, contexts: LlamaEmbeddingContext[], contextSize: number, description: string) {
    this.loaded = loaded
    this.contexts = contexts
    this.contextSize = contextSize
    this.dimension = loaded.model.embeddingVectorSize
    this.description = description
  }

  static async create(options: LlamaEmbedderOptions): Promise<LlamaEmbedder> {
    const count = options.contexts ?? defaultContextCount()
    if (!Number.isInteger(count) || count < 1) throw new LecternError('invalid_argument', `contexts must be a positive integer, got ${count}`)
    const loaded = await loadCheckedLlamaModel(options.modelPath, { ...(options.llama ? { llama: options.llama } : {}), gpu: options.gpu ?? false })
    const contexts: LlamaEmbeddingContext[] = []
    try {
      const contextSize = options.contextSize ?? Math.min(loaded.model.trainContextSize, DEFAULT_MAX_CONTEXT)
      if (!Number.isInteger(contextSize) || contextSize <= SPECIAL_TOKEN_ROOM) throw new LecternError('invalid_argument', `contextSize must be an integer above ${SPECIAL_TOKEN_ROOM}, got ${contextSize}`)
      // The whole text goes into one batch: non-causal embedding models (BERT) need it, and it is the fastest anyway.
      for (let i = 0; i < count; i++) contexts.push(await loaded.model.createEmbeddingContext({ contextSize, batchSize: contextSize, threads: 1 }))
      const description = `${basename(options.modelPath)}, ${loaded.model.embeddingVectorSize} dimensions, ${count} context${count === 1 ? '' : 's'} × 1 thread`
      return new LlamaEmbedder(loaded, contexts, contextSize, description)
    } catch (error) {
      for (const context of contexts) await context.dispose()
      await loaded.dispose()
      if (error instanceof LecternError) throw error
      throw new LecternError('invalid_model_file', `${options.modelPath}: could not create an embedding context (${(error as Error).message})`, { file: options.modelPath, cause: error })
    }
  }

  /** One unit-length vector per text, in order. An empty text gets a zero vector. */
  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (this.closed) throw new LecternError('invalid_argument', 'the embedder is closed')
    const vectors: Float32Array[] = new Array<Float32Array>(texts.length)
    let next = 0
    await Promise.all(
      this.contexts.map(async (context) => {
        for (let index = next++; index < texts.length; index = next++) {
          signal?.throwIfAborted()
          vectors[index] = await this.embedOne(context, texts[index] ?? '')
        }
      }),
    ).catch((error: unknown) => {
      if (signal?.aborted) throw new LecternError('cancelled', 'embedding was cancelled', { cause: error })
      throw error
    })
    return vectors
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all(this.contexts.map((context) => context.dispose()))
    await this.loaded.dispose()
  }

  private async embedOne(context: LlamaEmbeddingContext, text: string): Promise<Float32Array> {
    const tokens = this.fitToContext(this.loaded.model.tokenize(text))
    if (tokens.length === 0) return new Float32Array(this.dimension)
    const embedding = await context.getEmbeddingFor(tokens)
    return normalized(embedding.vector)
  }

  /** Cuts the tail off a text that would not fit, instead of letting node-llama-cpp refuse it. */
  private fitToContext(tokens: Token[]): Token[] {
    const room = this.contextSize - SPECIAL_TOKEN_ROOM
    return tokens.length <= room ? tokens : tokens.slice(0, room)
  }
}

function normalized(vector: readonly number[]): Float32Array {
  let sumOfSquares = 0
  for (const value of vector) sumOfSquares += value * value
  const out = new Float32Array(vector.length)
  if (sumOfSquares === 0 || !Number.isFinite(sumOfSquares)) return out
  const scale = 1 / Math.sqrt(sumOfSquares)
  vector.forEach((value, i) => (out[i] = value * scale))
  return out
}
