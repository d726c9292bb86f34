import type { Database } from 'better-sqlite3'
import { LecternError } from '../../shared/errors.js'
import { jobLabels, jobRequestSchema, type JobKind, type JobParams, type JobRequest, type JobSummary } from '../../shared/types/jobs.js'
import type { PipelineInfo, PipelineState } from '../../shared/types/pipeline.js'
import type { JobStore } from '../jobs/JobStore.js'

/** What the runner needs from the job queue. */
export interface PipelineQueue {
  enqueue(request: JobRequest): JobSummary
  resume(jobId: string): JobSummary
  cancel(jobId: string): JobSummary
}

interface PipelineRow {
  id: number
  steps_json: string
  position: number
  job_ids_json: string
  state: PipelineState
  error: string | null
  created_at_ms: number
  updated_at_ms: number
}

type StoredStep = { kind: JobKind; params: unknown }

/**
 * Runs a chain of jobs one after another: each step is an ordinary job (its own progress, logs, checkpoints and
 * resume), and the next is queued when it succeeds. The chain lives in the project database, so after a crash or
 * a restart `recover()` resumes the interrupted step, or queues the next one if the step had finished. A failed
 * or cancelled step stops the chain; `continue()` resumes that step and carries on. At most one chain runs.
 */
export class PipelineRunner {
  constructor(
    private readonly db: Database,
    private readonly jobs: JobStore,
    private readonly queue: PipelineQueue,
    private readonly changed: (pipeline: PipelineInfo) => void,
  ) {}

  start(steps: readonly JobRequest[], nowMs = Date.now()): PipelineInfo {
    if (this.active() !== null) throw new LecternError('job_state', 'A pipeline is already running; cancel it or wait for it to finish')
    if (steps.length === 0) throw new LecternError('invalid_argument', 'A pipeline needs at least one step')
    const parsed: StoredStep[] = steps.map((step) => {
      const { kind, params } = jobRequestSchema.parse(step)
      return { kind, params }
    })
    const info = this.db
      .prepare(`INSERT INTO pipelines (steps_json, state, created_at_ms, updated_at_ms) VALUES (?, 'running', ?, ?)`)
      .run(JSON.stringify(parsed), nowMs, nowMs)
    const id = Number(info.lastInsertRowid)
    this.startStep(this.row(id)!)
    return this.publish(id)
  }

  /** The newest pipeline of the project, or null. */
  latest(): PipelineInfo | null {
    const row = this.db.prepare('SELECT * FROM pipelines ORDER BY id DESC LIMIT 1').get() as PipelineRow | undefined
    return row ? this.toInfo(row) : null
  }

  /** Called for every job update: moves the running chain on when its current step finished. */
  onJobUpdate(job: JobSummary): void {
    const row = this.active()
    if (row === null || this.currentJobId(row) !== job.id) return
    if (job.state === 'succeeded') this.advance(row)
    else if (job.state === 'failed' || job.state === 'cancelled') this.stop(row, `Step ${row.position + 1} (${job.label}) ${job.state}${job.error ? `: ${job.error.message}` : ''}`)
  }

  /** After the project opened: picks the running chain up where the last session left it. */
  recover(): void {
    const row = this.active()
    if (row === null) return
    const jobId = this.currentJobId(row)
    if (jobId === null) {
      this.startStep(row)
      this.publish(row.id)
      return
    }
    const job = this.jobs.get(jobId)
    if (job.state === 'succeeded') this.advance(row)
    else if (job.state === 'interrupted') {
      this.queue.resume(jobId)
      this.publish(row.id)
    } else if (job.state === 'failed' || job.state === 'cancelled') this.stop(row, `Step ${row.position + 1} (${job.label}) ${job.state}`)
  }

  /** Stops the chain and cancels its running step (which stays resumable as a job). */
  cancel(): PipelineInfo {
    const row = this.active()
    if (row === null) throw new LecternError('job_state', 'No pipeline is running')
    this.update(row.id, { state: 'cancelled', error: 'Cancelled' })
    const jobId = this.currentJobId(row)
    if (jobId !== null) {
      const job = this.jobs.get(jobId)
      if (job.state === 'queued' || job.state === 'running') this.queue.cancel(jobId)
    }
    return this.publish(row.id)
  }

  /** Resumes a stopped or cancelled chain: its current step is resumed (or started) and the chain goes on. */
  continue(): PipelineInfo {
    if (this.active() !== null) throw new LecternError('job_state', 'A pipeline is already running')
    const row = this.db.prepare(`SELECT * FROM pipelines WHERE state IN ('stopped', 'cancelled') ORDER BY id DESC LIMIT 1`).get() as PipelineRow | undefined
    if (!row) throw new LecternError('not_found', 'There is no stopped pipeline to continue')
    const pendingJobId = this.currentJobId(row)
    const pending = pendingJobId === null ? null : this.jobs.get(pendingJobId)
    if (pending !== null && (pending.state === 'queued' || pending.state === 'running')) {
      // A cancelled step still stopping would report `cancelled` after the chain went on, and stop it again.
      throw new LecternError('job_state', `Step ${row.position + 1} (${pending.label}) is still stopping; continue once it has stopped`)
    }
    this.update(row.id, { state: 'running', error: null })
    const jobId = this.currentJobId(row)
    if (jobId === null) this.startStep(this.row(row.id)!)
    else {
      const job = this.jobs.get(jobId)
      if (job.state === 'succeeded') this.advance(this.row(row.id)!)
      else if (job.resumable) this.queue.resume(jobId)
    }
    return this.publish(row.id)
  }

  private active(): PipelineRow | null {
    return (this.db.prepare(`SELECT * FROM pipelines WHERE state = 'running' ORDER BY id DESC LIMIT 1`).get() as PipelineRow | undefined) ?? null
  }

  private row(id: number): PipelineRow | null {
    return (this.db.prepare('SELECT * FROM pipelines WHERE id = ?').get(id) as PipelineRow | undefined) ?? null
  }

  private currentJobId(row: PipelineRow): string | null {
    return (JSON.parse(row.job_ids_json) as string[])[row.position] ?? null
  }

  private advance(row: PipelineRow): void {
    const steps = JSON.parse(row.steps_json) as StoredStep[]
    const position = row.position + 1
    if (position >= steps.length) {
      this.update(row.id, { position, state: 'succeeded' })
      this.publish(row.id)
      return
    }
    this.update(row.id, { position })
    this.startStep(this.row(row.id)!)
    this.publish(row.id)
  }

  private startStep(row: PipelineRow): void {
    const step = (JSON.parse(row.steps_json) as StoredStep[])[row.position]!
    const jobIds = JSON.parse(row.job_ids_json) as string[]
    // A job cannot finish before this returns (it runs in a worker), so its final update finds the stored id.
    jobIds[row.position] = this.queue.enqueue({ kind: step.kind, params: step.params } as JobRequest).id
    this.update(row.id, { jobIds })
  }

  private stop(row: PipelineRow, error: string): void {
    this.update(row.id, { state: 'stopped', error })
    this.publish(row.id)
  }

  private update(id: number, change: { position?: number; state?: PipelineState; error?: string | null; jobIds?: string[] }, nowMs = Date.now()): void {
    const row = this.row(id)!
    this.db
      .prepare('UPDATE pipelines SET position = ?, state = ?, error = ?, job_ids_json = ?, updated_at_ms = ? WHERE id = ?')
      .run(change.position ?? row.position, change.state ?? row.state, change.error === undefined ? row.error : change.error, JSON.stringify(change.jobIds ?? JSON.parse(row.job_ids_json)), nowMs, id)
  }

  private publish(id: number): PipelineInfo {
    const info = this.toInfo(this.row(id)!)
    this.changed(info)
    return info
  }

  private toInfo(row: PipelineRow): PipelineInfo {
    const steps = JSON.parse(row.steps_json) as StoredStep[]
    const jobIds = JSON.parse(row.job_ids_json) as (string | null)[]
    return {
      id: row.id,
      state: row.state,
      position: row.position,
      steps: steps.map((step, i) => {
        const jobId = jobIds[i] ?? null
        const job = jobId === null ? null : this.jobs.get(jobId)
        return {
          kind: step.kind,
          label: job?.label ?? (jobLabels[step.kind] as (p: JobParams<typeof step.kind>) => string)(step.params as never),
          jobId,
          state: job?.state ?? 'pending',
        }
      }),
      error: row.error,
      createdAtMs: row.created_at_ms,
      updatedAtMs: row.updated_at_ms,
    }
  }
}
