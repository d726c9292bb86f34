import type { Llama, Token } from 'node-llama-cpp'
import { LecternError } from '../../../shared/errors.js'
import { defaultContextCount, loadCheckedLlamaModel } from '../../llm/loadLlamaModel.js'
import { nonAsciiTokenIds, type BannedTokenPolicy } from './LlamaQaGenerator.js'
import { QA_SYSTEM_PROMPT } from './qaPrompt.js'
import { qaJsonSchema, type QaSchemaLimits } from './qaSchema.js'

export interface RawDecodeBaselineOptions {
  modelPath: string
  /** The user prompts (e.g. from `buildQaPrompt`); they are wrapped in the chat template as the generator does. */
  prompts: readonly string[]
  /** The system prompt the generator uses, or `null` to decode the prompts bare, without the chat template. Defaults to `QA_SYSTEM_PROMPT`. */
  systemPrompt?: string | null
  /**
   * Tokens to generate after each prompt: one count for all, or one per prompt (the generator's own output lengths,
   * so the slots are as unevenly loaded as the generator's were). Decoding goes on through end-of-generation
   * tokens, so every prompt gets exactly this many.
   */
  outputTokensPerPrompt: number | readonly number[]
  llama?: Llama
  /** Defaults to `defaultContextCount()`, as the generator. */
  contexts?: number
  /** Defaults to `2048`. */
  contextSize?: number
  /** Defaults to `0.8`. */
  temperature?: number
  /** Defaults to `false`. */
  gpu?: false | 'auto'
  /**
   * Decode under the generator's JSON grammar too, to tell the grammar sampler's own cost from the generator's.
   * Decoding still runs to `outputTokensPerPrompt` (past the end of the JSON). Defaults to none: plain decoding.
   */
  grammar?: QaSchemaLimits
  /** Bans as in the generator. Defaults to `'none'`. */
  bannedTokenPolicy?: BannedTokenPolicy
}

export interface RawDecodeBaselineResult {
  prompts: number
  promptTokens: number
  outputTokens: number
  ms: number
  /** Generated tokens per second of wall time over all contexts together. */
  tokensPerSecond: number
}

/**
 * The ceiling a generator is measured against: plain `sequence.evaluate` decoding of the same model with the same
 * layout (one context per slot, one sequence and one thread each) and the same chat-templated prompts, but with no
 * watchdog, no reuse of a shared prompt prefix and, unless `grammar` is given, no grammar. Prompts are handed to the contexts in turn, as the
 * generator's slots take chunks.
 */
export async function rawDecodeBaseline(options: RawDecodeBaselineOptions): Promise<RawDecodeBaselineResult> {
  const contextCount = options.contexts ?? defaultContextCount()
  const contextSize = options.contextSize ?? 2048
  const perPrompt = options.outputTokensPerPrompt
  const outputTokensFor = (index: number): number => (typeof perPrompt === 'number' ? perPrompt : (perPrompt[index] ?? 0))
  if (typeof perPrompt !== 'number' && perPrompt.length !== options.prompts.length) {
    throw new LecternError('invalid_argument', `outputTokensPerPrompt has ${perPrompt.length} counts for ${options.prompts.length} prompts`)
  }
  for (let index = 0; index < options.prompts.length; index++) {
    const count = outputTokensFor(index)
    if (!Number.isInteger(count) || count < 1) throw new LecternError('invalid_argument', `outputTokensPerPrompt must be positive integers, got ${count} for prompt ${index}`)
  }
  const loaded = await loadCheckedLlamaModel(options.modelPath, { ...(options.llama ? { llama: options.llama } : {}), gpu: options.gpu ?? false })
  try {
    const { model, llama } = loaded
    const { LlamaGrammarEvaluationState, resolveChatWrapper, TokenBias } = await import('node-llama-cpp')
    const grammar = options.grammar ? await llama.createGrammarForJsonSchema(qaJsonSchema(options.grammar)) : undefined
    let tokenBias: InstanceType<typeof TokenBias> | undefined
    if (options.bannedTokenPolicy === 'nonAscii') {
      tokenBias = new TokenBias(model.tokenizer)
      for (const id of nonAsciiTokenIds(loaded.header, options.modelPath)) tokenBias.set(id as Token, 'never')
    }
    const systemPrompt = options.systemPrompt === undefined ? QA_SYSTEM_PROMPT : options.systemPrompt
    const chatWrapper = resolveChatWrapper(model)
    const tokenized = options.prompts.map((prompt) =>
      systemPrompt === null
        ? model.tokenize(prompt)
        : chatWrapper
            .generateContextState({ chatHistory: [{ type: 'system', text: systemPrompt }, { type: 'user', text: prompt }, { type: 'model', response: [] }] })
            .contextText.tokenize(model.tokenizer),
    )
    for (const [index, tokens] of tokenized.entries()) {
      if (tokens.length + outputTokensFor(index) > contextSize) {
        throw new LecternError('invalid_argument', `prompt ${index} has ${tokens.length} tokens; with ${outputTokensFor(index)} to generate it does not fit a context of ${contextSize}`)
      }
    }
    const contexts = await Promise.all(Array.from({ length: contextCount }, () => model.createContext({ contextSize, sequences: 1, threads: 1 })))
    try {
      let next = 0
      let promptTokens = 0
      let outputTokens = 0
      const started = performance.now()
      await Promise.all(
        contexts.map(async (context) => {
          const sequence = context.getSequence()
          for (let index = next++; index < tokenized.length; index = next++) {
            const tokens = tokenized[index] ?? []
            await sequence.clearHistory()
            promptTokens += tokens.length
            let generated = 0
            const wanted = outputTokensFor(index)
            for await (const _ of sequence.evaluate(tokens, {
              temperature: options.temperature ?? 0.8,
              seed: index,
              yieldEogToken: true,
              ...(grammar ? { grammarEvaluationState: new LlamaGrammarEvaluationState({ model, grammar }) } : {}),
              ...(tokenBias ? { tokenBias } : {}),
            })) {
              if (++generated >= wanted) break
            }
            if (generated < wanted) throw new Error(`raw decoding of prompt ${index} stopped after ${generated} of ${wanted} tokens`)
            outputTokens += generated
          }
        }),
      )
      const ms = performance.now() - started
      return { prompts: tokenized.length, promptTokens, outputTokens, ms, tokensPerSecond: ms > 0 ? outputTokens / (ms / 1000) : 0 }
    } finally {
      await Promise.all(contexts.map((context) => context.dispose()))
    }
  } finally {
    await loaded.dispose()
  }
}
