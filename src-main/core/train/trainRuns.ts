import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Database } from 'better-sqlite3'
import { LecternError } from '../../shared/errors.js'
import type { JobState } from '../../shared/types/jobs.js'
import type { TrainRunInfo } from '../../shared/types/export.js'
import type { TrainParams } from '../../shared/types/train.js'
import { ADAPTER_FILE, resolveTrainSettings, RUNS_DIR, type ResolvedTrainSettings, type TrainRunResult } from './trainRun.js'

/** A finished training run, as export and evaluation use it. */
export interface FinishedTrainRun {
  runId: string
  jobId: string
  runDir: string
  adapterFile: string
  settings: ResolvedTrainSettings
}

interface TrainJobRow {
  id: number
  state: JobState
  params_json: string
  result_json: string | null
  created_at_ms: number
  finished_at_ms: number | null
}

const RUN_ID = /^run-(\d+)$/

/** A training run is a job; its folder is `runs/run-<job id>` in the project. */
export function trainRunId(jobId: string): string {
  return `run-${jobId}`
}

export function trainRunDir(projectDir: string, jobId: string): string {
  return join(projectDir, RUNS_DIR, trainRunId(jobId))
}

/** Every training job of the project as a run, newest first. */
export function listTrainRuns(db: Database, projectDir: string): TrainRunInfo[] {
  const rows = db.prepare(`SELECT id, state, params_json, result_json, created_at_ms, finished_at_ms FROM jobs WHERE kind = 'train' ORDER BY id DESC`).all() as TrainJobRow[]
  return rows.map((row) => {
    const params = JSON.parse(row.params_json) as TrainParams
    const result = row.result_json === null ? null : (JSON.parse(row.result_json) as TrainRunResult)
    const adapterFile = join(trainRunDir(projectDir, String(row.id)), ADAPTER_FILE)
    return {
      runId: trainRunId(String(row.id)),
      jobId: String(row.id),
      state: row.state,
      method: params.method,
      rank: params.rank,
      base: params.base,
      steps: result?.steps ?? null,
      finalLoss: result?.finalLoss ?? null,
      createdAtMs: row.created_at_ms,
      finishedAtMs: row.finished_at_ms,
      adapterFile: row.state === 'succeeded' && existsSync(adapterFile) ? adapterFile : null,
    }
  })
}

/**
 * The run `reference` names: `latest` (the newest succeeded run), `run-<id>` or the training job's id. Refuses
 * a run that has not finished or whose adapter file is gone, saying what to do.
 */
export function resolveTrainRun(db: Database, projectDir: string, reference: string): FinishedTrainRun {
  const runs = listTrainRuns(db, projectDir)
  let run: TrainRunInfo | undefined
  if (reference === 'latest') {
    run = runs.find((r) => r.state === 'succeeded')
    if (!run) throw new LecternError('not_found', runs.length === 0 ? 'This project has no training run yet; train one first (lectern train)' : 'No training run of this project has finished yet')
  } else {
    const jobId = RUN_ID.exec(reference)?.[1] ?? (/^\d+$/.test(reference) ? reference : null)
    run = jobId === null ? undefined : runs.find((r) => r.jobId === jobId)
    if (!run) throw new LecternError('not_found', `This project has no training run "${reference}" (runs: ${runs.map((r) => r.runId).join(', ') || 'none'})`)
    if (run.state !== 'succeeded') throw new LecternError('invalid_argument', `Run ${run.runId} is ${run.state}, not finished; resume it or pick a finished run`)
  }
  if (run.adapterFile === null) {
    const missing = join(trainRunDir(projectDir, run.jobId), ADAPTER_FILE)
    throw new LecternError('not_found', `Run ${run.runId} has no adapter file (${missing}); was the run folder deleted?`, { file: missing })
  }
  const params = (db.prepare('SELECT params_json FROM jobs WHERE id = ?').get(Number(run.jobId)) as { params_json: string }).params_json
  return {
    runId: run.runId,
    jobId: run.jobId,
    runDir: trainRunDir(projectDir, run.jobId),
    adapterFile: run.adapterFile,
    settings: resolveTrainSettings(JSON.parse(params) as TrainParams, projectDir),
  }
}
