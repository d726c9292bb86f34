import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrainParamsInput, TrainStepMetrics } from '../../../../src-main/shared/types/train.js'
import { trainParamsSchema } from '../../../../src-main/shared/types/train.js'
import { listCheckpoints } from '../../../../src-main/core/train/checkpoints.js'
import { memoryLimitBytes, METRICS_FILE, resolveTrainSettings, runTraining, type TrainRunHooks } from '../../../../src-main/core/train/trainRun.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

async function fixture(): Promise<{ dir: string; base: string; data: string }> {
  const dir = await tempDir()
  const model = await writeTinyGgufModel(dir, { architecture: 'llama' })
  const data = join(dir, 'data.jsonl')
  const lines = Array.from({ length: 24 }, (_, i) =>
    i % 2 === 0 ? JSON.stringify({ text: `the model ${i} is what we have and it was not there for all of the ${i * 7}` }) : JSON.stringify({ prompt: `key ${i} ->`, response: ` value ${i * 31}` }),
  )
  await writeFile(data, lines.join('\n'))
  return { dir, base: model.ggufPath, data }
}

function hooks(onStep: (m: TrainStepMetrics) => void = () => {}, controller = new AbortController()): TrainRunHooks & { logs: string[] } {
  const logs: string[] = []
  return {
    signal: controller.signal,
    threads: 1,
    logs,
    log: (message) => logs.push(message),
    progress: () => {},
    onStep,
    onCheckpoint: () => {},
  }
}

function settingsFor(dir: string, params: TrainParamsInput) {
  return resolveTrainSettings(trainParamsSchema.parse(params), dir)
}

describe('training runs', () => {
  afterEach(() => {
    delete process.env['LECTERN_MEMORY_LIMIT']
  })

  it('a run cancelled mid-way and resumed from its checkpoint reproduces the uninterrupted losses exactly', async () => {
    const { dir, base, data } = await fixture()
    const params: TrainParamsInput = { base, data, method: 'mora', moraType: 1, rank: 4, steps: 9, seqLen: 16, batch: 2, gradAccum: 2, dropout: 0.1, checkpointEvery: 4, lr: 1e-3 }
    const settings = settingsFor(dir, params)

    const straight: number[] = []
    await runTraining(dir, join(dir, 'runs', 'straight'), settings, null, hooks((m) => straight.push(m.loss)))
    expect(straight).toHaveLength(9)

    const controller = new AbortController()
    const interruptedDir = join(dir, 'runs', 'interrupted')
    const first: number[] = []
    const interrupted = runTraining(
      dir,
      interruptedDir,
      settings,
      null,
      hooks((m) => {
        first.push(m.loss)
        if (m.step === 6) controller.abort()
      }, controller),
    )
    await expect(interrupted).rejects.toThrow()
    const checkpoints = await listCheckpoints(interruptedDir)
    expect(checkpoints.map((c) => c.split('/').at(-1))).toEqual(['step-0000004', 'step-0000006'])

    const resumed: number[] = []
    const result = await runTraining(dir, interruptedDir, settings, checkpoints.at(-1)!, hooks((m) => resumed.push(m.loss)))
    expect(result.steps).toBe(9)
    expect([...first, ...resumed]).toEqual(straight)
    const metricsLines = (await readFile(join(interruptedDir, METRICS_FILE), 'utf8')).trim().split('\n')
    expect(metricsLines.map((line) => (JSON.parse(line) as TrainStepMetrics).loss)).toEqual(straight)
  })

  it('refuses to resume when the data changed', async () => {
    const { dir, base, data } = await fixture()
    const settings = settingsFor(dir, { base, data, steps: 2, seqLen: 16, checkpointEvery: 1 })
    const runDir = join(dir, 'runs', 'r')
    await runTraining(dir, runDir, settings, null, hooks())
    await writeFile(data, JSON.stringify({ text: 'the model was changed' }))
    const checkpoint = (await listCheckpoints(runDir)).at(-1)!
    await expect(runTraining(dir, runDir, settings, checkpoint, hooks())).rejects.toThrow(/training data changed/)
  })

  it.each([
    ['a rank whose r̂ exceeds the layer', { rank: 200 }, /too large for this model on q \(64 → 64: r̂ 160 > 64 inputs\).*The largest rank these targets allow is 21/],
    ['a LoRA rank above the layer size', { method: 'lora', rank: 100 }, /LoRA rank 100 is too large.*The largest rank these targets allow is 32/],
  ] as const)('refuses %s before any work', async (_label, overrides, message) => {
    const { dir, base, data } = await fixture()
    const runDir = join(dir, 'runs', 'refused')
    await expect(runTraining(dir, runDir, settingsFor(dir, { base, data, steps: 2, seqLen: 16, ...overrides }), null, hooks())).rejects.toThrow(message)
    await expect(stat(runDir)).rejects.toThrow()
  })

  it('refuses an empty dataset, naming the file', async () => {
    const { dir, base } = await fixture()
    const empty = join(dir, 'empty.jsonl')
    await writeFile(empty, '\n\n')
    await expect(runTraining(dir, join(dir, 'runs', 'x'), settingsFor(dir, { base, data: empty, steps: 2 }), null, hooks())).rejects.toThrow(/empty\.jsonl/)
  })

  it('without --data, says the project has no dataset yet', async () => {
    const { dir, base } = await fixture()
    await expect(runTraining(dir, join(dir, 'runs', 'x'), settingsFor(dir, { base, steps: 2 }), null, hooks())).rejects.toThrow(/no built dataset yet.*--data/)
  })

  it('refuses a model too large for the memory it may use, with the sizes', async () => {
    const { dir, base, data } = await fixture()
    process.env['LECTERN_MEMORY_LIMIT'] = '4MiB'
    const runDir = join(dir, 'runs', 'big')
    await expect(runTraining(dir, runDir, settingsFor(dir, { base, data, steps: 2, seqLen: 64 }), null, hooks())).rejects.toThrow(/GiB/)
    await expect(stat(runDir)).rejects.toThrow()
  })

  it('reads memory limits with units', () => {
    expect(memoryLimitBytes('12GiB')).toBe(12 * 2 ** 30)
    expect(memoryLimitBytes('800MB')).toBe(800e6)
    expect(memoryLimitBytes(undefined)).toBe(Number.POSITIVE_INFINITY)
    expect(() => memoryLimitBytes('lots')).toThrow(/LECTERN_MEMORY_LIMIT/)
  })
})
