/**
 * Speed of regex mode (AdaptLLM reading-comprehension mining) on generated passages stored as chunks in a project
 * database: the app's `mineCorpus`, which reads the pending chunks, counts the corpus's long words for the keyword
 * task, mines every chunk and writes its RC text, against reading the same chunks through the same query and
 * against reading them and splitting their sentences (`splitSentences`, the first step of every mined chunk).
 * `buildReadingComprehension` alone on the texts in memory shows the miners' share. Figures are returned, never
 * asserted.
 */
import { createHash } from 'node:crypto'
import { ComprehensionStore, type SourceChunk } from '../../../src-main/core/comprehension/ComprehensionStore.js'
import { buildReadingComprehension } from '../../../src-main/core/comprehension/miners/buildReadingComprehension.js'
import { mineCorpus } from '../../../src-main/core/comprehension/runComprehension.js'
import { CorpusStore } from '../../../src-main/core/corpus/CorpusStore.js'
import { estimateTokens } from '../../../src-main/core/corpus/estimateTokens.js'
import { splitSentences } from '../../../src-main/core/corpus/splitSentences.js'
import { Project } from '../../../src-main/core/project/Project.js'
import { RssSampler } from '../RssSampler.js'
import { MinablePassages } from './minablePassages.js'

export interface MiningBenchOptions {
  /** Where the project is created (must not exist). */
  projectDir: string
  /** Passage text to generate and mine, in bytes (the passages are ASCII). */
  bytes: number
  /** Characters per passage, one passage per chunk. Defaults to `2000`. */
  passageChars?: number
  /** Chunks per stored document. Defaults to `100`. */
  chunksPerDocument?: number
  /** Seeds the passages and the miners. Defaults to `1`. */
  seed?: number
  log?: (line: string) => void
}

export interface MiningBenchResult {
  chunks: number
  bytes: number
  /** Writing the chunks into the project (not part of any rate below). */
  insertSeconds: number
  /** Reading every chunk through the query `mineCorpus` uses, 64 at a time. */
  readSeconds: number
  /** The same plus `splitSentences` over each chunk. */
  readSplitSeconds: number
  sentences: number
  /** `buildReadingComprehension` on the texts in memory, with no keywords, no database. */
  buildSeconds: number
  buildTasks: number
  /** `mineCorpus` over the project, RC texts stored. */
  mineSeconds: number
  /** Of `mineSeconds`: counting long words for the keyword task (one pass over the corpus). */
  keywordSeconds: number
  tasks: number
  processed: number
  peakRssBytes: number
}

export async function benchMining(options: MiningBenchOptions): Promise<MiningBenchResult> {
  const { projectDir, bytes, passageChars = 2000, chunksPerDocument = 100, seed = 1, log } = options
  const passages = new MinablePassages(seed)
  const texts: string[] = []
  let generated = 0
  while (generated < bytes) {
    const text = passages.passage(passageChars)
    texts.push(text)
    generated += text.length
  }
  log?.(`generated ${texts.length} passages, ${(generated / 1e6).toFixed(1)} MB`)

  const sampler = await RssSampler.start(100)
  const project = await Project.create(projectDir, 'bench')
  let result: Omit<MiningBenchResult, 'peakRssBytes'>
  try {
    let started = performance.now()
    insertChunks(project, texts, chunksPerDocument)
    const insertSeconds = seconds(started)
    log?.(`stored ${texts.length} chunks in ${insertSeconds.toFixed(1)} s`)
    const store = new ComprehensionStore(project.db)

    started = performance.now()
    let readChars = 0
    forEachPending(store, (chunk) => (readChars += chunk.text.length))
    const readSeconds = seconds(started)

    started = performance.now()
    let sentences = 0
    forEachPending(store, (chunk) => {
      for (const _ of splitSentences(chunk.text)) sentences++
    })
    const readSplitSeconds = seconds(started)
    if (readChars !== generated) throw new Error(`read back ${readChars} characters of ${generated}`)

    started = performance.now()
    let buildTasks = 0
    texts.forEach((text, i) => (buildTasks += buildReadingComprehension({ key: i + 1, text, title: null }, seed).tasks.length))
    const buildSeconds = seconds(started)
    log?.(`buildReadingComprehension in memory: ${buildSeconds.toFixed(1)} s`)

    started = performance.now()
    store.longWordChunkCounts(10)
    const keywordSeconds = seconds(started)

    started = performance.now()
    const summary = await mineCorpus(store, { seed, domain: null, preview: null, limit: null })
    const mineSeconds = seconds(started)
    log?.(`mineCorpus: ${mineSeconds.toFixed(1)} s, ${summary.produced} tasks`)
    result = {
      chunks: texts.length,
      bytes: generated,
      insertSeconds,
      readSeconds,
      readSplitSeconds,
      sentences,
      buildSeconds,
      buildTasks,
      mineSeconds,
      keywordSeconds,
      tasks: summary.produced,
      processed: summary.processed,
    }
  } finally {
    project.close()
  }
  return { ...result, peakRssBytes: (await sampler.stop()).peakRssBytes }
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000
}

function forEachPending(store: ComprehensionStore, visit: (chunk: SourceChunk) => void): void {
  for (let afterId = 0; ; ) {
    const chunks = store.pendingChunks('regex', afterId, 64)
    if (chunks.length === 0) return
    chunks.forEach(visit)
    afterId = chunks.at(-1)!.id
  }
}

/** The passages as chunks of documents of one imported file, as an import would leave them (no duplicates). */
function insertChunks(project: Project, texts: readonly string[], chunksPerDocument: number): void {
  const store = new CorpusStore(project.db)
  const restoreCache = store.useLargeCache()
  const fileId = store.upsertFile({ path: '/bench/passages.txt', format: 'text', sizeBytes: 0, mtimeMs: 0, contentSha256: null, status: 'imported', reason: null, warnings: [] })
  for (let first = 0; first < texts.length; first += chunksPerDocument) {
    project.db.transaction(() => {
      const documentId = store.insertDocument({
        fileId,
        locator: `passages ${first}`,
        title: `Passages ${first}`,
        text: '',
        textSha256: `passages ${first}`,
        tokenCount: 0,
        segments: [],
        duplicateOf: null,
        keptByUser: false,
      })
      for (let i = first; i < Math.min(first + chunksPerDocument, texts.length); i++) {
        const text = texts[i]!
        store.insertChunk({
          documentId,
          ordinal: i - first,
          start: 0,
          end: text.length,
          text,
          tokenCount: estimateTokens(text),
          pageStart: null,
          pageEnd: null,
          section: null,
          textHash: createHash('sha256').update(text).digest(),
          minHash: null,
          duplicateOf: null,
          duplicateKind: null,
          similarity: null,
          keptByUser: false,
        })
      }
    })()
  }
  restoreCache()
}
