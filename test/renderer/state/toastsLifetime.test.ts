import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../src-main/shared/api'
import { ToastsState } from '../../../src-renderer/src/state/toasts.svelte'
import { makeRun } from '../screens/Export/exportFixtures'
import { deferred, fakeClient } from '../support/fakeClient'
import { makeJob } from '../support/fixtures'

afterEach(() => {
  vi.useRealTimers()
})

describe('toasts across projects', () => {
  it('shows a failure again for the same job id in another project (job ids are per project)', () => {
    const fake = fakeClient({})
    const state = new ToastsState(fake.client)
    state.followJobFailures()
    state.projectChanged('/p/contracts')
    const failed = makeJob({ id: '3', label: 'Import files', state: 'failed', attempts: 1, error: { code: 'io', message: 'Disk full' } })
    fake.emit('onJobUpdate', failed)
    state.clear()
    state.projectChanged('/p/manuals')
    fake.emit('onJobUpdate', failed)
    expect(state.toasts.map((t) => t.title)).toEqual(['Import files failed'])
  })

  it('drops an artifact toast whose path was looked up after another project opened', async () => {
    const runs = deferred<Awaited<ReturnType<Api['listRuns']>>>()
    const fake = fakeClient({ listRuns: () => runs.promise })
    const state = new ToastsState(fake.client)
    state.projectChanged('/p/contracts')
    const finishing = state.pushJobArtifact(makeJob({ id: '12', kind: 'train', label: 'Train MoRA rank 8', state: 'succeeded' }))
    state.projectChanged('/p/manuals')
    // The other project's run 12 answers: its adapter is not what the contracts job wrote.
    runs.resolve([makeRun({ jobId: '12', adapterFile: '/p/manuals/runs/run-12/adapter.safetensors' })])
    await finishing
    expect(state.toasts).toEqual([])
  })
})

describe('toast lifetime', () => {
  it('dismisses success and info toasts after a while, counted again from a repeat; errors stay', () => {
    vi.useFakeTimers()
    const state = new ToastsState(fakeClient({}).client, { autoDismissMs: 1000 })
    state.push({ code: 'io', message: 'Disk full' })
    state.push({ tone: 'success', code: 'finished', message: 'Exported' })
    vi.advanceTimersByTime(600)
    state.push({ tone: 'info', code: 'no_file_manager', message: 'Open it yourself' })
    state.push({ tone: 'success', code: 'finished', message: 'Exported' })
    vi.advanceTimersByTime(600)
    expect(state.toasts.map((t) => [t.message, t.count])).toEqual([['Disk full', 1], ['Exported', 2], ['Open it yourself', 1]])
    vi.advanceTimersByTime(500)
    expect(state.toasts.map((t) => t.message)).toEqual(['Disk full'])
    vi.advanceTimersByTime(60_000)
    expect(state.toasts.map((t) => t.message)).toEqual(['Disk full'])
  })

  it('keeps a success toast while it is held (pointer or focus on it), then gives it its full time again', () => {
    vi.useFakeTimers()
    const state = new ToastsState(fakeClient({}).client, { autoDismissMs: 1000 })
    const id = state.push({ tone: 'info', code: 'no_file_manager', message: 'Open this path yourself:', file: '/p/x.gguf' })
    vi.advanceTimersByTime(900)
    state.hold(id)
    vi.advanceTimersByTime(5000)
    state.release(id)
    vi.advanceTimersByTime(900)
    expect(state.toasts).toHaveLength(1)
    vi.advanceTimersByTime(100)
    expect(state.toasts).toHaveLength(0)
  })

  it('makes room by dropping the oldest success toast before any error', () => {
    const state = new ToastsState(fakeClient({}).client)
    state.push({ code: 'io', message: 'e1' })
    for (let i = 1; i <= 4; i++) state.push({ tone: 'success', code: 'finished', message: `s${i}` })
    state.push({ code: 'io', message: 'e2' })
    state.push({ tone: 'success', code: 'finished', message: 's5' })
    expect(state.toasts.map((t) => t.message)).toEqual(['e1', 's3', 's4', 'e2', 's5'])
    for (let i = 3; i <= 7; i++) state.push({ code: 'io', message: `e${i}` })
    expect(state.toasts.map((t) => t.message)).toEqual(['e3', 'e4', 'e5', 'e6', 'e7'])
  })
})
