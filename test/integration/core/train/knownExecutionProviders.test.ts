import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ExecutionProviderProbe } from '../../../../src-main/shared/types/app.js'
import { Project } from '../../../../src-main/core/project/Project.js'
import { HardwareProbing } from '../../../../src-main/core/system/hardwareReport.js'
import { detectComputeThreads, probeExecutionProviders } from '../../../../src-main/core/train/executionProviders.js'
import { resolveTrainSettings, runTraining, type TrainRunHooks, type TrainRunResult } from '../../../../src-main/core/train/trainRun.js'
import { trainParamsSchema } from '../../../../src-main/shared/types/train.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { recordedQueue } from '../../../support/jobHarness.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

describe('a training job given the hardware report probes', () => {
  it('chooses its provider from them instead of probing, and still falls back from an unavailable GPU with the reason', { timeout: 120_000 }, async () => {
    const dir = await tempDir()
    const model = await writeTinyGgufModel(join(dir, 'model'), { architecture: 'llama' })
    const data = join(dir, 'data.jsonl')
    await writeFile(data, Array.from({ length: 12 }, (_, i) => JSON.stringify({ text: `the harbour ledger ${i} was read by the board` })).join('\n') + '\n')
    // Reasons no real probe gives, so the log shows whose probes the run used.
    const reported: ExecutionProviderProbe[] = [
      { provider: 'cpu', available: true, reason: null, missingLibraries: [] },
      { provider: 'webgpu', available: false, reason: 'WebGPU is not available: as the hardware report found.', missingLibraries: [] },
      { provider: 'cuda', available: false, reason: 'CUDA is not available: as the hardware report found.', missingLibraries: [] },
    ]
    let asked = 0
    const project = await Project.create(join(dir, 'project'), 'p')
    const { queue, logs } = recordedQueue(project, {
      // Still in flight when the job starts: the job waits for it rather than probing on its own.
      knownExecutionProviders: () => {
        asked++
        return new Promise((resolve) => setTimeout(() => resolve(reported), 200))
      },
    })
    try {
      queue.start()
      const job = queue.enqueue({ kind: 'train', params: { base: model.ggufPath, data, method: 'mora', rank: 4, seqLen: 16, steps: 2, device: 'cuda' } })
      const finished = await queue.waitFor(job.id)
      expect(finished.state).toBe('succeeded')
      expect((project.jobs.detail(job.id).result as TrainRunResult).provider).toBe('cpu')
      expect(asked).toBe(1)
      const warnings = logs.filter((entry) => entry.line.level === 'warn').map((entry) => entry.line.message)
      expect(warnings).toContain('CUDA was requested but cannot be used, training on the CPU instead. CUDA is not available: as the hardware report found.')
    } finally {
      await queue.dispose()
      project.close()
    }
  })
})

async function trainingFixture(): Promise<{ dir: string; base: string; data: string }> {
  const dir = await tempDir()
  const model = await writeTinyGgufModel(join(dir, 'model'), { architecture: 'llama' })
  const data = join(dir, 'data.jsonl')
  await writeFile(data, Array.from({ length: 12 }, (_, i) => JSON.stringify({ text: `the harbour ledger ${i} was read by the board` })).join('\n') + '\n')
  return { dir, base: model.ggufPath, data }
}

function runHooks(signal: AbortSignal, extra: Partial<TrainRunHooks>): TrainRunHooks & { logs: { message: string; level: string }[] } {
  const logs: { message: string; level: string }[] = []
  return { signal, threads: 1, logs, log: (message, level = 'info') => logs.push({ message, level }), progress: () => {}, onStep: () => {}, onCheckpoint: () => {}, ...extra }
}

describe('a training run waiting for the hardware report probes', () => {
  const never = new Promise<null>(() => {})

  it('stops as soon as it is cancelled', { timeout: 60_000 }, async () => {
    const { dir, base, data } = await trainingFixture()
    const controller = new AbortController()
    const hooks = runHooks(controller.signal, { knownExecutionProviders: never })
    // The plan's summary line is logged just before the run waits for the probes.
    hooks.log = (message) => {
      if (message.includes('trainable parameters')) controller.abort()
    }
    const settings = resolveTrainSettings(trainParamsSchema.parse({ base, data, method: 'mora', rank: 4, seqLen: 16, steps: 2 }), dir)
    await expect(runTraining(dir, join(dir, 'runs', 'r'), settings, null, hooks)).rejects.toMatchObject({ name: 'AbortError' })
    expect(controller.signal.aborted).toBe(true)
  })

  it('probes itself, saying why, when they do not come in time', { timeout: 120_000 }, async () => {
    const { dir, base, data } = await trainingFixture()
    const hooks = runHooks(new AbortController().signal, { knownExecutionProviders: never, knownExecutionProvidersWaitMs: 300 })
    const settings = resolveTrainSettings(trainParamsSchema.parse({ base, data, method: 'mora', rank: 4, seqLen: 16, steps: 1, device: 'cpu' }), dir)
    const result = await runTraining(dir, join(dir, 'runs', 'r'), settings, null, hooks)
    expect(result.provider).toBe('cpu')
    expect(hooks.logs).toContainEqual({ message: "The hardware report's execution provider probes have not come in 0.3 s; probing here instead", level: 'warn' })
  })
})

describe('HardwareProbing', () => {
  it('gives the ONNX Runtime probes as soon as they are done, without waiting for the llama.cpp ones', { timeout: 60_000 }, async () => {
    let releaseLlama: () => void = () => {}
    const llamaHeld = new Promise<[]>((resolve) => (releaseLlama = () => resolve([])))
    let ortFailures = 1
    let ortProbings = 0
    const probing = new HardwareProbing({
      detectCores: detectComputeThreads,
      probeExecutionProviders: () => {
        ortProbings++
        return ortFailures-- > 0 ? Promise.reject(new Error('the probe child could not start')) : probeExecutionProviders({ providers: ['cpu'] })
      },
      probeLlamaBackends: () => llamaHeld,
    })
    expect(probing.knownExecutionProviders()).toBeNull()

    // A failed ORT probing comes to null for training, and is tried again with the next report.
    await expect(probing.probe()).rejects.toThrow('the probe child could not start')
    expect(await probing.knownExecutionProviders()).toBeNull()

    let reported = false
    const report = probing.probe().then((probes) => {
      reported = true
      return probes
    })
    const known = await probing.knownExecutionProviders()
    expect(known).toMatchObject([{ provider: 'cpu', available: true }])
    expect(reported).toBe(false)
    expect(ortProbings).toBe(2)

    releaseLlama()
    expect((await report).probes).toBe(known)
    expect(ortProbings).toBe(2)
  })
})
