import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../src-main/shared/api'
import type { TrainPlanInfo } from '../../../src-main/shared/types/trainPlan'
import { TrainState } from '../../../src-renderer/src/state/train.svelte'
import { detailOf, makeTrainJob, makeTrainRun, planFor, stepMetrics } from '../screens/Train/trainFixtures'
import { deferred, fakeClient } from '../support/fakeClient'
import { makeJob } from '../support/fixtures'

function stateWith(methods: Partial<Api> = {}) {
  const calls = {
    listRuns: vi.fn<Api['listRuns']>(async () => []),
    getRunMetrics: vi.fn<Api['getRunMetrics']>(async () => []),
    listCheckpoints: vi.fn<Api['listCheckpoints']>(async () => []),
    ...methods,
  }
  const fake = fakeClient(calls)
  return { state: new TrainState(fake.client, { planDebounceMs: 10 }), calls, ...fake }
}

describe('TrainState', () => {
  it('asks for the plan once the edits stop, and an older answer never replaces a newer one', async () => {
    const slow = deferred<TrainPlanInfo>()
    const planTraining = vi.fn<Api['planTraining']>().mockReturnValueOnce(slow.promise).mockImplementation(async (params) => planFor(params))
    const { state } = stateWith({ planTraining })
    state.requestPlan({ base: '/m.gguf', batch: 1 })
    await vi.waitFor(() => expect(planTraining).toHaveBeenCalledTimes(1))
    state.requestPlan({ base: '/m.gguf', batch: 2 })
    state.requestPlan({ base: '/m.gguf', batch: 3 })
    await vi.waitFor(() => expect(state.plan).not.toBeNull())
    expect(planTraining).toHaveBeenCalledTimes(2)
    expect(planTraining).toHaveBeenLastCalledWith({ base: '/m.gguf', batch: 3 })
    const newest = state.plan
    slow.resolve(planFor({ base: '/m.gguf', batch: 1 }))
    await Promise.resolve()
    expect(state.plan).toBe(newest)
    expect(state.planning).toBe(false)
    state.requestPlan(null)
    expect(state.planning).toBe(false)
  })

  it('follows the newest run on start, merges history with live metrics, ignores other jobs, and unsubscribes on stop', async () => {
    const history = deferred<ReturnType<typeof stepMetrics>[]>()
    const { state, emit, listenerCount } = stateWith({
      listRuns: async () => [makeTrainRun({ state: 'running' })],
      getJob: async () => detailOf(makeTrainJob({ state: 'running' })),
      getRunMetrics: () => history.promise,
    })
    await state.start()
    expect(state.job?.id).toBe('7')
    expect(state.busy).toBe(true)
    // A step arrives live before the history file was read: both are kept, in order.
    emit('onJobMetrics', { jobId: '7', record: { ...stepMetrics(3) } })
    emit('onJobMetrics', { jobId: '99', record: { ...stepMetrics(9) } })
    emit('onJobMetrics', { jobId: '7', record: { note: 1 } })
    history.resolve([stepMetrics(1), stepMetrics(2)])
    await vi.waitFor(() => expect(state.metrics.map((m) => m.step)).toEqual([1, 2, 3]))
    emit('onJobUpdate', makeJob({ id: '8', kind: 'demo', state: 'running' }))
    expect(state.job?.id).toBe('7')
    expect(listenerCount('onJobMetrics')).toBe(1)
    state.stop()
    expect(listenerCount('onJobMetrics')).toBe(0)
    expect(listenerCount('onJobUpdate')).toBe(0)
    expect(state.metrics).toEqual([])
  })

  it('reloads the run files when the job stops, and follows a newer train job started elsewhere', async () => {
    const { state, emit, calls } = stateWith({ listRuns: async () => [makeTrainRun({ state: 'running' })], getJob: async () => detailOf(makeTrainJob({ state: 'running' })) })
    await state.start()
    await vi.waitFor(() => expect(calls.getRunMetrics).toHaveBeenCalledTimes(1))
    emit('onJobUpdate', makeTrainJob({ state: 'succeeded' }))
    await vi.waitFor(() => expect(calls.getRunMetrics).toHaveBeenCalledTimes(2))
    expect(calls.listCheckpoints).toHaveBeenCalledWith({ runId: 'run-7' })
    emit('onJobUpdate', makeTrainJob({ id: '12', state: 'queued' }))
    expect(state.runId).toBe('run-12')
    await vi.waitFor(() => expect(calls.getRunMetrics).toHaveBeenLastCalledWith({ runId: 'run-12' }))
  })

  it('shows a refused start and keeps no job', async () => {
    const { state } = stateWith({ startJob: async () => Promise.reject(new Error('Training at batch 64 × 256 tokens needs about 90 GiB')) })
    expect(await state.startTraining({ base: '/m.gguf', batch: 64 })).toBe(false)
    expect(state.error).toMatch(/needs about 90 GiB/)
    expect(state.job).toBeNull()
  })
})
