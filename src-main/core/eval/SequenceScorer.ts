import type { Llama, LlamaContext, LlamaContextOptions, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp'
import { LecternError } from '../../shared/errors.js'
import { loadCheckedLlamaModel, type LoadedLlamaModel } from '../llm/loadLlamaModel.js'

/**
 * llama.cpp hands back probabilities as float32 after a softmax, so a token far in the tail comes back as 0.
 * Its log-probability is then clamped here: about −103.3, the log of float32's smallest positive value.
 */
export const MIN_TOKEN_PROBABILITY = 1.401298464324817e-45

/** A model already loaded (the caller disposes it), or a GGUF file that is loaded and checked for the call. */
export type EvalModelSource = LoadedLlamaModel | { modelPath: string; llama?: Llama }

export interface EvalContextOptions {
  /** Tokens per context (per sequence). */
  contextSize: number
  /** Contexts evaluated in parallel, each with `threads: 1` (node-llama-cpp.md §4). Defaults to `1`. */
  contexts?: number
  /**
   * Flash attention off and an F32 KV cache, which keeps llama.cpp within about 1e-3 of a float64 forward pass at
   * twice the cache memory. Defaults to `false` (llama.cpp's defaults).
   */
  accurateKvCache?: boolean
}

/** The model behind a source, with a release that disposes it only when it was loaded here. */
export async function openEvalModel(source: EvalModelSource): Promise<{ model: LlamaModel; release: () => Promise<void> }> {
  if ('model' in source) return { model: source.model, release: async () => {} }
  const loaded = await loadCheckedLlamaModel(source.modelPath, source.llama === undefined ? {} : { llama: source.llama })
  return { model: loaded.model, release: () => loaded.dispose() }
}

/** `text` as the model reads it: its own tokenizer, with BOS in front when the model's vocab asks for one. */
export function tokenizeForScoring(model: LlamaModel, text: string): Token[] {
  const tokens = model.tokenize(text, false)
  const bos = model.tokens.bos
  return model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens
}

/** Length of the longest common prefix of two token lists. */
export function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a[i] === b[i]) i++
  return i
}

/**
 * One single-sequence context that scores token lists teacher-forced. It keeps what it last evaluated, so a
 * following list that shares a prefix (a question prompt scored with several answers) evaluates only the rest.
 */
export class SequenceScorer {
  private constructor(
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    /** Tokens this scorer accepts in one list. */
    public readonly contextSize: number,
  ) {}

  public static async create(model: LlamaModel, options: EvalContextOptions): Promise<SequenceScorer> {
    const contextOptions: LlamaContextOptions = {
      contextSize: options.contextSize,
      sequences: 1,
      threads: 1,
      batchSize: Math.min(options.contextSize, 512),
    }
    if (options.accurateKvCache === true) {
      contextOptions.flashAttention = false
      contextOptions.experimentalKvCacheKeyType = 'F32'
      contextOptions.experimentalKvCacheValueType = 'F32'
    }
    const context = await model.createContext(contextOptions)
    return new SequenceScorer(context, context.getSequence(), options.contextSize)
  }

  /**
   * Natural log of p(tokens[i] | tokens[0..i)) for every i in [from, tokens.length), read from llama.cpp's
   * next-token distribution after the raw logits (no sampling options, so nothing reshapes it).
   */
  public async logProbabilities(tokens: readonly Token[], from: number): Promise<Float64Array> {
    if (!Number.isInteger(from) || from < 1 || from > tokens.length) {
      throw new LecternError('invalid_argument', `Scoring starts at a token with a left context: from = ${from} for ${tokens.length} tokens`)
    }
    if (tokens.length > this.contextSize) {
      throw new LecternError('invalid_argument', `${tokens.length} tokens do not fit a context of ${this.contextSize}`)
    }
    const out = new Float64Array(tokens.length - from)
    if (out.length === 0) return out
    // The token at `from − 1` is (re)evaluated even when cached: its output distribution is the first one needed.
    const keep = await this.keepPrefix(tokens, from - 1)
    const input = tokens.slice(keep, tokens.length - 1).map((token, i): [Token, { generateNext?: { probabilities: true } }] =>
      keep + i >= from - 1 ? [token, { generateNext: { probabilities: true } }] : [token, {}],
    )
    const results = await this.sequence.controlledEvaluate(input)
    for (let position = from - 1; position < tokens.length - 1; position++) {
      const probabilities = results[position - keep]?.next.probabilities
      if (probabilities === undefined) throw new LecternError('internal', `llama.cpp returned no distribution at position ${position}`)
      const target = tokens[position + 1]!
      out[position + 1 - from] = Math.log(Math.max(probabilities.get(target) ?? 0, MIN_TOKEN_PROBABILITY))
    }
    return out
  }

  /**
   * Greedy continuation of `prompt` (temperature 0, no penalties) until `maxTokens`, an end-of-generation token,
   * or `stop(generated)` says so. Returns the generated tokens, the stopping one included.
   */
  public async greedy(prompt: readonly Token[], maxTokens: number, stop: (generated: readonly Token[]) => boolean, signal?: AbortSignal): Promise<Token[]> {
    if (prompt.length === 0) throw new LecternError('invalid_argument', 'Generation needs a prompt of at least one token')
    const room = Math.min(maxTokens, this.contextSize - prompt.length)
    const generated: Token[] = []
    if (room <= 0) return generated
    const keep = await this.keepPrefix(prompt, prompt.length - 1)
    const model = this.context.model
    for await (const token of this.sequence.evaluate(prompt.slice(keep), { temperature: 0 })) {
      signal?.throwIfAborted()
      if (model.isEogToken(token)) break
      generated.push(token)
      if (generated.length >= room || stop(generated)) break
    }
    return generated
  }

  public async dispose(): Promise<void> {
    await this.context.dispose()
  }

  /** Drops what the sequence holds beyond the prefix it shares with `tokens` (at most `limit`); returns the kept length. */
  private async keepPrefix(tokens: readonly Token[], limit: number): Promise<number> {
    const held = this.sequence.contextTokens
    const keep = Math.min(commonPrefixLength(held, tokens), limit)
    if (keep === 0 && held.length > 0) await this.sequence.clearHistory()
    else if (keep < this.sequence.nextTokenIndex) await this.sequence.eraseContextTokenRanges([{ start: keep, end: this.sequence.nextTokenIndex }])
    return keep
  }
}

/**
 * Runs `work` over items 0..count−1 on `scorers`, each scorer taking the next item when it is free. Stops at the
 * first failure or abort, waits for the scorers in flight, and rethrows.
 */
export async function runOnScorers(scorers: readonly SequenceScorer[], count: number, work: (scorer: SequenceScorer, index: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0
  let failed = false
  const lane = async (scorer: SequenceScorer): Promise<void> => {
    while (!failed && next < count) {
      signal?.throwIfAborted()
      const index = next++
      try {
        await work(scorer, index)
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  const results = await Promise.allSettled(scorers.map(lane))
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (rejected) throw rejected.reason
}

/** Opens the model and `contexts` scorers, runs `body`, and frees everything it opened whatever happens. */
export async function withScorers<T>(source: EvalModelSource, options: EvalContextOptions, body: (scorers: SequenceScorer[], model: LlamaModel) => Promise<T>): Promise<T> {
  const contexts = options.contexts ?? 1
  if (!Number.isInteger(contexts) || contexts < 1) throw new LecternError('invalid_argument', `contexts must be a positive integer; got ${contexts}`)
  if (!Number.isInteger(options.contextSize) || options.contextSize < 2) {
    throw new LecternError('invalid_argument', `contextSize must be an integer of at least 2; got ${options.contextSize}`)
  }
  const { model, release } = await openEvalModel(source)
  const scorers: SequenceScorer[] = []
  try {
    for (let i = 0; i < contexts; i++) scorers.push(await SequenceScorer.create(model, options))
    return await body(scorers, model)
  } finally {
    for (const scorer of scorers) await scorer.dispose()
    await release()
  }
}
