import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DatasetSummary } from '../../../src-main/shared/types/comprehension.js'
import type { EvalReport } from '../../../src-main/shared/types/export.js'
import type { JobDetail } from '../../../src-main/shared/types/jobs.js'
import { writeComprehensionCorpus } from '../../fixtures/corpus/comprehensionProse.js'
import { writeTinyGgufModel } from '../../fixtures/tinyModels.js'
import { runCliProcess } from '../../support/cli.js'

let root: string
let project: string
let dataset: DatasetSummary

async function jobDetail(args: string[]): Promise<JobDetail> {
  const result = await runCliProcess([...args, '--json'])
  if (result.code !== 0) console.log(result.stdout, result.stderr)
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  // Most commands print the job as one JSON document; train prints JSON lines, the job last.
  const out = result.stdout.trim()
  try {
    return JSON.parse(out) as JobDetail
  } catch {
    return JSON.parse(out.split('\n').at(-1)!) as JobDetail
  }
}

/** A project with a built dataset (held-out passages and generated held-out questions) and one finished LoRA run. */
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lectern-eval-'))
  await writeComprehensionCorpus(join(root, 'corpus'), ['harbour', 'orchard'], 2)
  const model = await writeTinyGgufModel(join(root, 'model'), { architecture: 'llama', hyperparameters: { contextLength: 4096 } })
  project = join(root, 'project')
  expect((await runCliProcess(['init', project, '--name', 'eval'])).code).toBe(0)
  expect((await runCliProcess(['import', project, join(root, 'corpus'), '--chunk-tokens', '512', '--overlap', '16'])).code).toBe(0)
  await jobDetail(['comprehend', project, '--mode', 'llm', '--generator', model.ggufPath, '--ascii-only', '--pairs', '1', '--min-grounding', '0'])
  dataset = (await jobDetail(['dataset', project, '--heldout', '0.5', '--seq-len', '128', '--tokenizer', model.ggufPath])).result as DatasetSummary
  await jobDetail(['train', project, '--base', model.ggufPath, '--method', 'lora', '--rank', '4', '--steps', '3', '--seq-len', '64'])
}, 120_000)
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true })
})

describe('lectern eval (built CLI)', () => {
  it('evaluates the latest run on the held-out set, prints the base-vs-adapted table and stores the report', async () => {
    expect(dataset.heldOut.documents).toBeGreaterThanOrEqual(1)
    expect(dataset.heldOut.qaPairs).toBeGreaterThanOrEqual(2)
    const heldOutQa = (await readFile(join(dataset.dir, 'heldout-qa.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { chunk_id?: number })
    expect(heldOutQa.every((q) => Number.isInteger(q.chunk_id))).toBe(true)

    const text = await runCliProcess(['eval', project, '--run', 'latest', '--max-texts', '2', '--max-questions', '3', '--context', '1024', '--threads', '1'])
    expect(text.stderr).toBe('')
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/Held-out perplexity\s+[\d.]+\s+[\d.]+\s+[+−±][\d.]+/)
    expect(text.stdout).toMatch(/General-text perplexity\s+[\d.]+\s+[\d.]+\s+[+−±][\d.]+/)
    expect(text.stdout).toMatch(/QA accuracy\s+[\d.]+%\s+[\d.]+%\s+[+−±][\d.]+ pt/)
    expect(text.stdout).toMatch(/QA F1\s+[\d.]+%\s+[\d.]+%/)
    expect(text.stdout).toMatch(/run-4 at F16, context 1024: 2 held-out passages \(\d+ tokens\), \d+ general-text tokens, 3 questions/)
    const jobId = /Job (\d+): Evaluate latest against its base \(F16\)/.exec(text.stdout)?.[1]
    expect(jobId).toBeDefined()

    const detail = await jobDetail(['job', project, jobId!])
    expect(detail).toMatchObject({ kind: 'eval', state: 'succeeded' })
    const report = detail.result as EvalReport
    expect(report).toMatchObject({ runId: 'run-4', jobId, type: 'f16', contextSize: 1024, heldOutTexts: 2 })
    expect(report.questions).toHaveLength(3)
    for (const m of [report.base, report.adapted]) {
      expect(m.heldOutPerplexity).toBeGreaterThan(1)
      expect(m.generalPerplexity).toBeGreaterThan(1)
      expect(m.qaAccuracy).not.toBeNull()
      expect(m.qaF1).not.toBeNull()
    }
    const db = new BetterSqlite3(join(project, 'project.db'), { readonly: true })
    try {
      // Each question names the chunk it was generated from.
      const chunkIds = new Set((db.prepare('SELECT id FROM chunks').all() as { id: number }[]).map((r) => r.id))
      for (const q of report.questions) expect(chunkIds.has(q.chunkId!)).toBe(true)
      const stored = db.prepare('SELECT job_id, run_id, report_json FROM evaluations').all() as { job_id: number; run_id: string; report_json: string }[]
      expect(stored).toHaveLength(1)
      expect(stored[0]).toMatchObject({ job_id: Number(jobId), run_id: 'run-4' })
      expect(JSON.parse(stored[0]!.report_json)).toEqual(report)
    } finally {
      db.close()
    }
  }, 60_000)

  it('names what is wrong: an unknown run, a bad type or count', async () => {
    const unknown = await runCliProcess(['eval', project, '--run', 'run-99'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/no training run "run-99" \(runs: run-4\)/)
    const badType = await runCliProcess(['eval', project, '--type', 'q4_k_m'])
    expect(badType.code).toBe(2)
    expect(badType.stderr).toMatch(/--type/)
    const badCount = await runCliProcess(['eval', project, '--max-texts', '0'])
    expect(badCount.code).toBe(2)
    expect(badCount.stderr).toMatch(/--max-texts/)
  })
})
