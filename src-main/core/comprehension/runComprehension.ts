import type { ComprehendSummary, QaChunkOutcome, QaFilterSettings, QaGenerationStatus, QaRejectReason } from '../../shared/types/comprehension.js'
import type { ComprehensionStore, SourceChunk } from './ComprehensionStore.js'
import { judgeQaPairs } from './generate/checkQaPair.js'
import type { QaGenerator } from './generate/QaGenerator.js'
import { buildReadingComprehension } from './miners/buildReadingComprehension.js'

/** AdaptLLM's keyword task wants domain words of at least this many letters (domain-rc.md §5.3). */
const KEYWORD_MIN_LENGTH = 10
/** Chunks read from the database per query. */
const BATCH = 64

export interface ComprehensionProgress {
  done: number
  total: number
  produced: number
  rejected: number
  failed: number
  outputTokens: number
}

interface RunOptions {
  limit: number | null
  signal?: AbortSignal | undefined
  onProgress?: ((progress: ComprehensionProgress) => void) | undefined
}

export interface MineCorpusOptions extends RunOptions {
  seed: number
  domain: string | null
  /** Mine this many chunks and return their texts without storing anything. */
  preview: number | null
}

/**
 * Domain keywords without a general-language corpus: long words that recur across the corpus (in at least two
 * chunks and 0.1% of them) but are not everywhere (at most half of the chunks, which catches boilerplate).
 */
export function recurringLongWords(chunkCounts: ReadonlyMap<string, number>, chunkTotal: number): Set<string> {
  const least = Math.max(2, Math.ceil(chunkTotal * 0.001))
  const most = Math.max(least, Math.floor(chunkTotal * 0.5))
  return new Set([...chunkCounts].filter(([, n]) => n >= least && n <= most).map(([word]) => word))
}

/**
 * Regex mode: one AdaptLLM reading-comprehension text per active chunk that has none, stored batch by batch. A
 * chunk's text depends only on the seed, the chunk id and its text (and the corpus's keywords), so a resumed run
 * writes what an uninterrupted one would have.
 */
export async function mineCorpus(store: ComprehensionStore, options: MineCorpusOptions): Promise<Omit<ComprehendSummary, 'totals' | 'mode'>> {
  // A preview shows the first chunks whatever was mined before; a run takes the chunks not mined yet.
  const source = options.preview === null ? 'regex' : 'any'
  const total = Math.min(store.countPending(source), options.preview ?? options.limit ?? Infinity)
  const previewTexts: NonNullable<ComprehendSummary['rcPreview']> = []
  const domainKeywords = recurringLongWords(store.longWordChunkCounts(KEYWORD_MIN_LENGTH), store.countActiveChunks())
  let done = 0
  let produced = 0
  let afterId = 0
  while (done < total) {
    options.signal?.throwIfAborted()
    const chunks = store.pendingChunks(source, afterId, Math.min(BATCH, total - done))
    if (chunks.length === 0) break
    const rows = chunks.map((chunk) => {
      const rc = buildReadingComprehension({ key: chunk.id, text: chunk.text, title: chunk.ordinal === 0 ? chunk.title : null }, options.seed, {
        domain: options.domain ?? 'general',
        domainKeywords,
      })
      produced += rc.tasks.length
      return { chunkId: chunk.id, seed: options.seed, text: rc.text, taskCount: rc.tasks.length, tasksJson: JSON.stringify(rc.tasks.map(({ subcategory, question, answer }) => ({ subcategory, question, answer }))) }
    })
    if (options.preview === null) store.writeRcTexts(rows)
    else previewTexts.push(...rows.map(({ chunkId, text, taskCount }) => ({ chunkId, text, taskCount })))
    done += chunks.length
    afterId = chunks.at(-1)?.id ?? afterId
    options.onProgress?.({ done, total, produced, rejected: 0, failed: 0, outputTokens: 0 })
    // Mining is synchronous; yield so a cancel request can arrive between batches.
    await new Promise((resolve) => setImmediate(resolve))
  }
  return {
    processed: done,
    remaining: store.countPending('regex'),
    produced,
    rejected: 0,
    rejectedByReason: {},
    failed: {},
    outputTokens: 0,
    tokensPerSecond: null,
    preview: null,
    rcPreview: options.preview === null ? null : previewTexts,
  }
}

export interface GenerateQaOptions extends RunOptions {
  pairs: number
  temperature: number
  seed: number
  domain: string | null
  retryFailed: boolean
  filters: QaFilterSettings
  /** Run on this many chunks and return their outcomes without storing anything. */
  preview: number | null
}

/**
 * LLM mode: question/answer pairs for every active chunk without a recorded generation, `generator.slots` chunks
 * at a time. Each chunk's outcome (its pairs, every rejection with its reason, or the timeout/failure) is stored in
 * one transaction as soon as it arrives, so a killed run loses at most the chunks in flight and a rerun redoes
 * exactly those. Each chunk's sampling seed derives from the run seed and the chunk id, not from the order.
 */
export async function generateQaPairs(store: ComprehensionStore, generator: QaGenerator, options: GenerateQaOptions): Promise<Omit<ComprehendSummary, 'totals' | 'mode'>> {
  const pendingOptions = { retryFailed: options.retryFailed }
  const source = options.preview === null ? 'llm' : 'any'
  const cap = options.preview ?? options.limit ?? Infinity
  const total = Math.min(store.countPending(source, pendingOptions), cap)
  const progress: ComprehensionProgress = { done: 0, total, produced: 0, rejected: 0, failed: 0, outputTokens: 0 }
  const rejectedByReason: Partial<Record<QaRejectReason, number>> = {}
  const failed: Partial<Record<Exclude<QaGenerationStatus, 'ok'>, number>> = {}
  const outcomes: QaChunkOutcome[] = []
  let decodeMs = 0

  let afterId = 0
  let taken = 0
  let queue: SourceChunk[] = []
  const nextChunk = (): SourceChunk | undefined => {
    if (taken >= total || options.signal?.aborted) return undefined
    if (queue.length === 0) {
      queue = store.pendingChunks(source, afterId, BATCH, pendingOptions)
      afterId = queue.at(-1)?.id ?? afterId
    }
    const chunk = queue.shift()
    if (chunk) taken++
    return chunk
  }

  const handle = async (chunk: SourceChunk): Promise<void> => {
    const result = await generator.generate(
      { chunkId: chunk.id, text: chunk.text, pairs: options.pairs, domain: options.domain ?? undefined, seed: (options.seed * 1_000_003 + chunk.id) % 2 ** 31, temperature: options.temperature },
      options.signal,
    )
    // A generation cut short by a cancel is not an outcome of the chunk: it is redone on resume.
    if (options.signal?.aborted) return
    const judged = judgeQaPairs(result.pairs, chunk.text, options.filters)
    const outcome: QaChunkOutcome = { chunkId: chunk.id, status: result.status, error: result.error, pairs: judged, outputTokens: result.outputTokens, elapsedMs: result.ms }
    if (options.preview === null) {
      store.writeGeneration({
        chunkId: chunk.id,
        documentId: chunk.documentId,
        generator: generator.description,
        status: result.status,
        rawOutput: result.raw,
        error: result.error,
        promptTokens: result.promptTokens,
        outputTokens: result.outputTokens,
        elapsedMs: Math.round(result.ms),
        pairs: judged,
      })
    } else {
      outcomes.push(outcome)
    }
    progress.done++
    progress.outputTokens += result.outputTokens
    decodeMs += result.ms
    if (result.status !== 'ok') {
      progress.failed++
      failed[result.status] = (failed[result.status] ?? 0) + 1
    }
    for (const pair of judged) {
      if (pair.rejectReason === null) progress.produced++
      else {
        progress.rejected++
        rejectedByReason[pair.rejectReason] = (rejectedByReason[pair.rejectReason] ?? 0) + 1
      }
    }
    options.onProgress?.({ ...progress })
  }

  const started = performance.now()
  const lanes = Array.from({ length: Math.max(1, generator.slots) }, async () => {
    for (let chunk = nextChunk(); chunk; chunk = nextChunk()) await handle(chunk)
  })
  await Promise.all(lanes)
  options.signal?.throwIfAborted()
  const seconds = (performance.now() - started) / 1000
  return {
    processed: progress.done,
    remaining: store.countPending('llm', pendingOptions),
    produced: progress.produced,
    rejected: progress.rejected,
    rejectedByReason,
    failed,
    outputTokens: progress.outputTokens,
    tokensPerSecond: seconds > 0 && decodeMs > 0 ? progress.outputTokens / seconds : null,
    preview: options.preview === null ? null : outcomes.sort((a, b) => a.chunkId - b.chunkId),
    rcPreview: null,
  }
}
