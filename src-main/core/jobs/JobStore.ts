import type { Database } from 'better-sqlite3'
import { LecternError, type SerializedError } from '../../shared/errors.js'
import {
  isResumable,
  JOB_STATES,
  type JobDetail,
  type JobKind,
  type JobLogLine,
  type JobState,
  type JobSummary,
  type LogLevel,
} from '../../shared/types/jobs.js'

interface JobRow {
  id: number
  kind: string
  label: string
  params_json: string
  state: JobState
  progress_done: number
  progress_total: number
  progress_message: string | null
  eta_seconds: number | null
  checkpoint_json: string | null
  result_json: string | null
  error_json: string | null
  attempts: number
  cancel_requested: number
  owner: string | null
  heartbeat_at_ms: number | null
  created_at_ms: number
  started_at_ms: number | null
  finished_at_ms: number | null
}

export interface ClaimedJob {
  id: string
  kind: JobKind
  params: unknown
  checkpoint: unknown
  progress: { done: number; total: number }
}

export interface ProgressUpdate {
  done: number
  total: number
  message: string | null
  etaSeconds: number | null
}

/** How long a running job's heartbeat may be silent before another process treats its owner as dead. */
export const STALE_HEARTBEAT_MS = 15_000

/** Persistence of jobs and their logs in project.db. All state transitions go through here. */
export class JobStore {
  private readonly db: Database

  constructor(db: Database) {
    this.db = db
  }

  insert(kind: JobKind, label: string, params: unknown, nowMs = Date.now()): JobSummary {
    const info = this.db
      .prepare(
        `INSERT INTO jobs (kind, label, params_json, state, created_at_ms, updated_at_ms)
         VALUES (?, ?, ?, 'queued', ?, ?)`,
      )
      .run(kind, label, JSON.stringify(params), nowMs, nowMs)
    return this.get(String(info.lastInsertRowid))
  }

  get(jobId: string): JobSummary {
    return toSummary(this.row(jobId))
  }

  detail(jobId: string, logLimit = 200): JobDetail {
    const row = this.row(jobId)
    return {
      ...toSummary(row),
      params: JSON.parse(row.params_json) as unknown,
      result: row.result_json === null ? null : (JSON.parse(row.result_json) as unknown),
      logs: this.logs(jobId, logLimit),
    }
  }

  list(limit = 200): JobSummary[] {
    const rows = this.db.prepare('SELECT * FROM jobs ORDER BY id DESC LIMIT ?').all(limit) as JobRow[]
    return rows.map(toSummary)
  }

  countsByState(): Record<JobState, number> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>
    const rows = this.db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as { state: JobState; n: number }[]
    for (const { state, n } of rows) counts[state] = n
    return counts
  }

  /** Oldest queued job, atomically marked running and owned by `owner`; null when the queue is empty. */
  claimNext(owner: string, nowMs = Date.now()): ClaimedJob | null {
    return this.db.transaction((): ClaimedJob | null => {
      const row = this.db.prepare(`SELECT * FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1`).get() as JobRow | undefined
      if (!row) return null
      this.db
        .prepare(
          `UPDATE jobs SET state = 'running', owner = ?, heartbeat_at_ms = ?, attempts = attempts + 1,
             started_at_ms = ?, finished_at_ms = NULL, error_json = NULL, cancel_requested = 0, eta_seconds = NULL,
             updated_at_ms = ?
           WHERE id = ?`,
        )
        .run(owner, nowMs, nowMs, nowMs, row.id)
      return {
        id: String(row.id),
        kind: row.kind as JobKind,
        params: JSON.parse(row.params_json) as unknown,
        checkpoint: row.checkpoint_json === null ? null : (JSON.parse(row.checkpoint_json) as unknown),
        progress: { done: row.progress_done, total: row.progress_total },
      }
    })()
  }

  updateProgress(jobId: string, progress: ProgressUpdate, nowMs = Date.now()): void {
    this.db
      .prepare(
        `UPDATE jobs SET progress_done = ?, progress_total = ?, progress_message = ?, eta_seconds = ?,
           heartbeat_at_ms = ?, updated_at_ms = ? WHERE id = ? AND state = 'running'`,
      )
      .run(progress.done, progress.total, progress.message, progress.etaSeconds, nowMs, nowMs, Number(jobId))
  }

  saveCheckpoint(jobId: string, checkpoint: unknown, nowMs = Date.now()): void {
    this.db
      .prepare(`UPDATE jobs SET checkpoint_json = ?, updated_at_ms = ? WHERE id = ?`)
      .run(JSON.stringify(checkpoint), nowMs, Number(jobId))
  }

  /**
   * Refreshes the heartbeat of every job this owner runs, and returns the ids whose cancellation was
   * requested (possibly by another process, e.g. `lectern cancel`).
   */
  heartbeat(owner: string, nowMs = Date.now()): string[] {
    this.db.prepare(`UPDATE jobs SET heartbeat_at_ms = ? WHERE owner = ? AND state = 'running'`).run(nowMs, owner)
    const rows = this.db
      .prepare(`SELECT id FROM jobs WHERE owner = ? AND state = 'running' AND cancel_requested = 1`)
      .all(owner) as { id: number }[]
    return rows.map((r) => String(r.id))
  }

  finish(
    jobId: string,
    state: Extract<JobState, 'succeeded' | 'failed' | 'cancelled' | 'interrupted'>,
    outcome: { result?: unknown; error?: SerializedError } = {},
    nowMs = Date.now(),
  ): JobSummary {
    this.db
      .prepare(
        `UPDATE jobs SET state = ?, result_json = ?, error_json = ?, eta_seconds = NULL, owner = NULL,
           finished_at_ms = ?, updated_at_ms = ? WHERE id = ?`,
      )
      .run(
        state,
        outcome.result === undefined ? null : JSON.stringify(outcome.result),
        outcome.error === undefined ? null : JSON.stringify(outcome.error),
        nowMs,
        nowMs,
        Number(jobId),
      )
    return this.get(jobId)
  }

  /**
   * Cancels a queued job at once; for a running job it only records the request, which the owning
   * process (maybe another one) acts on. Returns the job as it now stands.
   */
  requestCancel(jobId: string, nowMs = Date.now()): JobSummary {
    const job = this.get(jobId)
    if (job.state === 'queued') return this.finish(jobId, 'cancelled', {}, nowMs)
    if (job.state !== 'running') {
      throw new LecternError('job_state', `Job ${jobId} is ${job.state}; only queued or running jobs can be cancelled`)
    }
    this.db.prepare(`UPDATE jobs SET cancel_requested = 1, updated_at_ms = ? WHERE id = ?`).run(nowMs, Number(jobId))
    return this.get(jobId)
  }

  /** Puts an interrupted, cancelled or failed job back in the queue; it continues from its checkpoint. */
  requeue(jobId: string, nowMs = Date.now()): JobSummary {
    const job = this.get(jobId)
    if (!isResumable(job.state)) {
      throw new LecternError('job_state', `Job ${jobId} is ${job.state}; only interrupted, cancelled or failed jobs can be resumed`)
    }
    this.db
      .prepare(
        `UPDATE jobs SET state = 'queued', cancel_requested = 0, error_json = NULL, finished_at_ms = NULL,
           updated_at_ms = ? WHERE id = ?`,
      )
      .run(nowMs, Number(jobId))
    return this.get(jobId)
  }

  /**
   * Jobs left `running` by a process that is gone (killed, crashed, power loss) become `interrupted`.
   * A job counts as orphaned when its owner's heartbeat is stale or its owner process no longer exists.
   */
  markOrphansInterrupted(isOwnerAlive: (owner: string) => boolean, nowMs = Date.now()): JobSummary[] {
    const rows = this.db.prepare(`SELECT * FROM jobs WHERE state = 'running'`).all() as JobRow[]
    const orphaned = rows.filter(
      (r) => r.owner === null || r.heartbeat_at_ms === null || nowMs - r.heartbeat_at_ms > STALE_HEARTBEAT_MS || !isOwnerAlive(r.owner),
    )
    return orphaned.map((r) => {
      this.appendLog(String(r.id), 'warn', 'The process running this job stopped unexpectedly; resume to continue from the last checkpoint.', nowMs)
      return this.finish(
        String(r.id),
        'interrupted',
        { error: { code: 'interrupted', message: 'Interrupted: the process running this job stopped unexpectedly' } },
        nowMs,
      )
    })
  }

  appendLog(jobId: string, level: LogLevel, message: string, nowMs = Date.now()): JobLogLine {
    this.db.prepare(`INSERT INTO job_logs (job_id, at_ms, level, message) VALUES (?, ?, ?, ?)`).run(Number(jobId), nowMs, level, message)
    return { atMs: nowMs, level, message }
  }

  logs(jobId: string, limit = 200): JobLogLine[] {
    const rows = this.db
      .prepare(`SELECT at_ms, level, message FROM job_logs WHERE job_id = ? ORDER BY id DESC LIMIT ?`)
      .all(Number(jobId), limit) as { at_ms: number; level: LogLevel; message: string }[]
    return rows.reverse().map((r) => ({ atMs: r.at_ms, level: r.level, message: r.message }))
  }

  private row(jobId: string): JobRow {
    const id = Number(jobId)
    const row = Number.isSafeInteger(id) ? (this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined) : undefined
    if (!row) throw new LecternError('job_not_found', `No job with id ${jobId} in this project`)
    return row
  }
}

function toSummary(row: JobRow): JobSummary {
  const error = row.error_json === null ? null : (JSON.parse(row.error_json) as SerializedError)
  return {
    id: String(row.id),
    kind: row.kind as JobKind,
    label: row.label,
    state: row.state,
    progress: {
      done: row.progress_done,
      total: row.progress_total,
      fraction: row.progress_total > 0 ? Math.min(1, row.progress_done / row.progress_total) : null,
      message: row.progress_message,
      etaSeconds: row.state === 'running' ? row.eta_seconds : null,
    },
    createdAtMs: row.created_at_ms,
    startedAtMs: row.started_at_ms,
    finishedAtMs: row.finished_at_ms,
    attempts: row.attempts,
    resumable: isResumable(row.state),
    cancelRequested: row.cancel_requested === 1,
    error: error === null ? null : { code: error.code, message: error.message, ...(error.file === undefined ? {} : { file: error.file }) },
  }
}
