import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../src-main/shared/api'
import type { EvalReport } from '../../../src-main/shared/types/export'
import { EvaluateState } from '../../../src-renderer/src/state/evaluate.svelte'
import { makeEvalJob, makeReport } from '../screens/Evaluate/evaluateFixtures'
import { makeRun } from '../screens/Export/exportFixtures'
import { deferred, fakeClient } from '../support/fakeClient'

function stateWith(methods: Partial<Api> = {}) {
  const calls = {
    listRuns: vi.fn<Api['listRuns']>(async () => [makeRun(), makeRun({ runId: 'run-9', jobId: '9' })]),
    listJobs: vi.fn<Api['listJobs']>(async () => []),
    getEvaluation: vi.fn<Api['getEvaluation']>(async ({ runId }) => makeReport({ runId })),
    ...methods,
  }
  const fake = fakeClient(calls)
  return { state: new EvaluateState(fake.client), calls, ...fake }
}

describe('EvaluateState', () => {
  it('loads the newest finished run’s evaluation, follows a running eval job and unsubscribes on stop', async () => {
    const { state, listenerCount } = stateWith({ listJobs: async () => [makeEvalJob({ state: 'running' })] })
    await state.start()
    expect(state.selectedRunId).toBe('run-12')
    expect(state.report?.runId).toBe('run-12')
    expect(state.job?.id).toBe('30')
    expect(state.busy).toBe(true)
    state.stop()
    expect(listenerCount('onJobUpdate')).toBe(0)
    expect(state.report).toBeNull()
  })

  it('never shows an earlier selected run’s evaluation over the newer selection', async () => {
    const slow = deferred<EvalReport | null>()
    const getEvaluation = vi.fn<Api['getEvaluation']>(async () => makeReport())
    const { state } = stateWith({ getEvaluation })
    await state.start()
    getEvaluation.mockReturnValueOnce(slow.promise).mockResolvedValueOnce(null)
    const first = state.selectRun('run-12')
    await state.selectRun('run-9')
    slow.resolve(makeReport())
    await first
    expect(state.selectedRunId).toBe('run-9')
    expect(state.report).toBeNull()
    expect(state.reportLoaded).toBe(true)
  })

  it('reloads the evaluation when the eval job succeeds, not when it fails', async () => {
    const { state, emit, calls } = stateWith({ listJobs: async () => [makeEvalJob({ state: 'running' })] })
    await state.start()
    expect(calls.getEvaluation).toHaveBeenCalledTimes(1)
    emit('onJobUpdate', makeEvalJob({ state: 'failed' }))
    expect(calls.getEvaluation).toHaveBeenCalledTimes(1)
    emit('onJobUpdate', makeEvalJob({ id: '31', state: 'running' }))
    emit('onJobUpdate', makeEvalJob({ id: '31', state: 'succeeded' }))
    await vi.waitFor(() => expect(calls.getEvaluation).toHaveBeenCalledTimes(2))
  })

  it('retries a source chunk that failed to load', async () => {
    const getChunk = vi.fn<Api['getChunk']>().mockRejectedValueOnce(new Error('database is locked')).mockResolvedValueOnce({ id: 100 } as never)
    const { state } = stateWith({ getChunk })
    await state.loadChunk(100)
    expect(state.chunks[100]).toEqual({ state: 'failed', error: 'database is locked' })
    await state.loadChunk(100)
    expect(state.chunks[100]?.state).toBe('loaded')
    await state.loadChunk(100)
    expect(getChunk).toHaveBeenCalledTimes(2)
  })

  it('sends nothing for an empty prompt', async () => {
    const chatCompare = vi.fn<Api['chatCompare']>()
    const { state } = stateWith({ chatCompare })
    await state.start()
    expect(await state.sendChat('   ')).toBe(false)
    expect(chatCompare).not.toHaveBeenCalled()
  })
})
