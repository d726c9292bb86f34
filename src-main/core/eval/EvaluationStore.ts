import type { Database } from 'better-sqlite3'
import type { EvalReport } from '../../shared/types/export.js'

/** Evaluation reports in the project database (`evaluations`), one per evaluation job. */
export class EvaluationStore {
  public constructor(private readonly db: Database) {}

  /** Stores `report` as the result of job `jobId`, replacing what an earlier attempt of the same job stored. */
  public save(jobId: string, report: EvalReport): void {
    this.db
      .prepare(
        `INSERT INTO evaluations (job_id, run_id, report_json, created_at_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (job_id) DO UPDATE SET run_id = excluded.run_id, report_json = excluded.report_json, created_at_ms = excluded.created_at_ms`,
      )
      .run(Number(jobId), report.runId, JSON.stringify(report), report.createdAtMs)
  }

  /** The newest report of run `runId` (`run-<id>`), or null when it was never evaluated. */
  public latest(runId: string): EvalReport | null {
    const row = this.db.prepare('SELECT report_json FROM evaluations WHERE run_id = ? ORDER BY created_at_ms DESC, id DESC LIMIT 1').get(runId) as { report_json: string } | undefined
    return row === undefined ? null : (JSON.parse(row.report_json) as EvalReport)
  }
}
