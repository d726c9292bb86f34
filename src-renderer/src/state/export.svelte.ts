import type { ApiClient } from '../../../src-main/shared/api'
import type { ExportInfo, ExportParamsInput, TrainRunInfo } from '../../../src-main/shared/types/export'
import type { JobSummary } from '../../../src-main/shared/types/jobs'
import { api } from '../api'
import { errorMessage } from './errorMessage'
import { activeNewestJob, followJobUpdate, isJobBusy, startFollowedJob } from './jobFollowing'
import { orShowError } from './shownError'

/** Runs an export or evaluation can use: those whose training finished. */
export const finishedRuns = (runs: readonly TrainRunInfo[]): TrainRunInfo[] => runs.filter((run) => run.state === 'succeeded')

/** The run `runId` names among `runs`, if listed. */
export const runById = (runs: readonly TrainRunInfo[], runId: string | null): TrainRunInfo | null => runs.find((run) => run.runId === runId) ?? null

/**
 * The Export screen's data: the project's training runs, the export job it starts and follows (kept live from
 * `onJobUpdate`), and the exports with their verification reports, reloaded when the job stops.
 */
export class ExportState {
  runs = $state.raw<TrainRunInfo[]>([])
  selectedRunId = $state<string | null>(null)
  /** Every export of the project, newest first. */
  exports = $state.raw<ExportInfo[]>([])
  job = $state.raw<JobSummary | null>(null)
  starting = $state(false)
  loaded = $state(false)
  error = $state<string | null>(null)
  /** Set when "show in folder" found no file manager (browser bridge): the path to go to by hand. */
  noFileManager = $state<string | null>(null)
  private readonly client: ApiClient
  private unsubscribe: (() => void) | null = null
  /** Counts export-list requests, so an older answer (the first load) never replaces a newer one (a finished job). */
  private exportsRequest = 0

  constructor(client: ApiClient) {
    this.client = client
  }

  get selectedRun(): TrainRunInfo | null {
    return runById(this.runs, this.selectedRunId)
  }

  get busy(): boolean {
    return isJobBusy(this.starting, this.job)
  }

  /** The export the followed job wrote (or is writing), once listed. */
  get currentExport(): ExportInfo | null {
    const job = this.job
    return job === null ? null : (this.exports.find((e) => e.jobId === job.id) ?? null)
  }

  /** Exports of the selected run other than the current one. */
  get earlierExports(): ExportInfo[] {
    const current = this.currentExport
    return this.exports.filter((e) => e.runId === this.selectedRunId && e !== current)
  }

  /** Follows job updates, loads the runs (selecting the newest finished one), the exports and a running export job. */
  async start(): Promise<void> {
    this.stop()
    this.unsubscribe = this.client.on('onJobUpdate', (job) => this.applyJob(job))
    try {
      const [runs, jobs] = await Promise.all([this.client.listRuns(), this.client.listJobs({ limit: 50 }), this.loadExports()])
      this.runs = runs
      this.selectedRunId ??= finishedRuns(runs)[0]?.runId ?? null
      this.job ??= activeNewestJob(jobs, 'export')
    } catch (error) {
      this.error = errorMessage(error)
    } finally {
      this.loaded = true
    }
  }

  stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    this.exportsRequest++
    this.runs = []
    this.selectedRunId = null
    this.exports = []
    this.job = null
    this.loaded = false
    this.error = null
    this.noFileManager = null
  }

  selectRun(runId: string): void {
    this.selectedRunId = runId
  }

  /** A folder from the native picker; null when cancelled or where there is none (browser), or on error (shown). */
  chooseDirectory(title: string): Promise<string | null> {
    return orShowError(this, () => this.client.chooseDirectory({ title }), null)
  }

  /** Starts an export; false when refused (error shown). */
  startExport(params: ExportParamsInput): Promise<boolean> {
    // "Where the export is" named an earlier export; the new one gets its own card.
    this.noFileManager = null
    return startFollowedJob(this, () => this.client.startJob({ kind: 'export', params }), () => this.job, (job) => (this.job = job))
  }

  async cancel(): Promise<void> {
    const job = this.job
    if (!job) return
    await orShowError(this, async () => this.applyJob(await this.client.cancelJob({ jobId: job.id })), undefined)
  }

  async loadExports(): Promise<void> {
    const sequence = ++this.exportsRequest
    try {
      const exports = await this.client.listExports({})
      if (sequence === this.exportsRequest) this.exports = exports
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  /** Opens the file manager at an export; where there is none, says where the export is instead. */
  async showInFolder(path: string): Promise<void> {
    this.noFileManager = null
    try {
      if (!(await this.client.showInFolder({ path }))) this.noFileManager = path
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  private applyJob(job: JobSummary): void {
    if (job.kind !== 'export') return
    const update = followJobUpdate(this.job, job)
    if (update === null) return
    this.job = job
    // The export row exists from the start (status running); a stopped job has its final status and report.
    if (update.replaced || update.finished) void this.loadExports()
  }
}

export const exportState = new ExportState(api)
