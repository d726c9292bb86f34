import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../src-main/shared/api'
import type { ExportInfo } from '../../../src-main/shared/types/export'
import { ExportState } from '../../../src-renderer/src/state/export.svelte'
import { makeExport, makeExportJob, makeRun } from '../screens/Export/exportFixtures'
import { deferred, fakeClient } from '../support/fakeClient'
import { makeJob } from '../support/fixtures'

function stateWith(methods: Partial<Api> = {}) {
  const calls = {
    listRuns: vi.fn<Api['listRuns']>(async () => [makeRun({ runId: 'run-14', jobId: '14', state: 'failed' }), makeRun()]),
    listExports: vi.fn<Api['listExports']>(async () => []),
    listJobs: vi.fn<Api['listJobs']>(async () => []),
    ...methods,
  }
  const fake = fakeClient(calls)
  return { state: new ExportState(fake.client), calls, ...fake }
}

describe('ExportState', () => {
  it('selects the newest finished run, follows a running export job and unsubscribes on stop', async () => {
    const { state, listenerCount } = stateWith({
      listJobs: async () => [makeExportJob({ id: '21', state: 'running' }), makeExportJob({ id: '20', state: 'succeeded' }), makeJob({ id: '22', state: 'running' })],
    })
    await state.start()
    expect(state.selectedRunId).toBe('run-12')
    expect(state.job?.id).toBe('21')
    expect(state.busy).toBe(true)
    expect(listenerCount('onJobUpdate')).toBe(1)
    state.stop()
    expect(listenerCount('onJobUpdate')).toBe(0)
    expect(state.job).toBeNull()
    expect(state.runs).toEqual([])
  })

  it('keeps the exports a finished job listed over the older first load', async () => {
    const first = deferred<ExportInfo[]>()
    const listExports = vi.fn<Api['listExports']>().mockReturnValueOnce(first.promise).mockResolvedValue([makeExport()])
    const { state, emit } = stateWith({ listExports })
    const starting = state.start()
    emit('onJobUpdate', makeExportJob({ state: 'succeeded' }))
    await vi.waitFor(() => expect(state.exports).toHaveLength(1))
    first.resolve([])
    await starting
    expect(state.currentExport?.status).toBe('verified')
  })

  it('ignores other kinds and older export jobs', async () => {
    const { state, emit, calls } = stateWith({ startJob: async () => makeExportJob({ id: '25' }) })
    await state.start()
    await state.startExport({ run: 'run-12', format: 'gguf', out: '/m/a.gguf' })
    emit('onJobUpdate', makeJob({ id: '26', kind: 'demo', state: 'running' }))
    emit('onJobUpdate', makeExportJob({ id: '24', state: 'running' }))
    expect(state.job?.id).toBe('25')
    expect(calls.listExports).toHaveBeenCalledTimes(1)
  })

  it('forgets where an earlier export is once a new one starts', async () => {
    const { state } = stateWith({ showInFolder: async () => false, startJob: async () => makeExportJob({ id: '25' }) })
    await state.start()
    await state.showInFolder('/m/run-12-q8_0.gguf')
    expect(state.noFileManager).toBe('/m/run-12-q8_0.gguf')
    await state.startExport({ run: 'run-12', format: 'gguf', out: '/m/a.gguf' })
    expect(state.noFileManager).toBeNull()
  })
})
