import { appendFile, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ApiEvents } from '../../../../src-main/shared/api.js'
import { trainParamsSchema, type TrainParamsInput, type TrainStepMetrics } from '../../../../src-main/shared/types/train.js'
import type { TrainCheckpointInfo, TrainPlanInfo } from '../../../../src-main/shared/types/trainPlan.js'
import { createServices, type Services } from '../../../../src-main/core/services.js'
import { listRunCheckpoints, readRunMetrics } from '../../../../src-main/core/train/runFiles.js'
import { TrainPlanner } from '../../../../src-main/core/train/TrainPlanner.js'
import { METRICS_FILE, prepareTrainRun, resolveTrainSettings } from '../../../../src-main/core/train/trainRun.js'
import { sourceJobWorker } from '../../../../src-main/devbridge/sourceJobWorker.js'
import { createHandlers, dispatch } from '../../../../src-main/ipc/handlers.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

async function fixture(): Promise<{ dir: string; base: string; data: string }> {
  const dir = await tempDir()
  const model = await writeTinyGgufModel(join(dir, 'model'), { architecture: 'llama' })
  const data = join(dir, 'data.jsonl')
  await writeFile(data, examples(24))
  return { dir, base: model.ggufPath, data }
}

const examples = (n: number, word = 'harbour'): string =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ text: `the ${word} ledger ${i} was read by the board and the clerk wrote ${i * 7} lines` })).join('\n') + '\n'

describe('TrainPlanner', () => {
  afterEach(() => {
    delete process.env['LECTERN_MEMORY_LIMIT']
  })

  it('gives the estimate and step count the run itself computes', async () => {
    const { dir, base, data } = await fixture()
    const params: TrainParamsInput = { base, data, method: 'mora', rank: 4, seqLen: 16, batch: 2, gradAccum: 2, epochs: 2 }
    const parsed = trainParamsSchema.parse(params)
    const plan = await new TrainPlanner().plan(dir, parsed)
    const prepared = await prepareTrainRun(resolveTrainSettings(parsed, dir), { log: () => {} })
    await prepared.opened.close()
    expect(plan.fits).toBe(true)
    expect(plan.estimateBytes).toBe(prepared.fit.estimateBytes)
    expect(plan.breakdown).toEqual(prepared.fit.breakdown)
    expect(plan.trainableParameters).toBe(prepared.plan.trainableParameters)
    expect(plan.adapterSites).toBe(prepared.plan.sites.length)
    expect(plan.sequences).toBe(prepared.dataset.sequenceCount)
    expect(plan.totalSteps).toBe(prepared.totalSteps)
    expect(plan).toMatchObject({ architecture: 'llama', moraType: 6, lr: 3e-4, dataProblem: null, availableKnown: true })

    // A memory cap makes it refuse, with a smaller shape suggested in words.
    process.env['LECTERN_MEMORY_LIMIT'] = String(plan.estimateBytes - 1)
    const capped = await new TrainPlanner().plan(dir, parsed)
    expect(capped.fits).toBe(false)
    expect(capped.availableBytes).toBe(plan.estimateBytes - 1)
    expect(capped.message).toMatch(/needs about/)
  })

  it('tokenizes the data once per file version: edits of the shape reuse it, a changed file is read again', async () => {
    const { dir, base, data } = await fixture()
    const planner = new TrainPlanner()
    const plan = (overrides: TrainParamsInput | object = {}): Promise<TrainPlanInfo> => planner.plan(dir, trainParamsSchema.parse({ base, data, seqLen: 16, ...overrides }))
    // A whole-second time, which utimes can set back exactly.
    const mtime = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
    await utimes(data, mtime, mtime)
    const first = await plan()
    expect(first.sequences).toBeGreaterThan(0)
    const { size } = await stat(data)

    // Same size and modification time, different text: still the cached count (the key is path, size, mtime).
    const replaced = (await readFile(data, 'utf8')).replaceAll('harbour', 'orchard')
    expect(Buffer.byteLength(replaced)).toBe(size)
    await writeFile(data, replaced.split('\n').slice(0, 12).join('\n').padEnd(size, ' '))
    await utimes(data, mtime, mtime)
    expect((await plan()).sequences).toBe(first.sequences)
    expect((await plan({ batch: 3 })).sequences).toBe(first.sequences)

    // A newer modification time: read again, and now half the examples.
    await utimes(data, new Date(), new Date(mtime.getTime() + 5_000))
    const reread = await plan()
    expect(reread.sequences).toBeLessThan(first.sequences!)
    // Another sequence length is another count.
    expect((await plan({ seqLen: 64 })).sequences).toBeLessThan(reread.sequences!)
  })

  it('keeps the memory estimate when the data cannot be counted, and refuses a missing model by name', async () => {
    const { dir, base } = await fixture()
    const planner = new TrainPlanner()
    const noDataset = await planner.plan(dir, trainParamsSchema.parse({ base, seqLen: 16 }))
    expect(noDataset.dataProblem).toMatch(/no built dataset yet/)
    expect(noDataset.totalSteps).toBeNull()
    expect(noDataset.estimateBytes).toBeGreaterThan(0)
    expect((await planner.plan(dir, trainParamsSchema.parse({ base, seqLen: 16, steps: 30 }))).totalSteps).toBe(30)

    const bad = join(dir, 'bad.jsonl')
    await writeFile(bad, '{"text": "fine"}\nnot json\n')
    expect((await planner.plan(dir, trainParamsSchema.parse({ base, data: bad, seqLen: 16 }))).dataProblem).toMatch(/bad\.jsonl/)

    const missing = join(dir, 'nope.gguf')
    await expect(planner.plan(dir, trainParamsSchema.parse({ base: missing }))).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining(missing) })
    // Adapter settings the model cannot take are refused as the run would refuse them.
    await expect(planner.plan(dir, trainParamsSchema.parse({ base, method: 'lora', rank: 65536, seqLen: 16 }))).rejects.toThrow()
  })
})

describe('Train wizard API: planTraining, live metrics, getRunMetrics and listCheckpoints over the real handlers and job worker', () => {
  let services: Services | null = null
  afterEach(async () => {
    await services?.dispose()
    services = null
  })

  it('plans, trains a few MoRA steps with throttled metrics events, and lists the run metrics and checkpoints', { timeout: 120_000 }, async () => {
    const { dir, base, data } = await fixture()
    services = await createServices({ appDataDir: join(dir, 'appData'), shell: 'browser-bridge', jobWorker: sourceJobWorker() })
    const handlers = createHandlers(services)
    const call = async <T>(method: Parameters<typeof dispatch>[1], request?: unknown): Promise<T> => {
      const response = await dispatch(handlers, method, request)
      if (!response.ok) throw new Error(`${String(method)}: ${response.error.message}`)
      return response.value as T
    }
    const events: ApiEvents['onJobMetrics'][] = []
    services.events.subscribe((event, payload) => {
      if (event === 'onJobMetrics') events.push(payload as ApiEvents['onJobMetrics'])
    })
    await call('createProject', { dir: join(dir, 'project'), name: 'Wizard API' })

    const params = { base, data, method: 'mora', rank: 4, seqLen: 16, steps: 6, checkpointEvery: 2, lr: 0.01, warmupRatio: 0 }
    const plan = await call<TrainPlanInfo>('planTraining', params)
    expect(plan.totalSteps).toBe(6)
    expect(plan.fits).toBe(true)
    const invalid = await dispatch(handlers, 'planTraining', { ...params, batch: 0 })
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid_argument', message: expect.stringContaining('batch') } })

    const job = await call<{ id: string }>('startJob', { kind: 'train', params })
    const finished = await services.workspace.queue.waitFor(job.id)
    expect(finished.state).toBe('succeeded')
    await new Promise((resolve) => setTimeout(resolve, 250))

    const runId = `run-${job.id}`
    const metrics = await call<TrainStepMetrics[]>('getRunMetrics', { runId })
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6])
    for (const m of metrics) expect(Number.isFinite(m.loss) && m.tokensPerSecond > 0 && m.lr > 0).toBe(true)
    // Every event is a step of this job; the latest step always arrives, and none arrives twice.
    expect(events.length).toBeGreaterThan(0)
    expect(events.every((e) => e.jobId === job.id)).toBe(true)
    const eventSteps = events.map((e) => e.record['step'])
    expect(eventSteps.at(-1)).toBe(6)
    expect(new Set(eventSteps).size).toBe(eventSteps.length)
    expect(events.at(-1)!.record['loss']).toBe(metrics.at(-1)!.loss)

    const checkpoints = await call<TrainCheckpointInfo[]>('listCheckpoints', { runId })
    expect(checkpoints.map((c) => c.step)).toEqual([6, 4])
    expect(checkpoints[0]!.dir).toBe(join(dir, 'project', 'runs', runId, 'checkpoints', 'step-0000006'))

    expect(await call('getRunMetrics', { runId: 'run-999' })).toEqual([])
    expect(await call('listCheckpoints', { runId: 'run-999' })).toEqual([])
    expect(await dispatch(handlers, 'getRunMetrics', { runId: '../etc' })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } })

    // A crash can leave half a line at the end; it is skipped, not a failure.
    const runDir = join(dir, 'project', 'runs', runId)
    await appendFile(join(runDir, METRICS_FILE), '{"step":7,"loss"')
    expect((await readRunMetrics(runDir)).map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6])
    expect((await listRunCheckpoints(runDir)).length).toBe(2)
  })
})
