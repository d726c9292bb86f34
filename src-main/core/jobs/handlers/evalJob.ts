import { join } from 'node:path'
import type { EvalReport } from '../../../shared/types/export.js'
import { openProjectDb } from '../../db/openProjectDb.js'
import { evaluateRun } from '../../eval/evaluateRun.js'
import { EvaluationStore } from '../../eval/EvaluationStore.js'
import { PROJECT_DB_FILE } from '../../project/Project.js'
import { resolveTrainRun } from '../../train/trainRuns.js'
import type { JobHandler } from '../JobContext.js'

/**
 * Evaluates a finished run against its base model (held-out perplexity, closed-book QA, general-text regression),
 * stores the report with the project's evaluations and returns it. Llama.cpp runs one context with one thread.
 */
export const runEvalJob: JobHandler<'eval'> = async (context): Promise<EvalReport> => {
  const { params } = context
  const db = await openProjectDb(join(context.projectDir, PROJECT_DB_FILE))
  try {
    const run = resolveTrainRun(db, context.projectDir, params.run)
    context.log(`Evaluating ${run.runId} (${run.settings.method}, base ${run.settings.base}) at ${params.type}`)
    const report = await evaluateRun(context.projectDir, run, params, {
      jobId: context.jobId,
      signal: context.signal,
      onProgress: (done, total, message) => context.progress(done, total, message),
      log: (message, level) => context.log(message, level),
    })
    for (const note of report.notes) context.log(note)
    new EvaluationStore(db).save(context.jobId, report)
    return report
  } finally {
    db.close()
  }
}
