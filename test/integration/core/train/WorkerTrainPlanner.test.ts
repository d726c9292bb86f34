import { stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { createServices, type Services } from '../../../../src-main/core/services.js'
import { trainParamsSchema, type TrainParams } from '../../../../src-main/shared/types/train.js'
import { TrainPlanner } from '../../../../src-main/core/train/TrainPlanner.js'
import { startTrainPlannerThread, WorkerTrainPlanner } from '../../../../src-main/core/train/WorkerTrainPlanner.js'
import { sourceJobWorker } from '../../../../src-main/devbridge/sourceJobWorker.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

async function fixture(): Promise<{ dir: string; data: string; params: TrainParams }> {
  const dir = await tempDir()
  const model = await writeTinyGgufModel(join(dir, 'model'), { architecture: 'llama' })
  const data = join(dir, 'data.jsonl')
  await writeFile(data, Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: `the harbour ledger ${i} was read by the board` })).join('\n') + '\n')
  return { dir, data, params: trainParamsSchema.parse({ base: model.ggufPath, data, method: 'mora', rank: 4, seqLen: 16, batch: 2, epochs: 2 }) }
}

/** A planner whose threads the test can see. */
function observedPlanner(threads: Worker[], idleMs?: number): WorkerTrainPlanner {
  return new WorkerTrainPlanner({
    worker: () => {
      const thread = startTrainPlannerThread(sourceJobWorker())
      threads.push(thread)
      return thread
    },
    ...(idleMs === undefined ? {} : { idleMs }),
  })
}

const exited = (thread: Worker): Promise<void> => new Promise((resolve) => thread.once('exit', () => resolve()))

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

  it('computes only the newest of the plans a project asks for while one is computing', { timeout: 60_000 }, async () => {
    const { dir, params } = await fixture()
    planner = observedPlanner([])
    const asked = [16, 17, 18, 19].map((seqLen) => planner!.plan(dir, { ...params, seqLen }))
    const settled = await Promise.allSettled(asked)
    expect(settled[0]).toEqual({ status: 'fulfilled', value: await new TrainPlanner().plan(dir, { ...params, seqLen: 16 }) })
    for (const replaced of settled.slice(1, 3)) expect(replaced).toMatchObject({ status: 'rejected', reason: { code: 'cancelled', message: expect.stringMatching(/newer/) } })
    expect(settled[3]).toEqual({ status: 'fulfilled', value: await new TrainPlanner().plan(dir, { ...params, seqLen: 19 }) })
  })

  it('counts the sequences of another sequence length without reading or tokenizing the data again', { timeout: 60_000 }, async () => {
    const { dir, data, params } = await fixture()
    const fixedTime = new Date('2024-05-01T12:00:00Z')
    await utimes(data, fixedTime, fixedTime)
    const expected = await new TrainPlanner().plan(dir, { ...params, seqLen: 7 })
    planner = observedPlanner([])
    expect((await planner.plan(dir, params)).dataProblem).toBeNull()

    // Same path, size and time: the planner takes it for the file it read, so only its cache can answer.
    const size = (await stat(data)).size
    await writeFile(data, 'x'.repeat(size - 1) + '\n')
    await utimes(data, fixedTime, fixedTime)
    expect(await planner.plan(dir, { ...params, seqLen: 7 })).toEqual(expected)

    // A file that really changed is read again.
    await utimes(data, new Date(), new Date())
    expect((await planner.plan(dir, { ...params, seqLen: 7 })).dataProblem).toMatch(/data\.jsonl:1/)
  })

  it('stops its thread, caches and all, after a while without plans, and starts a new one for the next', { timeout: 60_000 }, async () => {
    const { dir, params } = await fixture()
    const threads: Worker[] = []
    planner = observedPlanner(threads, 300)
    const expected = await planner.plan(dir, params)
    expect(planner.threadRunning).toBe(true)
    await exited(threads[0]!)
    expect(planner.threadRunning).toBe(false)
    expect(await planner.plan(dir, params)).toEqual(expected)
    expect(threads).toHaveLength(2)
  })
})

describe('the training planner of the app services', () => {
  let services: Services | null = null
  afterEach(async () => {
    await services?.dispose()
    services = null
  })

  it('stops its thread, and refuses the plan still pending, when the project closes', { timeout: 60_000 }, async () => {
    const { dir, params } = await fixture()
    services = await createServices({ appDataDir: join(dir, 'appData'), shell: 'browser-bridge', jobWorker: sourceJobWorker(), warn: () => undefined, recommendedModels: [] })
    const project = await services.workspace.createProject(join(dir, 'project'), 'Planner')
    await services.trainPlanner.plan(project.dir, params)
    expect(services.trainPlanner.threadRunning).toBe(true)

    const pending = services.trainPlanner.plan(project.dir, { ...params, seqLen: 8 })
    await services.workspace.closeProject()
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' })
    expect(services.trainPlanner.threadRunning).toBe(false)
  })
})
