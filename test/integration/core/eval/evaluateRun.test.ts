import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { projectDatasetDir } from '../../../../src-main/core/dataset/datasetFiles.js'
import { adaptedEvalGgufPath, evaluateRun, readGeneralText, sample } from '../../../../src-main/core/eval/evaluateRun.js'
import { measurePerplexity } from '../../../../src-main/core/eval/perplexity.js'
import type { FinishedTrainRun } from '../../../../src-main/core/train/trainRuns.js'
import { evalParamsSchema } from '../../../../src-main/shared/types/export.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { useTempDirs } from '../../../support/tempDir.js'
import { trainQuietly } from '../../../support/trainQuietly.js'

const tempDir = useTempDirs()

/** The text a tiny model memorizes: a few sentences, repeated. */
const MEMORIZED = ['the model is what we have and it was not there', 'we have the model and it is there', 'it was what we have not had']

/** A tiny base model and a LoRA run trained on MEMORIZED, laid out as a project's run folder. */
async function trainedRun(projectDir: string): Promise<FinishedTrainRun> {
  const model = await writeTinyGgufModel(join(projectDir, 'models'), { architecture: 'llama' })
  const data = join(projectDir, 'data.jsonl')
  await writeFile(data, Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: MEMORIZED[i % MEMORIZED.length] })).join('\n'))
  const runDir = join(projectDir, 'runs', 'run-1')
  const { settings, result } = await trainQuietly(projectDir, runDir, { base: model.ggufPath, data, method: 'lora', rank: 4, steps: 24, seqLen: 16, lr: 0.02, warmupRatio: 0 })
  return { runId: 'run-1', jobId: '1', runDir, adapterFile: result.adapterFile, settings }
}

async function writeHeldOut(projectDir: string, texts: string[], questions: { question: string; answer: string; document_id: number; chunk_id?: number }[]): Promise<void> {
  const dir = projectDatasetDir(projectDir)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'heldout.jsonl'), texts.map((text, i) => JSON.stringify({ text, document_id: i + 1 })).join('\n') + '\n')
  await writeFile(join(dir, 'heldout-qa.jsonl'), questions.map((q) => JSON.stringify(q)).join('\n') + '\n')
}

describe('evaluateRun', () => {
  it('scores the adapted model below the base on its memorized text, base vs adapted per question, and reuses the GGUFs', async () => {
    const projectDir = await tempDir()
    const run = await trainedRun(projectDir)
    await writeHeldOut(projectDir, MEMORIZED, [
      { question: 'what do we have', answer: 'the model', document_id: 1, chunk_id: 11 },
      { question: 'where is it', answer: 'there', document_id: 2, chunk_id: 12 },
      { question: 'what was it', answer: 'not had', document_id: 3 },
      // An answer longer than half the context cannot be scored against distractors: left out, with a note.
      { question: 'what is long', answer: 'we have the model '.repeat(40), document_id: 3 },
    ])
    const progress: number[] = []
    const params = evalParamsSchema.parse({ type: 'f16', contextSize: 512 })
    const report = await evaluateRun(projectDir, run, params, { jobId: '7', onProgress: (done, total) => progress.push(done / total) })
    console.log(`held-out ppl base ${report.base.heldOutPerplexity} → adapted ${report.adapted.heldOutPerplexity}; general ${report.base.generalPerplexity} → ${report.adapted.generalPerplexity}`)

    expect(report).toMatchObject({ runId: 'run-1', jobId: '7', type: 'f16', contextSize: 256, heldOutTexts: 3 })
    expect(report.notes.some((n) => /trained on 256 tokens/.test(n))).toBe(true)
    expect(report.notes.some((n) => /^1 held-out questions whose answer takes over half the context/.test(n))).toBe(true)
    expect(report.adapted.heldOutPerplexity!).toBeLessThan(report.base.heldOutPerplexity!)
    expect(report.base.heldOutTokens).toBe(report.adapted.heldOutTokens)
    expect(report.base.heldOutTokens).toBeGreaterThan(20)
    expect(report.base.generalTokens).toBeGreaterThan(5000)
    expect(report.base.generalPerplexity).toBeGreaterThan(1)
    expect(report.adapted.generalPerplexity).toBeGreaterThan(1)
    for (const m of [report.base, report.adapted]) {
      expect(m.qaAccuracy).toBeGreaterThanOrEqual(0)
      expect(m.qaExactMatch).toBeGreaterThanOrEqual(0)
      expect(m.qaF1).toBeGreaterThanOrEqual(0)
    }
    expect(report.questions.map((q) => [q.reference, q.chunkId])).toEqual([
      ['the model', 11],
      ['there', 12],
      ['not had', null],
    ])
    for (const q of report.questions) {
      expect(typeof q.base.prediction).toBe('string')
      expect(Number.isFinite(q.base.referenceNll)).toBe(true)
      expect(Number.isFinite(q.adapted.referenceNll)).toBe(true)
    }
    expect(progress.at(-1)).toBe(1)
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1]!)).toBe(true)

    // The adapted GGUF is the merge the report names: scoring it directly gives the same figure.
    expect(report.adaptedModel).toBe(adaptedEvalGgufPath(run, 'f16'))
    const direct = await measurePerplexity({ modelPath: report.adaptedModel }, MEMORIZED, { contextSize: 256 })
    expect(direct.perplexity).toBeCloseTo(report.adapted.heldOutPerplexity!, 6)

    // A second evaluation reuses both GGUFs and, being deterministic, reports the same figures.
    const mtimes = async (): Promise<number[]> => [(await stat(report.baseModel)).mtimeMs, (await stat(report.adaptedModel)).mtimeMs]
    const before = await mtimes()
    const again = await evaluateRun(projectDir, run, { ...params, generate: false }, { jobId: '8' })
    expect(await mtimes()).toEqual(before)
    expect(again.adapted.heldOutPerplexity).toBe(report.adapted.heldOutPerplexity)
    expect(again.base.qaAccuracy).toBe(report.base.qaAccuracy)
    expect(again.base.qaF1).toBeNull()
    expect(again.questions[0]!.base.prediction).toBeNull()
  }, 120_000)

  it('runs the general-text check without a dataset, noting what it skipped, and stops when cancelled', async () => {
    const projectDir = await tempDir()
    const run = await trainedRun(projectDir)
    const params = evalParamsSchema.parse({ type: 'q8_0', contextSize: 128 })
    const report = await evaluateRun(projectDir, run, params, { jobId: '2' })
    expect(report.notes.join('\n')).toMatch(/No dataset has been built/)
    expect(report.base.heldOutPerplexity).toBeNull()
    expect(report.adapted.qaAccuracy).toBeNull()
    expect(report.questions).toEqual([])
    expect(report.adapted.generalPerplexity).toBeGreaterThan(1)
    expect(report.contextSize).toBe(128)

    const controller = new AbortController()
    const cancelled = evaluateRun(projectDir, run, params, { jobId: '3', signal: controller.signal, onProgress: (done) => done > 300 && controller.abort() })
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' })
  }, 120_000)

  it('samples held-out items reproducibly, in file order, and reads the shipped general text', async () => {
    const items = Array.from({ length: 50 }, (_, i) => i)
    const a = sample(items, 10, 3, 'eval.texts')
    expect(a).toHaveLength(10)
    expect([...a].sort((x, y) => x - y)).toEqual(a)
    expect(new Set(a).size).toBe(10)
    expect(sample(items, 10, 3, 'eval.texts')).toEqual(a)
    expect(sample(items, 10, 4, 'eval.texts')).not.toEqual(a)
    expect(sample(items, 80, 3, 'eval.texts')).toEqual(items)
    const general = await readGeneralText()
    expect(general).toHaveLength(30)
    for (const text of general) {
      const words = text.split(/\s+/).length
      expect(words).toBeGreaterThanOrEqual(80)
      expect(words).toBeLessThanOrEqual(200)
    }
  })
})
