import type { ApiClient } from '../../../src-main/shared/api'
import type {
  ChunkDetail,
  ChunkInfo,
  CorpusFileInfo,
  CorpusFileStatus,
  CorpusTotals,
  DocumentInfo,
  ImportParamsInput,
  ImportSummary,
} from '../../../src-main/shared/types/corpus'
import type { JobSummary } from '../../../src-main/shared/types/jobs'
import { api } from '../api'
import { errorMessage } from './errorMessage'
import { followJobUpdate, isActiveJob, isJobBusy, startFollowedJob } from './jobFollowing'
import { PagedRows } from './pagedRows.svelte'
import { orShowError } from './shownError'

export type FileFilter = 'all' | 'failed' | 'skipped' | 'empty'

const FILTER_STATUSES: Record<FileFilter, CorpusFileStatus[] | undefined> = {
  all: undefined,
  failed: ['failed'],
  skipped: ['skipped'],
  empty: ['empty'],
}

export const FILES_PAGE_SIZE = 50
export const CHUNKS_PAGE_SIZE = 100

/**
 * The open project's corpus for the Import screen: totals, the source files (a page at a time as the table
 * scrolls), the import job being
 * followed (kept live from `onJobUpdate`, its ImportSummary loaded once it succeeds), and the selected
 * file's documents and chunks down to one chunk's text and source location.
 */
export class CorpusState {
  totals = $state.raw<CorpusTotals | null>(null)
  filter = $state<FileFilter>('all')
  /** The files that pass `filter`. */
  readonly files = new PagedRows<CorpusFileInfo>({
    pageSize: FILES_PAGE_SIZE,
    fetchPage: async (offset, limit) => {
      const statuses = FILTER_STATUSES[this.filter]
      const page = await this.client.listCorpusFiles({ offset, limit, ...(statuses ? { statuses } : {}) })
      return { total: page.total, rows: page.files }
    },
    onError: (error) => (this.error = errorMessage(error)),
  })
  /** The import started here (or found running on start), followed until the next one starts. */
  importJob = $state.raw<JobSummary | null>(null)
  /** The followed import's result, once it succeeded. */
  summary = $state.raw<ImportSummary | null>(null)
  starting = $state(false)
  selectedFile = $state.raw<CorpusFileInfo | null>(null)
  documents = $state.raw<DocumentInfo[]>([])
  /** The selected file's chunks, fetched a page at a time as their list scrolls. */
  readonly chunks = new PagedRows<ChunkInfo>({
    pageSize: CHUNKS_PAGE_SIZE,
    fetchPage: async (offset, limit) => {
      const file = this.selectedFile
      if (!file) return { total: 0, rows: [] }
      const page = await this.client.listChunks({ fileId: file.id, offset, limit })
      return { total: page.total, rows: page.chunks }
    },
    onError: (error) => (this.error = errorMessage(error)),
  })
  chunk = $state.raw<ChunkDetail | null>(null)
  error = $state<string | null>(null)
  private readonly client: ApiClient
  private unsubscribe: (() => void) | null = null

  constructor(client: ApiClient) {
    this.client = client
  }

  get importing(): boolean {
    return isJobBusy(this.starting, this.importJob)
  }

  /** Follows job updates and loads totals, the first files page and any import still running. */
  async start(): Promise<void> {
    this.stop()
    this.unsubscribe = this.client.on('onJobUpdate', (job) => this.applyJob(job))
    try {
      const [, , jobs] = await Promise.all([this.loadTotals(), this.files.reset(), this.client.listJobs({ limit: 20 })])
      const running = jobs.find((job) => job.kind === 'import' && isActiveJob(job))
      if (running && this.importJob === null) this.importJob = running
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    this.totals = null
    this.filter = 'all'
    this.files.clear()
    this.importJob = null
    this.summary = null
    this.closeFile()
    this.error = null
  }

  /** Paths from the native picker; null when cancelled or where there is none (browser), or on error (shown). */
  choosePaths(folders: boolean): Promise<string[] | null> {
    return orShowError(this, () => this.client.chooseImportPaths({ folders }), null)
  }

  /** Starts an import job; false (with the error shown) when the main process refuses it. */
  startImport(params: ImportParamsInput): Promise<boolean> {
    return startFollowedJob(
      this,
      () => this.client.importFiles(params),
      () => this.importJob,
      (job) => {
        this.importJob = job
        this.summary = null
      },
    )
  }

  async cancelImport(): Promise<void> {
    const job = this.importJob
    if (!job) return
    await orShowError(this, async () => this.applyJob(await this.client.cancelJob({ jobId: job.id })), undefined)
  }

  setFilter(filter: FileFilter): Promise<void> {
    this.filter = filter
    return this.files.reset()
  }

  async loadTotals(): Promise<void> {
    try {
      this.totals = (await this.client.getCurrentProject())?.corpus ?? null
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  /** Shows a file's documents and first page of chunks. */
  async selectFile(file: CorpusFileInfo): Promise<void> {
    this.selectedFile = file
    this.documents = []
    this.chunks.clear()
    this.chunk = null
    try {
      const [documents] = await Promise.all([this.client.listDocuments({ fileId: file.id }), this.chunks.reset()])
      if (this.selectedFile?.id !== file.id) return
      this.documents = documents
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  closeFile(): void {
    this.selectedFile = null
    this.documents = []
    this.chunks.clear()
    this.chunk = null
  }

  async selectChunk(chunkId: number): Promise<void> {
    try {
      this.chunk = await this.client.getChunk({ chunkId })
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  closeChunk(): void {
    this.chunk = null
  }

  /** Puts a duplicate chunk back into use, then refreshes what counts it. */
  async restoreChunk(chunkId: number): Promise<void> {
    this.error = null
    try {
      const restored = await this.client.restoreChunk({ chunkId })
      if (this.chunk?.id === chunkId) this.chunk = { ...this.chunk, ...restored }
      this.chunks.replace((chunk) => chunk.id === chunkId, restored)
      await this.refreshCounts()
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  /** Puts a document set aside as an exact duplicate back into use; the main process chunks it. */
  async restoreDocument(documentId: number): Promise<void> {
    this.error = null
    try {
      await this.client.restoreDocument({ documentId })
      const file = this.selectedFile
      if (file) await this.selectFile(file)
      await this.refreshCounts()
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  private async refreshCounts(): Promise<void> {
    await Promise.all([this.loadTotals(), this.files.refresh()])
  }

  private applyJob(job: JobSummary): void {
    if (job.kind !== 'import') return
    const update = followJobUpdate(this.importJob, job)
    if (update === null) return
    if (update.replaced) this.summary = null
    this.importJob = job
    if (update.finished) void this.finished(job)
  }

  /** Loads the result of a finished import and refreshes the corpus it changed (a failed one may have added files). */
  private async finished(job: JobSummary): Promise<void> {
    try {
      if (job.state === 'succeeded') {
        const detail = await this.client.getJob({ jobId: job.id, logLimit: 0 })
        if (this.importJob?.id !== job.id) return
        const summary = detail.result as ImportSummary
        this.summary = summary
        this.totals = summary.corpus
        await this.files.refresh()
      } else {
        await this.refreshCounts()
      }
    } catch (error) {
      this.error = errorMessage(error)
    }
  }
}

export const corpusState = new CorpusState(api)
