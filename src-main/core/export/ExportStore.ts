import type { Database } from 'better-sqlite3'
import type { ExportFileInfo, ExportFormat, ExportInfo, ExportStatus, ExportType, ExportVerification } from '../../shared/types/export.js'
import type { JobState } from '../../shared/types/jobs.js'

interface ExportRow {
  id: number
  job_id: number
  run_id: string
  format: ExportFormat
  type: ExportType | null
  path: string
  status: 'running' | 'verified' | 'failed'
  files_json: string
  verification_json: string | null
  error: string | null
  created_at_ms: number
  finished_at_ms: number | null
  job_state: JobState
}

/** The project's exports: one row per export job, with where it went, its files' checksums and its verification. */
export class ExportStore {
  constructor(private readonly db: Database) {}

  /** Records an export job starting (again, after a resume: the earlier attempt's outcome is cleared). */
  begin(jobId: string, entry: { runId: string; format: ExportFormat; type: ExportType | null; path: string }, nowMs = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO exports (job_id, run_id, format, type, path, status, created_at_ms) VALUES (?, ?, ?, ?, ?, 'running', ?)
         ON CONFLICT (job_id) DO UPDATE SET run_id = excluded.run_id, format = excluded.format, type = excluded.type, path = excluded.path,
           status = 'running', files_json = '[]', verification_json = NULL, error = NULL, finished_at_ms = NULL`,
      )
      .run(Number(jobId), entry.runId, entry.format, entry.type, entry.path, nowMs)
  }

  /** The outcome of a finished export: verified (files in place) or failed verification (nothing left). */
  finish(jobId: string, outcome: { files: ExportFileInfo[]; verification: ExportVerification }, nowMs = Date.now()): void {
    const status = outcome.verification.passed ? 'verified' : 'failed'
    const error = outcome.verification.passed ? null : `Verification failed: ${failedChecks(outcome.verification)}`
    this.db
      .prepare(`UPDATE exports SET status = ?, files_json = ?, verification_json = ?, error = ?, finished_at_ms = ? WHERE job_id = ?`)
      .run(status, JSON.stringify(outcome.files), JSON.stringify(outcome.verification), error, nowMs, Number(jobId))
  }

  /** An export that stopped on an error before it could be verified. */
  fail(jobId: string, message: string, nowMs = Date.now()): void {
    this.db.prepare(`UPDATE exports SET status = 'failed', error = ?, finished_at_ms = ? WHERE job_id = ?`).run(message, nowMs, Number(jobId))
  }

  get(jobId: string): ExportInfo | null {
    const row = this.db.prepare(`${SELECT} WHERE e.job_id = ?`).get(Number(jobId)) as ExportRow | undefined
    return row ? toInfo(row) : null
  }

  /** Newest first; of one run when `runId` is given. */
  list(runId?: string): ExportInfo[] {
    const rows = (runId === undefined ? this.db.prepare(`${SELECT} ORDER BY e.id DESC`).all() : this.db.prepare(`${SELECT} WHERE e.run_id = ? ORDER BY e.id DESC`).all(runId)) as ExportRow[]
    return rows.map(toInfo)
  }
}

/** The failed checks of a verification, in one line. */
export function failedChecks(verification: ExportVerification): string {
  return verification.checks.filter((c) => !c.passed).map((c) => `${c.name} (${c.detail})`).join('; ')
}

const SELECT = `SELECT e.*, j.state AS job_state FROM exports e JOIN jobs j ON j.id = e.job_id`

function toInfo(row: ExportRow): ExportInfo {
  // A row still `running` whose job is not: the job was cancelled or its process died mid-export.
  const status: ExportStatus = row.status === 'running' && row.job_state !== 'running' && row.job_state !== 'queued' ? 'interrupted' : row.status
  return {
    id: row.id,
    jobId: String(row.job_id),
    runId: row.run_id,
    format: row.format,
    type: row.type,
    path: row.path,
    status,
    files: JSON.parse(row.files_json) as ExportFileInfo[],
    verification: row.verification_json === null ? null : (JSON.parse(row.verification_json) as ExportVerification),
    error: row.error ?? (status === 'interrupted' ? `The export stopped before it finished (job ${row.job_state}); nothing was left at ${row.path}. Resume the job to start it again.` : null),
    createdAtMs: row.created_at_ms,
    finishedAtMs: row.finished_at_ms,
  }
}
