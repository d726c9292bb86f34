import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openProjectDb } from '../../../../src-main/core/db/openProjectDb.js'
import { EvaluationStore } from '../../../../src-main/core/eval/EvaluationStore.js'
import { JobStore } from '../../../../src-main/core/jobs/JobStore.js'
import type { EvalModelMetrics, EvalReport } from '../../../../src-main/shared/types/export.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

const metrics = (heldOutPerplexity: number): EvalModelMetrics => ({
  heldOutPerplexity,
  heldOutTokens: 100,
  generalPerplexity: 12.5,
  generalTokens: 900,
  qaAccuracy: 0.5,
  qaExactMatch: null,
  qaF1: null,
})

function report(runId: string, jobId: string, createdAtMs: number, adaptedPerplexity: number): EvalReport {
  return {
    runId,
    jobId,
    createdAtMs,
    type: 'f16',
    contextSize: 256,
    base: metrics(20),
    adapted: metrics(adaptedPerplexity),
    heldOutTexts: 3,
    questions: [{ question: 'q?', reference: 'a', documentId: 1, chunkId: null, base: { correct: false, prediction: null, f1: null, referenceNll: 2.5 }, adapted: { correct: true, prediction: null, f1: null, referenceNll: 1.5 } }],
    notes: ['a note'],
    baseModel: '/b.gguf',
    adaptedModel: '/a.gguf',
  }
}

describe('EvaluationStore', () => {
  it('keeps one report per job (a rerun replaces it) and returns the newest of a run', async () => {
    const db = await openProjectDb(join(await tempDir(), 'project.db'), { create: true })
    try {
      const jobs = new JobStore(db)
      const [first, second, other] = [1, 2, 3].map(() => jobs.insert('eval', 'Evaluate', {}).id) as [string, string, string]
      const store = new EvaluationStore(db)
      expect(store.latest('run-1')).toBeNull()

      store.save(first, report('run-1', first, 1000, 9))
      expect(store.latest('run-1')).toEqual(report('run-1', first, 1000, 9))
      store.save(second, report('run-1', second, 2000, 8))
      store.save(other, report('run-2', other, 3000, 7))
      expect(store.latest('run-1')?.jobId).toBe(second)
      expect(store.latest('run-2')?.adapted.heldOutPerplexity).toBe(7)

      // A resumed job stores its report again: the row is replaced, not added.
      store.save(second, report('run-1', second, 2500, 6))
      expect(store.latest('run-1')).toEqual(report('run-1', second, 2500, 6))
      expect((db.prepare('SELECT COUNT(*) AS n FROM evaluations').get() as { n: number }).n).toBe(3)

      // Reports go with their job.
      db.prepare('DELETE FROM jobs WHERE id = ?').run(Number(second))
      expect(store.latest('run-1')?.jobId).toBe(first)
    } finally {
      db.close()
    }
  })
})
