import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ExecutionProviderProbe } from '../../../../src-main/shared/types/app.js'
import { Project } from '../../../../src-main/core/project/Project.js'
import type { TrainRunResult } from '../../../../src-main/core/train/trainRun.js'
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
