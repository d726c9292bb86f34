import type { ApiClient } from '../../../src-main/shared/api'
import type { JobLogLine, JobRequest, JobSummary } from '../../../src-main/shared/types/jobs'
import { api } from '../api'
import { errorMessage } from './errorMessage'
import { isActiveJob } from './jobFollowing'

const MAX_LOG_LINES = 200

/** Jobs of the open project, kept live from `onJobUpdate` / `onJobLog` after one snapshot. */
export class JobsState {
  jobs = $state.raw<JobSummary[]>([])
  logs = $state<Record<string, JobLogLine[]>>({})
  error = $state<string | null>(null)
  private readonly client: ApiClient
  private unsubscribe: (() => void)[] = []

  constructor(client: ApiClient) {
    this.client = client
  }

  get active(): JobSummary[] {
    return this.jobs.filter(isActiveJob)
  }

  /** Loads the snapshot for the open project and follows updates until `stop`. */
  async start(): Promise<void> {
    this.stop()
    this.unsubscribe = [
      this.client.on('onJobUpdate', (job) => this.upsert(job)),
      this.client.on('onJobLog', ({ jobId, line }) => {
        const lines = this.logs[jobId]
        if (lines) {
          lines.push(line)
          if (lines.length > MAX_LOG_LINES) lines.splice(0, lines.length - MAX_LOG_LINES)
        }
      }),
    ]
    try {
      const snapshot = await this.client.listJobs({ limit: 100 })
      // Events that arrived while the snapshot loaded are newer than the snapshot, and may name jobs
      // created after it was read.
      const live = this.jobs
      const merged = snapshot.map((job) => live.find((j) => j.id === job.id) ?? job)
      const created = live.filter((j) => !snapshot.some((job) => job.id === j.id))
      this.jobs = [...created, ...merged].sort((a, b) => Number(b.id) - Number(a.id))
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe()
    this.unsubscribe = []
    this.jobs = []
    this.logs = {}
  }

  /** Opens a job's log: the stored lines, plus any that arrive while they load. */
  async loadLog(jobId: string): Promise<void> {
    this.logs[jobId] = []
    try {
      const detail = await this.client.getJob({ jobId, logLimit: MAX_LOG_LINES })
      const arrived = this.logs[jobId] ?? []
      const isStored = (line: JobLogLine): boolean =>
        detail.logs.some((s) => s.atMs === line.atMs && s.level === line.level && s.message === line.message)
      this.logs[jobId] = [...detail.logs, ...arrived.filter((line) => !isStored(line))].slice(-MAX_LOG_LINES)
    } catch (error) {
      delete this.logs[jobId]
      this.error = errorMessage(error)
    }
  }

  forgetLog(jobId: string): void {
    delete this.logs[jobId]
  }

  startJob(request: JobRequest): Promise<void> {
    return this.act(() => this.client.startJob(request))
  }

  cancel(jobId: string): Promise<void> {
    return this.act(() => this.client.cancelJob({ jobId }))
  }

  resume(jobId: string): Promise<void> {
    return this.act(() => this.client.resumeJob({ jobId }))
  }

  private async act(call: () => Promise<JobSummary>): Promise<void> {
    this.error = null
    try {
      this.upsert(await call())
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  private upsert(job: JobSummary): void {
    const index = this.jobs.findIndex((j) => j.id === job.id)
    if (index === -1) this.jobs = [job, ...this.jobs].sort((a, b) => Number(b.id) - Number(a.id))
    else this.jobs = this.jobs.with(index, job)
  }
}

export const jobsState = new JobsState(api)
