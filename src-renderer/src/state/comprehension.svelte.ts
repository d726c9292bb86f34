import type { ApiClient, QaPairListRequest } from '../../../src-main/shared/api'
import type {
  ClusterInfo,
  ClusterParamsInput,
  ClusterRunInfo,
  ClusterSummary,
  ComprehendParamsInput,
  ComprehendSummary,
  ComprehensionTotals,
  DatasetParamsInput,
  DatasetSummary,
  QaGenerationStatus,
  QaPairInfo,
  QaRejectReason,
} from '../../../src-main/shared/types/comprehension'
import type { JobRequest, JobSummary } from '../../../src-main/shared/types/jobs'
import { api } from '../api'
import { errorMessage } from './errorMessage'
import { followJobUpdate, isActiveJob } from './jobFollowing'
import { PagedRows } from './pagedRows.svelte'
import { orShowError } from './shownError'

export const QA_PAGE_SIZE = 50
export const CLUSTERS_PAGE_SIZE = 10

/**
 * Every reject reason with the words shown for it. The renderer does not import QA_REJECT_REASONS (its module
 * bundles zod); test/renderer/state/comprehension.svelte.test.ts keeps the two lists in step.
 */
export const REJECT_REASON_LABELS: Record<QaRejectReason, string> = {
  empty: 'Empty question or answer',
  copied_question: 'Question copied from the text',
  not_grounded: 'Answer not found in the text',
  too_long: 'Too long',
  duplicate: 'Duplicate',
  broken_text: 'Broken text',
  user: 'Rejected by you',
}
export const REJECT_REASONS = Object.keys(REJECT_REASON_LABELS) as QaRejectReason[]

export const GENERATION_STATUS_LABELS: Record<QaGenerationStatus, string> = {
  ok: 'OK',
  unparsable: 'Unparsable output',
  timeout: 'Timed out',
  error: 'Error',
}

export type QaStatusFilter = 'all' | 'accepted' | 'rejected'
export type QaSort = NonNullable<QaPairListRequest['sort']>

export interface QaQuery {
  search: string
  status: QaStatusFilter
  reason: QaRejectReason | null
  sort: QaSort
  descending: boolean
}

export const DEFAULT_QUERY: QaQuery = { search: '', status: 'all', reason: null, sort: 'chunk', descending: false }

/** The jobs this screen follows: a full comprehension run, a preview of one, clustering and the dataset build. */
export type JobSlot = 'run' | 'preview' | 'cluster' | 'dataset'
const SLOTS: readonly JobSlot[] = ['run', 'preview', 'cluster', 'dataset']
const EMPTY_JOBS: Record<JobSlot, JobSummary | null> = { run: null, preview: null, cluster: null, dataset: null }

const canResume = (job: JobSummary): boolean => job.resumable && (job.state === 'cancelled' || job.state === 'interrupted' || job.state === 'failed')

/** Which slot a job belongs in; previews are told apart by the label jobLabels gives them. */
export function slotOf(job: JobSummary): JobSlot | null {
  switch (job.kind) {
    case 'comprehend':
      return job.label.startsWith('Preview:') ? 'preview' : 'run'
    case 'cluster':
      return 'cluster'
    case 'dataset':
      return 'dataset'
    default:
      return null
  }
}

/** Live yield of a comprehension run, read from its progress message (the jobs API carries no metrics). */
export interface YieldFigures {
  done: number
  total: number
  /** Pairs kept (llm) or tasks mined (regex). */
  kept: number
  /** Null for mining, which rejects nothing. */
  rejected: number | null
  failed: number
}

const YIELD_PATTERN = /^(\d+) of (\d+) chunks · (\d+) (pairs kept|tasks mined)(?:, (\d+) rejected)?(?:, (\d+) chunks failed)?/

export function parseYield(message: string | null): YieldFigures | null {
  const match = message === null ? null : YIELD_PATTERN.exec(message)
  if (!match) return null
  const llm = match[4] === 'pairs kept'
  return {
    done: Number(match[1]),
    total: Number(match[2]),
    kept: Number(match[3]),
    rejected: llm ? Number(match[5] ?? 0) : null,
    failed: Number(match[6] ?? 0),
  }
}

/** What a preview shows: per chunk the pairs with ✓ or their reject reason (llm), or the mined texts (regex). */
export type PreviewView =
  | {
      mode: 'llm'
      chunks: {
        chunkId: number
        status: QaGenerationStatus
        statusLabel: string
        error: string | null
        pairs: { question: string; answer: string; accepted: boolean; reason: string | null }[]
      }[]
    }
  | { mode: 'regex'; texts: { chunkId: number; text: string; taskCount: number }[] }

export function previewView(summary: ComprehendSummary): PreviewView {
  if (summary.mode === 'regex') return { mode: 'regex', texts: summary.rcPreview ?? [] }
  return {
    mode: 'llm',
    chunks: (summary.preview ?? []).map((chunk) => ({
      chunkId: chunk.chunkId,
      status: chunk.status,
      statusLabel: GENERATION_STATUS_LABELS[chunk.status],
      error: chunk.error,
      pairs: chunk.pairs.map((pair) => ({
        question: pair.question,
        answer: pair.answer,
        accepted: pair.rejectReason === null,
        reason: pair.rejectReason === null ? null : reasonText(pair.rejectReason, pair.rejectDetail),
      })),
    })),
  }
}

/** "Answer not found in the text (40% of its words)". */
export function reasonText(reason: QaRejectReason, detail: string | null): string {
  return detail ? `${REJECT_REASON_LABELS[reason]} (${detail})` : REJECT_REASON_LABELS[reason]
}

/**
 * The Comprehension screen's data: totals, the jobs it starts and follows (kept live from `onJobUpdate`, their
 * results loaded once they succeed), the QA pairs under review (fetched a page at a time as the grid scrolls), a page
 * of clusters and the built dataset.
 */
export class ComprehensionState {
  totals = $state.raw<ComprehensionTotals | null>(null)
  jobs = $state.raw<Record<JobSlot, JobSummary | null>>({ ...EMPTY_JOBS })
  starting = $state.raw<Record<JobSlot, boolean>>({ run: false, preview: false, cluster: false, dataset: false })
  runSummary = $state.raw<ComprehendSummary | null>(null)
  previewSummary = $state.raw<ComprehendSummary | null>(null)
  clusterSummary = $state.raw<ClusterSummary | null>(null)
  dataset = $state.raw<DatasetSummary | null>(null)

  /** The pairs that match `query`, in its order. */
  readonly pairs = new PagedRows<QaPairInfo>({
    pageSize: QA_PAGE_SIZE,
    fetchPage: async (offset, limit) => {
      const page = await this.client.listQaPairs({ ...this.pairsFilter(), offset, limit })
      return { total: page.total, rows: page.pairs }
    },
    onError: (error) => (this.error = errorMessage(error)),
  })
  query = $state.raw<QaQuery>({ ...DEFAULT_QUERY })
  /** Accepted pairs a bulk reject would hit, while the confirmation is shown. */
  bulkRejectCount = $state<number | null>(null)
  /** How many the last bulk reject rejected. */
  bulkRejected = $state<number | null>(null)

  clusterKind = $state<'extend' | 'kmeans'>('extend')
  clusterRun = $state.raw<ClusterRunInfo | null>(null)
  clusters = $state.raw<ClusterInfo[]>([])
  clustersTotal = $state(0)
  clustersOffset = $state(0)

  error = $state<string | null>(null)
  private readonly client: ApiClient
  private unsubscribe: (() => void) | null = null

  constructor(client: ApiClient) {
    this.client = client
  }

  busy(slot: JobSlot): boolean {
    const job = this.jobs[slot]
    return this.starting[slot] || (job !== null && isActiveJob(job))
  }

  resumable(slot: JobSlot): boolean {
    const job = this.jobs[slot]
    return job !== null && canResume(job)
  }

  /** Whether a bulk reject has something to filter by (the API refuses to reject every pair). */
  get canBulkReject(): boolean {
    return this.query.search.trim() !== '' || this.query.reason !== null
  }

  /** Follows job updates and loads totals, the first pages, the dataset and the jobs still running or resumable. */
  async start(): Promise<void> {
    this.stop()
    this.unsubscribe = this.client.on('onJobUpdate', (job) => this.applyJob(job))
    try {
      const [, , , , jobs] = await Promise.all([this.loadTotals(), this.pairs.reset(), this.loadClusters(), this.loadDataset(), this.client.listJobs({ limit: 50 })])
      const newest = [...jobs].sort((a, b) => Number(b.id) - Number(a.id))
      for (const slot of SLOTS) {
        const job = newest.find((j) => slotOf(j) === slot)
        if (job && this.jobs[slot] === null && (isActiveJob(job) || (slot !== 'preview' && canResume(job)))) this.setJob(slot, job)
      }
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    this.totals = null
    this.jobs = { ...EMPTY_JOBS }
    this.runSummary = null
    this.previewSummary = null
    this.clusterSummary = null
    this.dataset = null
    this.pairs.clear()
    this.query = { ...DEFAULT_QUERY }
    this.bulkRejectCount = null
    this.bulkRejected = null
    this.clusterKind = 'extend'
    this.clusterRun = null
    this.clusters = []
    this.clustersTotal = 0
    this.clustersOffset = 0
    this.error = null
  }

  /** A path from the native file picker; null when cancelled or where there is none (browser), or on error (shown). */
  chooseFile(title: string, extensions: string[]): Promise<string | null> {
    return orShowError(this, () => this.client.chooseFile({ title, extensions }), null)
  }

  async loadTotals(): Promise<void> {
    try {
      this.totals = await this.client.getComprehensionTotals()
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  /** Starts a comprehension run, or a preview of one when `params.preview` is set; false when refused (error shown). */
  startComprehend(params: ComprehendParamsInput): Promise<boolean> {
    const slot: JobSlot = params.preview == null ? 'run' : 'preview'
    return this.startIn(slot, { kind: 'comprehend', params })
  }

  startCluster(params: ClusterParamsInput): Promise<boolean> {
    return this.startIn('cluster', { kind: 'cluster', params })
  }

  startDataset(params: DatasetParamsInput): Promise<boolean> {
    return this.startIn('dataset', { kind: 'dataset', params })
  }

  async cancel(slot: JobSlot): Promise<void> {
    const job = this.jobs[slot]
    if (!job) return
    try {
      this.applyJob(await this.client.cancelJob({ jobId: job.id }))
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  async resume(slot: JobSlot): Promise<void> {
    const job = this.jobs[slot]
    if (!job) return
    this.error = null
    try {
      this.applyJob(await this.client.resumeJob({ jobId: job.id }))
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  // QA pair review

  /** Changes the search, filters or sort and starts the pairs over from the first page of what matches. */
  setQuery(patch: Partial<QaQuery>): Promise<void> {
    this.query = { ...this.query, ...patch }
    this.bulkRejectCount = null
    return this.pairs.reset()
  }

  /** Saves an edit or a decision and shows the stored row; false when refused (error shown). */
  async updatePair(id: number, patch: { question?: string; answer?: string; status?: 'accepted' | 'rejected' }): Promise<boolean> {
    this.error = null
    try {
      const updated = await this.client.updateQaPair({ id, ...patch })
      this.pairs.replace((pair) => pair.id === id, updated)
      if (patch.status !== undefined) await this.loadTotals()
      return true
    } catch (error) {
      this.error = errorMessage(error)
      return false
    }
  }

  /** Counts the accepted pairs the current search and reason would reject, for the confirmation. */
  async prepareBulkReject(): Promise<void> {
    if (!this.canBulkReject) return
    this.bulkRejected = null
    const { search, reason } = this.bulkFilter()
    try {
      const page = await this.client.listQaPairs({ status: 'accepted', limit: 1, ...(search ? { search } : {}), ...(reason ? { reason } : {}) })
      this.bulkRejectCount = page.total
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  cancelBulkReject(): void {
    this.bulkRejectCount = null
  }

  async confirmBulkReject(): Promise<void> {
    if (!this.canBulkReject) return
    const { search, reason } = this.bulkFilter()
    this.error = null
    try {
      const { rejected } = await this.client.rejectQaPairs({ ...(search ? { search } : {}), ...(reason ? { reason } : {}) })
      this.bulkRejected = rejected
      this.bulkRejectCount = null
      await Promise.all([this.pairs.refresh(), this.loadTotals()])
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  // Clusters and dataset

  setClusterKind(kind: 'extend' | 'kmeans'): Promise<void> {
    this.clusterKind = kind
    this.clustersOffset = 0
    return this.loadClusters()
  }

  goToClustersOffset(offset: number): Promise<void> {
    this.clustersOffset = Math.max(0, offset)
    return this.loadClusters()
  }

  async loadClusters(): Promise<void> {
    const kind = this.clusterKind
    try {
      const page = await this.client.listClusters({ kind, offset: this.clustersOffset, limit: CLUSTERS_PAGE_SIZE })
      if (this.clusterKind !== kind) return
      this.clusterRun = page.run
      this.clusters = page.clusters
      this.clustersTotal = page.total
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  async loadDataset(): Promise<void> {
    try {
      this.dataset = await this.client.getDataset()
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  private pairsFilter(): Omit<QaPairListRequest, 'offset' | 'limit'> {
    const { search, status, reason, sort, descending } = this.query
    return {
      sort,
      descending,
      ...(search.trim() === '' ? {} : { search: search.trim() }),
      ...(status === 'all' ? {} : { status }),
      ...(reason === null ? {} : { reason }),
    }
  }

  private bulkFilter(): { search: string | null; reason: QaRejectReason | null } {
    const search = this.query.search.trim()
    return { search: search === '' ? null : search, reason: this.query.reason }
  }

  private async startIn(slot: JobSlot, request: JobRequest): Promise<boolean> {
    this.starting = { ...this.starting, [slot]: true }
    this.error = null
    try {
      const job = await this.client.startJob(request)
      // Updates for this job may have arrived before the call returned; they are newer than its answer.
      if (this.jobs[slot]?.id !== job.id) {
        this.setJob(slot, job)
        this.clearResult(slot)
      }
      return true
    } catch (error) {
      this.error = errorMessage(error)
      return false
    } finally {
      this.starting = { ...this.starting, [slot]: false }
    }
  }

  private setJob(slot: JobSlot, job: JobSummary): void {
    this.jobs = { ...this.jobs, [slot]: job }
  }

  private clearResult(slot: JobSlot): void {
    if (slot === 'run') this.runSummary = null
    else if (slot === 'preview') this.previewSummary = null
    else if (slot === 'cluster') this.clusterSummary = null
  }

  private applyJob(job: JobSummary): void {
    const slot = slotOf(job)
    if (slot === null) return
    const update = followJobUpdate(this.jobs[slot], job)
    if (update === null) return
    if (update.replaced || update.restarted) this.clearResult(slot)
    this.setJob(slot, job)
    if (update.finished) void this.finished(slot, job)
  }

  /** Loads a finished job's result and refreshes what it changed (a stopped run has stored part of its work). */
  private async finished(slot: JobSlot, job: JobSummary): Promise<void> {
    try {
      if (job.state === 'succeeded' && slot !== 'dataset') {
        const detail = await this.client.getJob({ jobId: job.id, logLimit: 0 })
        if (this.jobs[slot]?.id !== job.id) return
        if (slot === 'run') this.runSummary = detail.result as ComprehendSummary
        else if (slot === 'preview') this.previewSummary = detail.result as ComprehendSummary
        else this.clusterSummary = detail.result as ClusterSummary
      }
      if (slot === 'preview') return
      const reloads = [this.loadTotals()]
      if (slot === 'run') reloads.push(this.pairs.refresh())
      if (slot === 'cluster') reloads.push(this.loadClusters())
      if (slot === 'dataset') reloads.push(this.loadDataset())
      await Promise.all(reloads)
    } catch (error) {
      this.error = errorMessage(error)
    }
  }
}

export const comprehensionState = new ComprehensionState(api)
