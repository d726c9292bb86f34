import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../src-main/shared/api'
import { PipelineState } from '../../../src-renderer/src/state/pipeline.svelte'
import { allDone, factsClient, importedOnly, makePipeline, makeRun } from '../screens/Pipeline/pipelineFixtures'
import { deferred } from '../support/fakeClient'
import { makeJob } from '../support/fixtures'

describe('PipelineState', () => {
  it('loads the facts, the newest chain and its jobs, and follows both feeds', async () => {
    const job = makeJob({ id: '7', kind: 'comprehend', state: 'running' })
    const fake = factsClient(allDone(), { listJobs: vi.fn<Api['listJobs']>(async () => [job]) }, makePipeline())
    const state = new PipelineState(fake.client)
    await state.start()
    expect(state.loaded).toBe(true)
    expect(state.facts.runs.map((r) => r.runId)).toEqual(['run-12'])
    expect(fake.calls.getEvaluation).toHaveBeenCalledWith({ runId: 'run-12' })
    expect(state.facts.evaluation?.runId).toBe('run-12')
    expect(state.pipeline?.id).toBe(1)
    expect(state.currentJob).toEqual(job)
    expect(fake.listenerCount('onPipelineUpdate')).toBe(1)
    expect(fake.listenerCount('onJobUpdate')).toBe(1)
    state.stop()
    expect(fake.listenerCount('onPipelineUpdate')).toBe(0)
    expect(fake.listenerCount('onJobUpdate')).toBe(0)
    expect(state.pipeline).toBeNull()
  })

  it('asks for no evaluation before a run finished', async () => {
    const fake = factsClient({ ...importedOnly(), runs: [makeRun({ state: 'running' })] })
    const state = new PipelineState(fake.client)
    await state.start()
    expect(fake.calls.getEvaluation).not.toHaveBeenCalled()
    expect(state.facts.evaluation).toBeNull()
  })

  it('keeps an update that came while getPipeline was answering', async () => {
    const answer = deferred<ReturnType<typeof makePipeline> | null>()
    const fake = factsClient(importedOnly(), { getPipeline: () => answer.promise })
    const state = new PipelineState(fake.client)
    const started = state.start()
    await Promise.resolve()
    fake.emit('onPipelineUpdate', makePipeline({ id: 2, updatedAtMs: 5_000 }))
    answer.resolve(makePipeline({ id: 1 }))
    await started
    expect(state.pipeline?.id).toBe(2)
  })

  it('ignores a late update of an older chain and reloads the facts when a step finishes', async () => {
    const fake = factsClient(importedOnly(), {}, makePipeline({ updatedAtMs: 2_000 }))
    const state = new PipelineState(fake.client)
    await state.start()
    expect(fake.calls.getDataset).toHaveBeenCalledTimes(1)
    fake.emit('onPipelineUpdate', makePipeline({ updatedAtMs: 1_500, position: 2 }))
    expect(state.pipeline?.position).toBe(0)
    fake.emit('onPipelineUpdate', makePipeline({ updatedAtMs: 3_000, position: 1 }))
    expect(state.pipeline?.position).toBe(1)
    await vi.waitFor(() => expect(fake.calls.getDataset).toHaveBeenCalledTimes(2))
  })

  it('keeps jobs’ progress and reloads the facts when a job finishes', async () => {
    const fake = factsClient(importedOnly(), {}, makePipeline())
    const state = new PipelineState(fake.client)
    await state.start()
    fake.emit('onJobUpdate', makeJob({ id: '7', kind: 'comprehend', state: 'running', progress: { done: 3, total: 10, fraction: 0.3, message: 'chunk 3', etaSeconds: 12 } }))
    expect(state.currentJob?.progress.done).toBe(3)
    expect(fake.calls.listRuns).toHaveBeenCalledTimes(1)
    fake.emit('onJobUpdate', makeJob({ id: '7', kind: 'comprehend', state: 'succeeded' }))
    await vi.waitFor(() => expect(fake.calls.listRuns).toHaveBeenCalledTimes(2))
  })

  it('reads each succeeded step’s result once, and drops an answer that comes after the project closed', async () => {
    const chain = makePipeline({
      position: 1,
      steps: [
        { kind: 'comprehend', label: 'Mine reading comprehension', jobId: '7', state: 'succeeded' },
        { kind: 'dataset', label: 'Build the dataset (2048-token sequences)', jobId: '8', state: 'running' },
      ],
    })
    const held = deferred<Awaited<ReturnType<Api['getJob']>>>()
    const getJob = vi.fn<Api['getJob']>(async ({ jobId }) => (jobId === '8' ? held.promise : { ...makeJob({ id: jobId, state: 'succeeded' }), params: {}, result: { produced: 3 }, logs: [] }))
    const fake = factsClient(importedOnly(), { getJob }, chain)
    const state = new PipelineState(fake.client)
    await state.start()
    await vi.waitFor(() => expect(state.stepResults).toEqual({ '7': { produced: 3 } }))
    expect(getJob).toHaveBeenCalledWith({ jobId: '7', logLimit: 0 })
    fake.emit('onPipelineUpdate', { ...chain, updatedAtMs: 2_000 })
    expect(getJob).toHaveBeenCalledTimes(1)

    // The step's job succeeded before the chain said so: its result is read then.
    fake.emit('onJobUpdate', makeJob({ id: '8', kind: 'dataset', state: 'succeeded' }))
    expect(getJob).toHaveBeenLastCalledWith({ jobId: '8', logLimit: 0 })
    state.stop()
    held.resolve({ ...makeJob({ id: '8', state: 'succeeded' }), params: {}, result: { sequences: 1 }, logs: [] })
    await Promise.resolve()
    expect(state.stepResults).toEqual({})
  })

  it('starts, cancels and continues through the API, showing a refusal', async () => {
    const startPipeline = vi.fn<Api['startPipeline']>(async () => makePipeline({ id: 3 }))
    const cancelPipeline = vi.fn<Api['cancelPipeline']>(async () => makePipeline({ id: 3, state: 'cancelled', error: 'Cancelled', updatedAtMs: 2_000 }))
    const continuePipeline = vi.fn<Api['continuePipeline']>(async () => {
      throw new Error('A pipeline is already running')
    })
    const fake = factsClient(importedOnly(), { startPipeline, cancelPipeline, continuePipeline })
    const state = new PipelineState(fake.client)
    await state.start()
    const steps = [{ kind: 'dataset' as const, params: {} }]
    expect(await state.startPipeline(steps)).toBe(true)
    expect(startPipeline).toHaveBeenCalledWith({ steps })
    expect(state.pipeline?.id).toBe(3)
    expect(await state.cancel()).toBe(true)
    expect(state.pipeline?.state).toBe('cancelled')
    expect(await state.continue()).toBe(false)
    expect(state.error).toBe('A pipeline is already running')
    expect(state.busy).toBe(false)
  })
})
