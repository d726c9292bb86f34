import { describe, expect, it, vi } from 'vitest'
import { JobsState } from '../../../src-renderer/src/state/jobs.svelte'
import type { JobDetail, JobSummary } from '../../../src-main/shared/types/jobs'
import { deferred, fakeClient } from '../support/fakeClient'
import { makeJob, makeLogLine } from '../support/fixtures'

const ids = (state: JobsState): string[] => state.jobs.map((job) => job.id)

async function started(snapshot: JobSummary[], methods: Parameters<typeof fakeClient>[0] = {}) {
  const listJobs = vi.fn(async () => snapshot)
  const fake = fakeClient({ listJobs, ...methods })
  const state = new JobsState(fake.client)
  await state.start()
  return { state, listJobs, ...fake }
}

describe('JobsState', () => {
  it('loads the snapshot on start', async () => {
    const { state, listJobs } = await started([makeJob({ id: '2' }), makeJob({ id: '1', state: 'running' })])
    expect(listJobs).toHaveBeenCalledWith({ limit: 100 })
    expect(ids(state)).toEqual(['2', '1'])
    expect(state.active.map((job) => job.id)).toEqual(['2', '1'])
    expect(state.error).toBeNull()
  })

  it('puts a job from onJobUpdate first, ordering ids as numbers', async () => {
    const { state, emit } = await started([makeJob({ id: '9' }), makeJob({ id: '8' })])
    emit('onJobUpdate', makeJob({ id: '10' }))
    expect(ids(state)).toEqual(['10', '9', '8'])
  })

  it('replaces a known job in place on onJobUpdate', async () => {
    const { state, emit } = await started([makeJob({ id: '2' }), makeJob({ id: '1', state: 'running' })])
    emit('onJobUpdate', makeJob({ id: '1', state: 'succeeded' }))
    expect(ids(state)).toEqual(['2', '1'])
    expect(state.jobs[1]?.state).toBe('succeeded')
    expect(state.active.map((job) => job.id)).toEqual(['2'])
  })

  it('keeps updates that arrive while the snapshot loads, including jobs the snapshot lacks', async () => {
    const snapshot = deferred<JobSummary[]>()
    const { client, emit } = fakeClient({ listJobs: () => snapshot.promise })
    const state = new JobsState(client)
    const starting = state.start()
    emit('onJobUpdate', makeJob({ id: '8', state: 'running' }))
    emit('onJobUpdate', makeJob({ id: '10', state: 'queued' }))
    snapshot.resolve([makeJob({ id: '9', state: 'succeeded' }), makeJob({ id: '8', state: 'queued' })])
    await starting
    expect(state.jobs.map((job) => [job.id, job.state])).toEqual([['10', 'queued'], ['9', 'succeeded'], ['8', 'running']])
  })

  it('appends onJobLog lines to an opened log only, keeping the last 200', async () => {
    const detail = { ...makeJob({ id: '1' }), params: {}, result: null, logs: [makeLogLine('line 0')] } satisfies JobDetail
    const getJob = vi.fn(async () => detail)
    const { state, emit } = await started([makeJob({ id: '1' }), makeJob({ id: '2' })], { getJob })
    emit('onJobLog', { jobId: '1', line: makeLogLine('before opening') })
    await state.loadLog('1')
    expect(getJob).toHaveBeenCalledWith({ jobId: '1', logLimit: 200 })

    for (let i = 1; i <= 250; i++) emit('onJobLog', { jobId: '1', line: makeLogLine(`line ${i}`) })
    emit('onJobLog', { jobId: '2', line: makeLogLine('not opened') })

    const messages = state.logs['1']?.map((line) => line.message)
    expect(messages).toHaveLength(200)
    expect(messages?.[0]).toBe('line 51')
    expect(messages?.at(-1)).toBe('line 250')
    expect(state.logs['2']).toBeUndefined()

    state.forgetLog('1')
    expect(state.logs['1']).toBeUndefined()
  })

  it('keeps log lines that arrive while the stored log loads, without doubling stored ones', async () => {
    const stored = [makeLogLine('stored 1'), makeLogLine('stored 2')]
    const pending = deferred<JobDetail>()
    const { state, emit } = await started([makeJob({ id: '1' })], { getJob: () => pending.promise })
    const loading = state.loadLog('1')
    emit('onJobLog', { jobId: '1', line: makeLogLine('stored 2') })
    emit('onJobLog', { jobId: '1', line: makeLogLine('arrived meanwhile') })
    pending.resolve({ ...makeJob({ id: '1' }), params: {}, result: null, logs: stored })
    await loading
    expect(state.logs['1']?.map((line) => line.message)).toEqual(['stored 1', 'stored 2', 'arrived meanwhile'])
  })

  it('unsubscribes and clears on stop, and does not subscribe twice on restart', async () => {
    const { state, emit, listenerCount } = await started([makeJob({ id: '1' })])
    await state.start()
    expect(listenerCount('onJobUpdate')).toBe(1)
    expect(listenerCount('onJobLog')).toBe(1)

    state.stop()
    expect(listenerCount('onJobUpdate')).toBe(0)
    expect(listenerCount('onJobLog')).toBe(0)
    emit('onJobUpdate', makeJob({ id: '2' }))
    expect(state.jobs).toEqual([])
  })

  it('turns a failed snapshot into error text', async () => {
    const { state } = await started([], { listJobs: async () => Promise.reject(new Error('No project is open')) })
    expect(state.error).toBe('No project is open')
  })

  it('applies the job an action returns, and clears the error on the next success', async () => {
    const cancelJob = vi
      .fn()
      .mockRejectedValueOnce(new Error('Job 1 has already finished'))
      .mockResolvedValueOnce(makeJob({ id: '1', state: 'running', cancelRequested: true }))
    const { state } = await started([makeJob({ id: '1', state: 'running' })], { cancelJob })

    await state.cancel('1')
    expect(state.error).toBe('Job 1 has already finished')
    await state.cancel('1')
    expect(cancelJob).toHaveBeenLastCalledWith({ jobId: '1' })
    expect(state.error).toBeNull()
    expect(state.jobs[0]?.cancelRequested).toBe(true)
  })

  it('adds a started job and a resumed job', async () => {
    const startJob = vi.fn(async () => makeJob({ id: '2', state: 'queued' }))
    const resumeJob = vi.fn(async () => makeJob({ id: '1', state: 'queued', attempts: 2 }))
    const { state } = await started([makeJob({ id: '1', state: 'interrupted', resumable: true })], { startJob, resumeJob })

    await state.startJob({ kind: 'demo', params: { steps: 3 } })
    expect(startJob).toHaveBeenCalledWith({ kind: 'demo', params: { steps: 3 } })
    await state.resume('1')
    expect(resumeJob).toHaveBeenCalledWith({ jobId: '1' })
    expect(state.jobs.map((job) => [job.id, job.state])).toEqual([['2', 'queued'], ['1', 'queued']])
  })
})
