import type { Database } from 'better-sqlite3'
import type { LogLevel } from '../../shared/types/jobs.js'
import { DEFAULT_CORPUS_SETTINGS, type CorpusSettings, type FileProblem, type ImportSummary } from '../../shared/types/corpus.js'
import { ZipArchive, type InflateBudget } from './archive/ZipArchive.js'
import type { TokenCounter } from './chunkDocument.js'
import { CorpusStore, type CorpusFileRow } from './CorpusStore.js'
import { addWriteCounts, CorpusWriter, emptyWriteCounts, type WriteCounts } from './CorpusWriter.js'
import { describeImportError, isUnexpectedImportError } from './describeImportError.js'
import { estimateTokens } from './estimateTokens.js'
import { sha256OfBytes, sha256OfFile } from './fileSource.js'
import { DEFAULT_EXTRACTION_LIMITS, type CorpusFormat, type ExtractionLimits, type SourceBytes } from './formats/types.js'
import { ChunkPreparer, prepareSource } from './prepareDocuments.js'
import { InThreadPreparer, type PreparedFile, type PreparerConfig, type SourcePreparer } from './SourcePreparer.js'
import { formatOfPath, READERS } from './sourceFormats.js'
import { walkSources, type WalkedSource } from './walkSources.js'

export interface ImportProgress {
  phase: 'cleaning' | 'rechunking' | 'scanning' | 'importing'
  filesDone: number
  filesTotal: number
  bytesDone: number
  bytesTotal: number
  /** Chunks this run has written so far. */
  chunks: number
  currentPath: string | null
}

export interface ImportCorpusOptions {
  /** Chunking and deduplication settings to use from now on; unset fields keep the project's (or the defaults). */
  settings?: Partial<CorpusSettings> | undefined
  /** Counts tokens for `settings.tokenizerModel`; required when one is set. Defaults to the built-in estimate. */
  countTokens?: TokenCounter | undefined
  /** JSONL field / CSV column with the text. Defaults to the first of text, content, body. */
  textField?: string | undefined
  /** Defaults to `DEFAULT_EXTRACTION_LIMITS`. */
  limits?: Partial<ExtractionLimits> | undefined
  signal?: AbortSignal | undefined
  onProgress?: ((progress: ImportProgress) => void) | undefined
  log?: ((message: string, level?: LogLevel) => void) | undefined
  /** Least time between two progress reports. Defaults to 250 ms. */
  progressIntervalMs?: number | undefined
  /**
   * Starts what reads and prepares files (a worker, so preparing overlaps with writing); disposed at the end.
   * Defaults to preparing in this thread.
   */
  startPreparer?: ((config: PreparerConfig) => SourcePreparer) | undefined
}

/** Files a run lists in its summary; the project keeps every problem in corpus_files. */
const LISTED_PROBLEMS = 200
/** Archives inside archives inside archives… are refused beyond this depth. */
const MAX_ARCHIVE_DEPTH = 3

/** The settings an import uses: explicit ones, else the project's stored ones, else the defaults. */
export function resolveCorpusSettings(stored: CorpusSettings | null, explicit: Partial<CorpusSettings> = {}): CorpusSettings {
  const defined = Object.fromEntries(Object.entries(explicit).filter(([, value]) => value !== undefined)) as Partial<CorpusSettings>
  const settings = { ...DEFAULT_CORPUS_SETTINGS, ...stored, ...defined }
  if (!Number.isInteger(settings.chunkTokens) || settings.chunkTokens < 16) throw new RangeError(`chunk size must be an integer ≥ 16 tokens (got ${settings.chunkTokens})`)
  if (!Number.isInteger(settings.overlapTokens) || settings.overlapTokens < 0 || settings.overlapTokens >= settings.chunkTokens) {
    throw new RangeError(`overlap must be an integer from 0 to below the chunk size ${settings.chunkTokens} (got ${settings.overlapTokens})`)
  }
  if (!(settings.nearDuplicateThreshold > 0 && settings.nearDuplicateThreshold < 1)) throw new RangeError(`near-duplicate threshold must be between 0 and 1 (got ${settings.nearDuplicateThreshold})`)
  return settings
}

function sameChunking(a: CorpusSettings, b: CorpusSettings): boolean {
  return a.chunkTokens === b.chunkTokens && a.overlapTokens === b.overlapTokens && a.nearDuplicateThreshold === b.nearDuplicateThreshold && a.tokenizerModel === b.tokenizerModel
}

/**
 * Imports files and folders (recursively, archives included) into the project's corpus: each file is read
 * by its format's reader, cleaned, chunked and deduplicated, and recorded with its outcome. A file that
 * fails is recorded with its reason and the import goes on. Files already imported with the same size and
 * modification time (or the same content) are left alone, so running an import again is cheap and changes
 * nothing; a changed file is replaced. Each file's rows are written in transactions small enough that the
 * app's own writes never wait long, and a file a crash or cancel leaves half-written is redone by the next
 * run, so an interrupted import finishes with the same corpus as an uninterrupted one.
 */
export async function importCorpus(db: Database, paths: readonly string[], options: ImportCorpusOptions = {}): Promise<ImportSummary> {
  const store = new CorpusStore(db)
  const stored = store.settings<CorpusSettings>()
  const settings = resolveCorpusSettings(stored, options.settings)
  if (settings.tokenizerModel !== null && options.countTokens === undefined) throw new RangeError('a tokenizer model is set but no token counter was given')
  const limits = { ...DEFAULT_EXTRACTION_LIMITS, ...options.limits }
  const countTokens = options.countTokens ?? estimateTokens
  const preparerConfig: PreparerConfig = { settings, textField: options.textField, limits }
  const preparer = options.startPreparer?.(preparerConfig) ?? new InThreadPreparer(preparerConfig, countTokens)
  const restoreCache = store.useLargeCache()
  try {
    const run = new ImportRun(store, settings, new ChunkPreparer(settings, countTokens), preparer, limits, options)
    run.cleanUnfinished()
    if (stored !== null && !sameChunking(stored, settings)) await run.rechunkAll()
    store.saveSettings(settings)
    await run.scan(paths)
    await run.importAll(paths)
    return run.summary()
  } finally {
    restoreCache()
    await preparer.dispose()
  }
}

/** A file handed to the preparer, waiting to be written. */
interface PendingFile {
  path: string
  sizeBytes: number
  mtimeMs: number
  format: CorpusFormat
  existing: CorpusFileRow | null
  prepared: PreparedFile
}

class ImportRun {
  private readonly store: CorpusStore
  private readonly settings: CorpusSettings
  private readonly chunkPreparer: ChunkPreparer
  private readonly preparer: SourcePreparer
  private readonly writer: CorpusWriter
  private readonly limits: ExtractionLimits
  private readonly options: ImportCorpusOptions
  private readonly counts: WriteCounts = emptyWriteCounts()
  private readonly files = { seen: 0, added: 0, updated: 0, unchanged: 0, empty: 0, failed: 0, skipped: 0 }
  private readonly problems = { failed: [] as FileProblem[], skipped: [] as FileProblem[], warnings: [] as FileProblem[] }
  private readonly problemTotals = { failed: 0, skipped: 0, warnings: 0 }
  private progress: ImportProgress = { phase: 'cleaning', filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, chunks: 0, currentPath: null }
  private lastProgressMs = 0

  constructor(store: CorpusStore, settings: CorpusSettings, chunkPreparer: ChunkPreparer, preparer: SourcePreparer, limits: ExtractionLimits, options: ImportCorpusOptions) {
    this.store = store
    this.settings = settings
    this.chunkPreparer = chunkPreparer
    this.preparer = preparer
    this.options = options
    this.limits = limits
    this.writer = new CorpusWriter(store, chunkPreparer)
  }

  /** Removes what an interrupted run left half-written; those files are imported again from scratch. */
  cleanUnfinished(): void {
    const unfinished = this.store.unfinishedFiles()
    if (unfinished.length === 0) return
    this.log(`Redoing ${unfinished.length} file(s) an interrupted import left unfinished`)
    this.transaction(() => {
      for (const file of unfinished) {
        this.writer.removeFileDocuments(file.id)
        this.store.deleteFile(file.id)
      }
    })
  }

  /** Chunk settings changed: every document is chunked (and its chunks deduplicated) again, in id order. */
  async rechunkAll(): Promise<void> {
    this.log(`Chunk settings changed (${this.settings.chunkTokens} tokens, overlap ${this.settings.overlapTokens}, near-duplicate ≥ ${this.settings.nearDuplicateThreshold}): re-chunking the corpus`)
    this.report({ phase: 'rechunking' }, true)
    this.transaction(() => this.store.deleteAllChunks())
    let afterId = 0
    for (;;) {
      this.options.signal?.throwIfAborted()
      const page = this.store.chunkableDocuments(afterId, 64)
      if (page.length === 0) break
      this.transaction(() => {
        for (const document of page) this.writer.chunk(document.id, document.text, document.segments, document.keptByUser)
      })
      afterId = (page.at(-1) as { id: number }).id
      await yieldToEventLoop()
    }
  }

  /** Counts files and bytes first, so progress has a total and an ETA. */
  async scan(paths: readonly string[]): Promise<void> {
    this.report({ phase: 'scanning' }, true)
    let files = 0
    let bytes = 0
    for await (const entry of walkSources(paths, { signal: this.options.signal })) {
      files++
      if (entry.kind === 'file') bytes += entry.sizeBytes
      if (files % 1000 === 0) this.report({ filesTotal: files, bytesTotal: bytes })
    }
    this.report({ phase: 'importing', filesTotal: files, bytesTotal: bytes }, true)
  }

  /**
   * Walks the paths again and imports each file. Files to read go to the preparer as they are met, and are
   * written in the same order once the next one is on its way, so preparing overlaps with writing while
   * every duplicate decision is taken in walk order, as in a run without a worker.
   */
  async importAll(paths: readonly string[]): Promise<void> {
    const pending: PendingFile[] = []
    for await (const entry of walkSources(paths, { signal: this.options.signal })) {
      this.options.signal?.throwIfAborted()
      const next = await this.planEntry(entry, pending)
      if (next === null) {
        this.entryDone(entry)
        continue
      }
      pending.push(next)
      // Files handed out ahead of the one being written: enough to keep every preparer busy (each holds at most two batches of a few MB).
      while (pending.length > 2 * this.preparer.parallelism + 1) await this.writePending(pending.shift() as PendingFile)
    }
    await this.drain(pending)
    this.report({ currentPath: null }, true)
  }

  summary(): ImportSummary {
    return {
      files: { ...this.files },
      ...this.counts,
      failed: this.problems.failed,
      moreFailed: this.problemTotals.failed - this.problems.failed.length,
      skipped: this.problems.skipped,
      moreSkipped: this.problemTotals.skipped - this.problems.skipped.length,
      warnings: this.problems.warnings,
      moreWarnings: this.problemTotals.warnings - this.problems.warnings.length,
      settings: this.settings,
      corpus: this.store.totals(),
    }
  }

  /** Handles an entry that needs no reading now, or returns the file to prepare and write. */
  private async planEntry(entry: WalkedSource, pending: PendingFile[]): Promise<PendingFile | null> {
    this.files.seen++
    if (entry.kind === 'problem') {
      if (this.store.fileByPath(entry.path)) await this.drain(pending)
      this.recordProblem(entry.path, entry.status, entry.reason, null, 0, 0)
      return null
    }
    const format = formatOfPath(entry.path)
    const existing = this.store.fileByPath(entry.path)
    if (existing && (await this.isUnchanged(existing, entry.sizeBytes, entry.mtimeMs, format))) {
      this.files.unchanged++
      return null
    }
    // Whatever replaces an existing file's documents waits for the files before it: duplicates are decided in walk order.
    if (existing) await this.drain(pending)
    if (format === null) {
      this.recordProblem(entry.path, 'skipped', unsupportedReason(entry.path), null, entry.sizeBytes, entry.mtimeMs)
      return null
    }
    if (entry.sizeBytes > this.limits.maxFileBytes) {
      this.recordProblem(entry.path, 'failed', tooLargeReason(entry.sizeBytes, this.limits.maxFileBytes), format, entry.sizeBytes, entry.mtimeMs)
      return null
    }
    if (format === 'zip') {
      await this.drain(pending)
      this.report({ currentPath: entry.path })
      await this.importArchiveFile(entry.path, entry.sizeBytes, entry.mtimeMs)
      return null
    }
    const request = { path: entry.path, sizeBytes: entry.sizeBytes, format }
    return { ...request, mtimeMs: entry.mtimeMs, existing, prepared: this.preparer.prepare(request, this.options.signal) }
  }

  private async drain(pending: PendingFile[]): Promise<void> {
    while (pending.length > 0) await this.writePending(pending.shift() as PendingFile)
  }

  private async writePending(file: PendingFile): Promise<void> {
    this.report({ currentPath: file.path })
    await this.writeFile(file.path, file.sizeBytes, file.mtimeMs, file.format, file.existing, file.prepared)
    this.entryDone({ kind: 'file', path: file.path, sizeBytes: file.sizeBytes, mtimeMs: file.mtimeMs })
  }

  private entryDone(entry: WalkedSource): void {
    this.report({ filesDone: this.progress.filesDone + 1, bytesDone: this.progress.bytesDone + (entry.kind === 'file' ? entry.sizeBytes : 0) })
  }

  /**
   * Same size and time: unchanged. Same size, other time: compare content hashes (a copy or a `touch` is
   * not a change). Failed files and anything a crash left behind are always retried.
   */
  private async isUnchanged(existing: CorpusFileRow, sizeBytes: number, mtimeMs: number, format: CorpusFormat | 'zip' | null): Promise<boolean> {
    if (existing.status === 'failed' || existing.status === 'importing') return false
    if (existing.format !== format || existing.sizeBytes !== sizeBytes) return false
    if (existing.mtimeMs === mtimeMs) return true
    if (existing.contentSha256 === null) return false
    const sha256 = await sha256OfFile(existing.path).catch(() => null)
    if (sha256 !== existing.contentSha256) return false
    this.store.upsertFile({ ...existing, mtimeMs })
    return true
  }

  /** Writes a prepared file's documents, and records the file with its outcome. */
  private async writeFile(path: string, sizeBytes: number, mtimeMs: number, format: CorpusFormat, existing: CorpusFileRow | null, prepared: PreparedFile): Promise<void> {
    const fileId = this.transaction(() => {
      if (existing) this.addRechunked(this.writer.removeFileDocuments(existing.id))
      return this.store.upsertFile({ path, format, sizeBytes, mtimeMs, contentSha256: null, status: 'importing', reason: null, warnings: [] })
    })
    const warnings: string[] = []
    let documents = 0
    try {
      for await (const batch of prepared.batches) {
        this.options.signal?.throwIfAborted()
        warnings.push(...batch.warnings)
        const written = this.transaction(() => {
          const counts = emptyWriteCounts()
          for (const document of batch.documents) addWriteCounts(counts, this.writer.addDocument(fileId, document))
          return counts
        })
        documents += written.documents
        addWriteCounts(this.counts, written)
        this.report({ chunks: this.progress.chunks + written.chunks })
        await yieldToEventLoop()
      }
    } catch (error) {
      if (this.options.signal?.aborted) throw error
      this.transaction(() => this.addRechunked(this.writer.removeFileDocuments(fileId)))
      this.recordProblem(path, 'failed', describeImportError(error), format, sizeBytes, mtimeMs)
      const workerBug = (error as { cause?: { stack?: string } }).cause?.stack
      if (isUnexpectedImportError(error) || workerBug !== undefined) this.log(`${path}: ${workerBug ?? (error as Error).stack ?? String(error)}`, 'error')
      return
    }
    const status = documents === 0 ? 'empty' : 'imported'
    this.store.upsertFile({
      path,
      format,
      sizeBytes,
      mtimeMs,
      contentSha256: prepared.sha256(),
      status,
      reason: documents === 0 ? 'no text found' : null,
      warnings: capWarnings(warnings),
    })
    if (status === 'empty') this.files.empty++
    else if (existing) this.files.updated++
    else this.files.added++
    if (warnings.length > 0) this.listProblem('warnings', path, warnings.length === 1 ? (warnings[0] as string) : `${warnings[0]} (and ${warnings.length - 1} more)`)
  }

  /** A zip file: every member is imported as if it were a file, with its path inside the archive. */
  private async importArchiveFile(path: string, sizeBytes: number, mtimeMs: number): Promise<void> {
    // Members of an earlier version (or of a run that stopped inside this archive) are replaced as a whole.
    this.removeArchiveMembers(path)
    let archive: ZipArchive
    try {
      archive = await ZipArchive.open(path, { limits: this.limits, signal: this.options.signal })
    } catch (error) {
      this.recordProblem(path, 'failed', describeImportError(error), 'zip', sizeBytes, mtimeMs)
      return
    }
    const sha256 = await sha256OfFile(path).catch(() => null)
    this.store.upsertFile({ path, format: 'zip', sizeBytes, mtimeMs, contentSha256: sha256, status: 'importing', reason: null, warnings: [] })
    const failure = await this.importArchiveMembers(archive, { remainingBytes: this.limits.maxArchiveBytes }, 1)
    this.store.upsertFile({ path, format: 'zip', sizeBytes, mtimeMs, contentSha256: sha256, status: failure === null ? 'imported' : 'failed', reason: failure, warnings: [] })
    if (failure !== null) this.listProblem('failed', path, failure)
  }

  /** Returns the reason the archive could not be read to its end, or null. */
  private async importArchiveMembers(archive: ZipArchive, budget: InflateBudget, depth: number): Promise<string | null> {
    try {
      for (const rejected of archive.rejectedEntries) this.recordProblem(`${archive.displayPath}!/${rejected.name}`, 'failed', rejected.reason, null, 0, 0)
      for await (const member of archive.iterateEntries()) {
        this.options.signal?.throwIfAborted()
        if (member.isDirectory) continue
        if (member.name.split('/').some((part) => part.startsWith('.') || part === '__MACOSX')) continue
        this.files.seen++
        const format = formatOfPath(member.name)
        if (format === null) {
          this.recordProblem(member.displayPath, 'skipped', unsupportedReason(member.name), null, member.sizeBytes, 0)
        } else if (format === 'zip') {
          if (depth >= MAX_ARCHIVE_DEPTH) {
            this.recordProblem(member.displayPath, 'failed', `archive nested more than ${MAX_ARCHIVE_DEPTH} deep`, 'zip', member.sizeBytes, 0)
            continue
          }
          try {
            const nested = await ZipArchive.fromBytes(await member.readAll(), { displayPath: member.displayPath, limits: this.limits, inflateBudget: budget, signal: this.options.signal })
            const failure = await this.importArchiveMembers(nested, budget, depth + 1)
            if (failure !== null) this.recordProblem(member.displayPath, 'failed', failure, 'zip', member.sizeBytes, 0)
          } catch (error) {
            if (this.options.signal?.aborted) throw error
            this.recordProblem(member.displayPath, 'failed', describeImportError(error), 'zip', member.sizeBytes, 0)
          }
        } else {
          let bytesRead: Uint8Array | null = null
          const remembering: SourceBytes = {
            displayPath: member.displayPath,
            sizeBytes: member.sizeBytes,
            readAll: async () => (bytesRead = await member.readAll()),
            stream: () => member.stream(),
          }
          const options = { limits: this.limits, textField: this.options.textField, signal: this.options.signal }
          const prepared: PreparedFile = {
            batches: prepareSource(READERS[format], remembering, options, this.chunkPreparer),
            sha256: () => (bytesRead === null ? null : sha256OfBytes(bytesRead)),
          }
          await this.writeFile(member.displayPath, member.sizeBytes, 0, format, this.store.fileByPath(member.displayPath), prepared)
        }
      }
      return null
    } catch (error) {
      if (this.options.signal?.aborted) throw error
      return describeImportError(error)
    } finally {
      archive.close()
    }
  }

  private removeArchiveMembers(path: string): void {
    this.transaction(() => {
      for (const member of this.store.filesUnder(`${path}!/`)) {
        this.addRechunked(this.writer.removeFileDocuments(member.id))
        this.store.deleteFile(member.id)
      }
    })
  }

  private recordProblem(path: string, status: 'failed' | 'skipped', reason: string, format: CorpusFormat | 'zip' | null, sizeBytes: number, mtimeMs: number): void {
    const existing = this.store.fileByPath(path)
    this.transaction(() => {
      if (existing) this.addRechunked(this.writer.removeFileDocuments(existing.id))
      this.store.upsertFile({ path, format, sizeBytes, mtimeMs, contentSha256: null, status, reason, warnings: [] })
    })
    this.files[status]++
    this.listProblem(status, path, reason)
  }

  private listProblem(kind: 'failed' | 'skipped' | 'warnings', path: string, reason: string): void {
    this.problemTotals[kind]++
    if (this.problems[kind].length < LISTED_PROBLEMS) this.problems[kind].push({ path, reason })
    if (kind === 'failed') this.log(`${path}: ${reason}`, 'warn')
  }

  /** Chunks written because a removed document's duplicate took its place count as this run's work. */
  private addRechunked(counts: WriteCounts): void {
    this.counts.chunks += counts.chunks
    this.counts.tokens += counts.tokens
    this.counts.exactDuplicateChunks += counts.exactDuplicateChunks
    this.counts.nearDuplicateChunks += counts.nearDuplicateChunks
  }

  private transaction<T>(work: () => T): T {
    return this.store.db.transaction(work).immediate()
  }

  private report(patch: Partial<ImportProgress>, force = false): void {
    this.progress = { ...this.progress, ...patch }
    const now = Date.now()
    if (!force && now - this.lastProgressMs < (this.options.progressIntervalMs ?? 250)) return
    this.lastProgressMs = now
    this.options.onProgress?.({ ...this.progress })
  }

  private log(message: string, level: LogLevel = 'info'): void {
    this.options.log?.(message, level)
  }
}

function capWarnings(warnings: readonly string[]): string[] {
  return warnings.length <= 100 ? [...warnings] : [...warnings.slice(0, 100), `… and ${warnings.length - 100} more`]
}

function unsupportedReason(path: string): string {
  const dot = path.lastIndexOf('.')
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'))
  return dot > slash + 1 ? `unsupported file type (${path.slice(dot).toLowerCase()})` : 'unsupported file type (no extension)'
}

function tooLargeReason(sizeBytes: number, limitBytes: number): string {
  const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`
  return `file is ${mb(sizeBytes)}, over the ${mb(limitBytes)} limit per file`
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
