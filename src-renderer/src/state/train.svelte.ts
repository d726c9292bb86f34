import type { ApiClient } from '../../../src-main/shared/api'
import type { TrainRunInfo } from '../../../src-main/shared/types/export'
import type { JobSummary } from '../../../src-main/shared/types/jobs'
import type { TrainParamsInput, TrainStepMetrics } from '../../../src-main/shared/types/train'
import type { TrainCheckpointInfo, TrainPlanInfo } from '../../../src-main/shared/types/trainPlan'
import { api } from '../api'
import { EMPTY_TRAIN_FORM, type TrainForm } from '../screens/Train/trainOptions'
import { errorMessage } from './errorMessage'
import { followJobUpdate, isActiveJob, isJobBusy, startFollowedJob } from './jobFollowing'
import { orShowError } from './shownError'

/** How long the form must be still before the estimate is asked for again. */
export const PLAN_DEBOUNCE_MS = 300
/** The checkpoint list is reloaded at most this often while steps come in. */
export const CHECKPOINT_REFRESH_MS = 2000

export interface TrainStateOptions {
  /** Defaults to `PLAN_DEBOUNCE_MS`. */
  planDebounceMs?: number
}

/** The run id of a training job: its folder under `runs/` (trainRuns.ts). */
export const runIdOf = (job: JobSummary): string => `run-${job.id}`

/**
 * The Train screen's data: the memory estimate for the form as it is edited (debounced; older answers
 * dropped), the training job it starts or finds on load (running, or stopped and resumable) kept live from
 * `onJobUpdate`, the run's metrics (its metrics.jsonl, then `onJobMetrics` as steps come in) and checkpoints.
 */
export class TrainState {
  /** The form's values: kept while the user visits other pages (Models, to fetch a base), reset with the project. */
  form = $state<TrainForm>(freshTrainForm())
  runs = $state.raw<TrainRunInfo[]>([])
  job = $state.raw<JobSummary | null>(null)
  metrics = $state.raw<TrainStepMetrics[]>([])
  checkpoints = $state.raw<TrainCheckpointInfo[]>([])
  plan = $state.raw<TrainPlanInfo | null>(null)
  planError = $state<string | null>(null)
  planning = $state(false)
  starting = $state(false)
  loaded = $state(false)
  error = $state<string | null>(null)
  private readonly client: ApiClient
  private readonly planDebounceMs: number
  private unsubscribers: (() => void)[] = []
  private planTimer: ReturnType<typeof setTimeout> | null = null
  private planRequest = 0
  private runRequest = 0
  private lastCheckpointLoadMs = 0

  constructor(client: ApiClient, { planDebounceMs = PLAN_DEBOUNCE_MS }: TrainStateOptions = {}) {
    this.client = client
    this.planDebounceMs = planDebounceMs
  }

  get busy(): boolean {
    return isJobBusy(this.starting, this.job)
  }

  /** A stopped run that can continue from its last checkpoint. */
  get resumable(): boolean {
    return this.job !== null && !isActiveJob(this.job) && this.job.resumable && (this.job.state === 'interrupted' || this.job.state === 'cancelled' || this.job.state === 'failed')
  }

  get runId(): string | null {
    return this.job === null ? null : runIdOf(this.job)
  }

  /** Follows job updates and metrics; finds the newest training run and follows its job if it runs or can resume. */
  async start(): Promise<void> {
    this.stop()
    this.unsubscribers = [
      this.client.on('onJobUpdate', (job) => this.applyJob(job)),
      this.client.on('onJobMetrics', ({ jobId, record }) => this.applyMetrics(jobId, record)),
    ]
    try {
      const runs = await this.client.listRuns()
      this.runs = runs
      // The newest run is shown whatever its state: running (followed live), stopped (offered to resume) or
      // finished (its curves and checkpoints); the form stays open for a new run unless one is running.
      const newest = runs[0]
      if (newest && this.job === null) {
        const job = await this.client.getJob({ jobId: newest.jobId, logLimit: 0 })
        if (this.job === null) this.follow(summaryOf(job))
      }
    } catch (error) {
      this.error = errorMessage(error)
    } finally {
      this.loaded = true
    }
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribers) unsubscribe()
    this.unsubscribers = []
    if (this.planTimer !== null) clearTimeout(this.planTimer)
    this.planTimer = null
    this.planRequest++
    this.runRequest++
    this.runs = []
    this.job = null
    this.metrics = []
    this.checkpoints = []
    this.plan = null
    this.planError = null
    this.planning = false
    this.loaded = false
    this.error = null
  }

  /** Back to the default form values (another project was opened). */
  resetForm(): void {
    this.form = freshTrainForm()
  }

  /** Asks for the estimate of `params` once the form has been still for a moment; null (invalid form) clears it. */
  requestPlan(params: TrainParamsInput | null): void {
    if (this.planTimer !== null) clearTimeout(this.planTimer)
    this.planTimer = null
    const sequence = ++this.planRequest
    if (params === null) {
      this.planning = false
      return
    }
    this.planning = true
    this.planTimer = setTimeout(() => {
      this.planTimer = null
      void this.loadPlan(params, sequence)
    }, this.planDebounceMs)
  }

  /** Starts a new run; false when refused (error shown). */
  startTraining(params: TrainParamsInput): Promise<boolean> {
    return startFollowedJob(this, () => this.client.startJob({ kind: 'train', params }), () => this.job, (job) => this.follow(job))
  }

  /** Stops the run at the next step; the trainer checkpoints first, so it can resume. */
  async pause(): Promise<void> {
    const job = this.job
    if (!job) return
    await orShowError(this, async () => this.applyJob(await this.client.cancelJob({ jobId: job.id })), undefined)
  }

  async resume(): Promise<void> {
    const job = this.job
    if (!job) return
    this.error = null
    await orShowError(this, async () => this.applyJob(await this.client.resumeJob({ jobId: job.id })), undefined)
  }

  /** Stops the run if it runs and sets it aside: the form is offered for a new run (the stopped one stays listed). */
  async cancel(): Promise<void> {
    const job = this.job
    if (!job) return
    try {
      if (isActiveJob(job)) await this.client.cancelJob({ jobId: job.id })
      this.runRequest++
      this.job = null
      this.metrics = []
      this.checkpoints = []
      this.runs = await this.client.listRuns()
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  /** A file from the native picker; null when cancelled or where there is none (browser), or on error (shown). */
  chooseFile(title: string, extensions: string[]): Promise<string | null> {
    return orShowError(this, () => this.client.chooseFile({ title, extensions }), null)
  }

  private async loadPlan(params: TrainParamsInput, sequence: number): Promise<void> {
    try {
      const plan = await this.client.planTraining(params)
      if (sequence !== this.planRequest) return
      this.plan = plan
      this.planError = null
    } catch (error) {
      if (sequence !== this.planRequest) return
      this.plan = null
      this.planError = errorMessage(error)
    } finally {
      if (sequence === this.planRequest) this.planning = false
    }
  }

  private follow(job: JobSummary): void {
    this.job = job
    this.metrics = []
    this.checkpoints = []
    void this.loadRunFiles()
  }

  /** The run's metrics.jsonl and checkpoints; metrics that arrived meanwhile (newer steps) are kept. */
  private async loadRunFiles(): Promise<void> {
    const job = this.job
    if (job === null) return
    const sequence = ++this.runRequest
    try {
      const runId = runIdOf(job)
      const [history, checkpoints] = await Promise.all([this.client.getRunMetrics({ runId }), this.client.listCheckpoints({ runId })])
      if (sequence !== this.runRequest) return
      const lastKept = history.at(-1)?.step ?? 0
      this.metrics = [...history, ...this.metrics.filter((m) => m.step > lastKept)]
      this.checkpoints = checkpoints
      this.lastCheckpointLoadMs = Date.now()
    } catch (error) {
      if (sequence === this.runRequest) this.error = errorMessage(error)
    }
  }

  private async loadCheckpoints(): Promise<void> {
    const job = this.job
    if (job === null) return
    this.lastCheckpointLoadMs = Date.now()
    try {
      const checkpoints = await this.client.listCheckpoints({ runId: runIdOf(job) })
      if (this.job?.id === job.id) this.checkpoints = checkpoints
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  private applyJob(job: JobSummary): void {
    if (job.kind !== 'train') return
    const update = followJobUpdate(this.job, job)
    if (update === null) return
    if (update.replaced) {
      this.follow(job)
      return
    }
    this.job = job
    if (update.finished) {
      void this.loadRunFiles()
      void this.client.listRuns().then((runs) => (this.runs = runs), () => undefined)
    }
  }

  private applyMetrics(jobId: string, record: Record<string, number>): void {
    if (this.job?.id !== jobId || typeof record['step'] !== 'number' || typeof record['loss'] !== 'number') return
    const metrics = record as unknown as TrainStepMetrics
    // A resumed run repeats the steps after its checkpoint: the new record replaces those.
    this.metrics = [...this.metrics.filter((m) => m.step < metrics.step), metrics]
    if (Date.now() - this.lastCheckpointLoadMs >= CHECKPOINT_REFRESH_MS) void this.loadCheckpoints()
  }
}

function freshTrainForm(): TrainForm {
  return { ...EMPTY_TRAIN_FORM, targets: [...EMPTY_TRAIN_FORM.targets] }
}

/** The summary part of a job detail (the detail's params, result and logs are not kept). */
function summaryOf(detail: JobSummary & { params?: unknown; result?: unknown; logs?: unknown }): JobSummary {
  const { params: _params, result: _result, logs: _logs, ...summary } = detail
  return summary
}

export const trainState = new TrainState(api)
