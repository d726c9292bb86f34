import { join, resolve } from 'node:path'
import { LecternError } from '../../../shared/errors.js'
import type { ExportResult } from '../../../shared/types/export.js'
import { openProjectDb } from '../../db/openProjectDb.js'
import { exportRun, exportType } from '../../export/exportRun.js'
import { ExportStore, failedChecks } from '../../export/ExportStore.js'
import { PROJECT_DB_FILE } from '../../project/Project.js'
import { resolveTrainRun } from '../../train/trainRuns.js'
import type { JobHandler } from '../JobContext.js'

const PROGRESS_STEPS = 1000

/**
 * Exports a finished run and records the outcome in the project. A failed verification fails the job (after the
 * report is stored); a cancel or a crash leaves the row `running`, which reads as interrupted once the job is not.
 * No checkpoint: a resumed export starts over, clearing what the last attempt left beside the target.
 */
export const runExportJob: JobHandler<'export'> = async (context): Promise<ExportResult> => {
  const { params } = context
  const db = await openProjectDb(join(context.projectDir, PROJECT_DB_FILE))
  try {
    const store = new ExportStore(db)
    const run = resolveTrainRun(db, context.projectDir, params.run)
    const path = resolve(params.out)
    store.begin(context.jobId, { runId: run.runId, format: params.format, type: exportType(params), path })
    context.log(`Exporting ${run.runId} (${run.settings.method === 'mora' ? 'MoRA' : 'LoRA'} r${run.settings.rank} on ${run.settings.base}) as ${params.format} to ${path}`)
    let outcome
    try {
      outcome = await exportRun(context.projectDir, run, params, {
        signal: context.signal,
        threads: context.threads,
        ...(context.startHelperWorker ? { quantizeWorker: () => context.startHelperWorker!('quantizer') } : {}),
        log: context.log,
        progress: (fraction, message) => context.progress(Math.round(fraction * PROGRESS_STEPS), PROGRESS_STEPS, message),
      })
    } catch (error) {
      if (!context.signal.aborted) store.fail(context.jobId, (error as Error).message)
      throw error
    }
    store.finish(context.jobId, outcome)
    for (const check of outcome.verification.checks) context.log(`${check.passed ? '✓' : '✗'} ${check.name}: ${check.detail}`, check.passed ? 'info' : 'error')
    if (!outcome.verification.passed) {
      throw new LecternError('verification_failed', `The export failed verification and was not kept: ${failedChecks(outcome.verification)}`, { file: path })
    }
    return store.get(context.jobId)!
  } finally {
    db.close()
  }
}
