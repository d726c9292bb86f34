import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../src-main/shared/api'
import type { ChunkPage, DocumentInfo } from '../../../src-main/shared/types/corpus'
import type { JobSummary } from '../../../src-main/shared/types/jobs'
import { CorpusState } from '../../../src-renderer/src/state/corpus.svelte'
import { makeChunk, makeDocument, makeFile, makeImportDetail, makeImportJob, makeSummary, makeTotals } from '../support/corpusFixtures'
import { deferred, fakeClient } from '../support/fakeClient'
import { makeJob, makeProject } from '../support/fixtures'

function corpusWith(methods: Partial<Api> = {}) {
  const fake = fakeClient({
    getCurrentProject: async () => makeProject({ corpus: makeTotals({ documents: 3 }) }),
    listCorpusFiles: async () => ({ total: 1, files: [makeFile()] }),
    listJobs: async () => [],
    ...methods,
  })
  return { state: new CorpusState(fake.client), ...fake }
}

describe('CorpusState', () => {
  it('loads totals, the first files page and an import still running on start, and unsubscribes on stop', async () => {
    const listCorpusFiles = vi.fn(async () => ({ total: 1, files: [makeFile()] }))
    const running = makeImportJob({ id: '4', state: 'running' })
    const { state, listenerCount } = corpusWith({ listCorpusFiles, listJobs: async () => [makeJob({ id: '6', state: 'running' }), running] })
    await state.start()
    await state.start()
    expect(state.totals?.documents).toBe(3)
    expect(listCorpusFiles).toHaveBeenLastCalledWith({ offset: 0, limit: 50 })
    expect(state.files.at(0)?.path).toBe('/docs/leases.txt')
    expect(state.files.total).toBe(1)
    expect(state.importJob?.id).toBe('4')
    expect(state.importing).toBe(true)
    expect(listenerCount('onJobUpdate')).toBe(1)

    state.stop()
    expect(listenerCount('onJobUpdate')).toBe(0)
    expect(state.importJob).toBeNull()
    expect(state.files.at(0)).toBeUndefined()
    expect(state.files.total).toBe(0)
  })

  it('keeps updates that arrive before importFiles answers, loading the summary of a job that already finished', async () => {
    const answer = deferred<JobSummary>()
    const summary = makeSummary()
    const getJob = vi.fn(async () => makeImportDetail(makeImportJob({ state: 'succeeded' }), summary))
    const { state, emit } = corpusWith({ importFiles: () => answer.promise, getJob })
    await state.start()
    const starting = state.startImport({ paths: ['/docs'] })
    expect(state.importing).toBe(true)
    emit('onJobUpdate', makeImportJob({ state: 'running' }))
    emit('onJobUpdate', makeImportJob({ state: 'succeeded' }))
    answer.resolve(makeImportJob({ state: 'queued' }))
    expect(await starting).toBe(true)
    await vi.waitFor(() => expect(state.summary).toEqual(summary))
    expect(state.importJob?.state).toBe('succeeded')
    expect(state.importing).toBe(false)
    expect(state.totals).toEqual(summary.corpus)
    expect(getJob).toHaveBeenCalledTimes(1)
  })

  it('ignores other kinds of job and older imports, and follows a newer one', async () => {
    const { state, emit } = corpusWith({ importFiles: async () => makeImportJob({ id: '5', state: 'queued' }) })
    await state.start()
    await state.startImport({ paths: ['/docs'] })
    emit('onJobUpdate', makeJob({ id: '6', kind: 'demo', state: 'running' }))
    emit('onJobUpdate', makeImportJob({ id: '4', state: 'running' }))
    expect(state.importJob?.id).toBe('5')
    emit('onJobUpdate', makeImportJob({ id: '7', state: 'running' }))
    expect(state.importJob?.id).toBe('7')
  })

  it('refreshes totals and files after a failed or cancelled import, without a summary', async () => {
    const getCurrentProject = vi.fn(async () => makeProject({ corpus: makeTotals({ documents: 3 }) }))
    const { state, emit } = corpusWith({ getCurrentProject, importFiles: async () => makeImportJob({ state: 'queued' }) })
    await state.start()
    await state.startImport({ paths: ['/docs'] })
    getCurrentProject.mockResolvedValue(makeProject({ corpus: makeTotals({ documents: 5 }) }))
    emit('onJobUpdate', makeImportJob({ state: 'cancelled' }))
    await vi.waitFor(() => expect(state.totals?.documents).toBe(5))
    expect(state.summary).toBeNull()
  })

  it('shows the last file selected when an earlier selection answers late', async () => {
    const slow = deferred<DocumentInfo[]>()
    const listDocuments = vi.fn(({ fileId }: { fileId: number }) => (fileId === 1 ? slow.promise : Promise.resolve([makeDocument({ id: 20, fileId: 2 })])))
    const listChunks = vi.fn(async ({ fileId }: { fileId?: number | undefined }): Promise<ChunkPage> => ({ total: 1, chunks: [makeChunk({ id: fileId === 1 ? 100 : 200 })] }))
    const { state } = corpusWith({ listDocuments, listChunks })
    const first = state.selectFile(makeFile({ id: 1 }))
    await state.selectFile(makeFile({ id: 2, path: '/docs/b.txt' }))
    slow.resolve([makeDocument({ id: 10 })])
    await first
    expect(state.selectedFile?.id).toBe(2)
    expect(state.documents.map((d) => d.id)).toEqual([20])
    expect(state.chunks.at(0)?.id).toBe(200)
    expect(state.chunks.total).toBe(1)
  })

  it('fetches the pages of chunks the list scrolls to, and forgets them when the file is closed', async () => {
    const listChunks = vi.fn(async ({ offset = 0 }: { offset?: number | undefined }): Promise<ChunkPage> => ({ total: 300, chunks: Array.from({ length: 100 }, (_, i) => makeChunk({ id: offset + i + 1 })) }))
    const { state } = corpusWith({ listDocuments: async () => [], listChunks })
    await state.selectFile(makeFile({ id: 9 }))
    expect(listChunks).toHaveBeenLastCalledWith({ fileId: 9, offset: 0, limit: 100 })
    await state.chunks.ensure(150, 250)
    expect(listChunks.mock.calls.map(([r]) => r.offset)).toEqual([0, 100, 200])
    expect(state.chunks.at(250)?.id).toBe(251)
    state.closeFile()
    expect(state.chunks.at(0)).toBeUndefined()
    expect(state.chunks.total).toBe(0)
  })

  it('turns failures into error text and clears it on the next action that succeeds', async () => {
    const getChunk = vi.fn().mockRejectedValueOnce(new Error('Chunk 9 does not exist (the corpus may have been re-chunked)'))
    const { state } = corpusWith({ getChunk, importFiles: async () => makeImportJob() })
    await state.selectChunk(9)
    expect(state.error).toBe('Chunk 9 does not exist (the corpus may have been re-chunked)')
    expect(state.chunk).toBeNull()
    await state.startImport({ paths: ['/docs'] })
    expect(state.error).toBeNull()
  })
})
