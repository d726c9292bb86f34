import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { trainParamsSchema } from '../../../../src-main/shared/types/train.js'
import { TrainPlanner } from '../../../../src-main/core/train/TrainPlanner.js'
import { startTrainPlannerThread, WorkerTrainPlanner } from '../../../../src-main/core/train/WorkerTrainPlanner.js'
import { sourceJobWorker } from '../../../../src-main/devbridge/sourceJobWorker.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

describe('WorkerTrainPlanner', () => {
  let planner: WorkerTrainPlanner | null = null
  afterEach(async () => {
    await planner?.dispose()
    planner = null
  })

  it('plans on its own thread as TrainPlanner does here, keeps error codes, and starts a new thread after one dies', { timeout: 60_000 }, async () => {
    const dir = await tempDir()
    const model = await writeTinyGgufModel(join(dir, 'model'), { architecture: 'llama' })
    const data = join(dir, 'data.jsonl')
    await writeFile(data, Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: `the harbour ledger ${i} was read by the board` })).join('\n') + '\n')
    const params = trainParamsSchema.parse({ base: model.ggufPath, data, method: 'mora', rank: 4, seqLen: 16, batch: 2, epochs: 2 })
    const threads: Worker[] = []
    planner = new WorkerTrainPlanner({
      worker: () => {
        const thread = startTrainPlannerThread(sourceJobWorker())
        threads.push(thread)
        return thread
      },
    })

    // A thread that dies takes its pending plans with it, with the reason (this one is still loading)...
    const pending = planner.plan(dir, params)
    await threads[0]!.terminate()
    await expect(pending).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/training planner thread exited/) })

    // ...and the next plan starts a fresh thread, which then serves later plans with its caches.
    const expected = await new TrainPlanner().plan(dir, params)
    expect(expected.sequences).toBeGreaterThan(0)
    expect(await planner.plan(dir, params)).toEqual(expected)
    expect(await planner.plan(dir, { ...params, batch: 3 })).toEqual(await new TrainPlanner().plan(dir, { ...params, batch: 3 }))
    expect(threads).toHaveLength(2)

    const missing = join(dir, 'nope.gguf')
    await expect(planner.plan(dir, { ...params, base: missing })).rejects.toMatchObject({ name: 'LecternError', code: 'not_found', file: missing, message: expect.stringContaining(missing) })

    // An idle thread that dies is replaced too.
    await threads[1]!.terminate()
    expect(await planner.plan(dir, params)).toEqual(expected)
    expect(threads).toHaveLength(3)
  })
})
