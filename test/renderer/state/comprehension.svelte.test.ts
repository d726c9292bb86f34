import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../src-main/shared/api'
import { QA_REJECT_REASONS } from '../../../src-main/shared/types/comprehension'
import type { JobSummary } from '../../../src-main/shared/types/jobs'
import { ComprehensionState, REJECT_REASONS, parseYield, previewView } from '../../../src-renderer/src/state/comprehension.svelte'
import {
  makeCluster,
  makeClusterJob,
  makeClusterRun,
  makeComprehendJob,
  makeComprehendSummary,
  makeComprehensionTotals,
  makeDataset,
  makeDatasetJob,
  makeDetail,
  makePair,
  makePreviewJob,
  makePreviewSummary,
} from '../screens/Comprehension/comprehensionFixtures'
import { deferred, fakeClient } from '../support/fakeClient'
import { makeJob } from '../support/fixtures'

function stateWith(methods: Partial<Api> = {}) {
  const calls = {
    getComprehensionTotals: vi.fn(async () => makeComprehensionTotals({ acceptedPairs: 4 })),
    listQaPairs: vi.fn<Api['listQaPairs']>(async () => ({ total: 2, pairs: [makePair({ id: 1 }), makePair({ id: 2, question: 'Who pays?' })] })),
    listClusters: vi.fn<Api['listClusters']>(async () => ({ run: null, total: 0, clusters: [] })),
    getDataset: vi.fn<Api['getDataset']>(async () => null),
    listJobs: vi.fn<Api['listJobs']>(async () => []),
    ...methods,
  }
  const fake = fakeClient(calls)
  return { state: new ComprehensionState(fake.client), calls, ...fake }
}

/** The ids of the first `count` pairs, undefined where a row is not loaded. */
const pairIds = (state: ComprehensionState, count: number): (number | undefined)[] => Array.from({ length: count }, (_, i) => state.pairs.at(i)?.id)

describe('ComprehensionState: loading', () => {
  it('loads totals, the first pages and the dataset, follows running and resumable jobs, and unsubscribes on stop', async () => {
    const jobs: JobSummary[] = [
      makeComprehendJob({ id: '7', state: 'running' }),
      makeClusterJob({ id: '6', state: 'interrupted', resumable: true }),
      makeDatasetJob({ id: '5', state: 'succeeded' }),
      makePreviewJob({ id: '4', state: 'cancelled', resumable: true }),
      makeJob({ id: '3', state: 'running' }),
    ]
    const { state, calls, listenerCount } = stateWith({ listJobs: async () => jobs, getDataset: async () => makeDataset() })
    await state.start()
    await state.start()
    expect(state.totals?.acceptedPairs).toBe(4)
    expect(calls.listQaPairs).toHaveBeenLastCalledWith({ sort: 'chunk', descending: false, offset: 0, limit: 50 })
    expect(calls.listClusters).toHaveBeenLastCalledWith({ kind: 'extend', offset: 0, limit: 10 })
    expect(pairIds(state, 3)).toEqual([1, 2, undefined])
    expect(state.pairs.total).toBe(2)
    expect(state.dataset?.sequences).toBe(120)
    expect(state.jobs.run?.id).toBe('7')
    expect(state.busy('run')).toBe(true)
    expect(state.jobs.cluster?.id).toBe('6')
    expect(state.resumable('cluster')).toBe(true)
    expect(state.jobs.dataset).toBeNull()
    expect(state.jobs.preview).toBeNull()
    expect(listenerCount('onJobUpdate')).toBe(1)

    state.stop()
    expect(listenerCount('onJobUpdate')).toBe(0)
    expect(state.jobs.run).toBeNull()
    expect(pairIds(state, 1)).toEqual([undefined])
    expect(state.pairs.total).toBe(0)
    expect(state.totals).toBeNull()
  })

  it('shows a failed load as the error', async () => {
    const { state } = stateWith({ getComprehensionTotals: async () => Promise.reject(new Error('database is locked')) })
    await state.start()
    expect(state.error).toBe('database is locked')
  })

  it('knows every reject reason of the contract', () => {
    expect([...REJECT_REASONS].sort()).toEqual([...QA_REJECT_REASONS].sort())
  })
})

describe('ComprehensionState: reviewing pairs', () => {
  it('passes the search, filters and sort to listQaPairs, from the first page, and fetches the pages the grid shows', async () => {
    const listQaPairs = vi.fn<Api['listQaPairs']>(async () => ({ total: 160, pairs: [makePair()] }))
    const { state, calls } = stateWith({ listQaPairs })
    await state.start()
    await state.pairs.ensure(40, 120)
    expect(listQaPairs.mock.calls.map(([r]) => r.offset)).toEqual([0, 50, 100])
    expect(calls.listQaPairs).toHaveBeenLastCalledWith({ sort: 'chunk', descending: false, offset: 100, limit: 50 })
    const resets = state.pairs.resets
    await state.setQuery({ search: '  rent ', status: 'rejected', reason: 'not_grounded' })
    expect(calls.listQaPairs).toHaveBeenLastCalledWith({ sort: 'chunk', descending: false, offset: 0, limit: 50, search: 'rent', status: 'rejected', reason: 'not_grounded' })
    expect(state.pairs.resets).toBe(resets + 1)
    expect(state.pairs.cachedPages).toBe(1)
    await state.setQuery({ sort: 'answerLength', descending: true, status: 'all', reason: null, search: '' })
    expect(calls.listQaPairs).toHaveBeenLastCalledWith({ sort: 'answerLength', descending: true, offset: 0, limit: 50 })
    expect(state.pairs.total).toBe(160)
  })

  it('never lets the answer to an older query replace a newer one', async () => {
    const slow = deferred<{ total: number; pairs: ReturnType<typeof makePair>[] }>()
    const listQaPairs = vi.fn<Api['listQaPairs']>(async (request) => (request.search === 'slow' ? slow.promise : { total: 1, pairs: [makePair({ id: 9 })] }))
    const { state } = stateWith({ listQaPairs })
    await state.start()
    const older = state.setQuery({ search: 'slow' })
    await state.setQuery({ search: 'fast' })
    slow.resolve({ total: 5, pairs: [makePair({ id: 5 })] })
    await older
    expect(pairIds(state, 1)).toEqual([9])
    expect(state.pairs.total).toBe(1)
  })

  it('replaces an edited row with the stored one, and refreshes totals after a decision', async () => {
    const updateQaPair = vi.fn<Api['updateQaPair']>(async (request) => makePair({ id: request.id, question: request.question ?? 'Who pays?', edited: true, status: request.status ?? 'accepted', rejectReason: request.status === 'rejected' ? 'user' : null }))
    const { state, calls } = stateWith({ updateQaPair })
    await state.start()
    expect(await state.updatePair(2, { question: 'Who pays the rent?' })).toBe(true)
    expect(updateQaPair).toHaveBeenLastCalledWith({ id: 2, question: 'Who pays the rent?' })
    expect(state.pairs.at(1)).toMatchObject({ id: 2, question: 'Who pays the rent?', edited: true })
    expect(state.pairs.at(0)?.edited).toBe(false)
    expect(calls.getComprehensionTotals).toHaveBeenCalledTimes(1)

    await state.updatePair(1, { status: 'rejected' })
    expect(state.pairs.at(0)).toMatchObject({ status: 'rejected', rejectReason: 'user' })
    expect(calls.getComprehensionTotals).toHaveBeenCalledTimes(2)
  })

  it('keeps the row and shows the error when an edit is refused', async () => {
    const { state } = stateWith({ updateQaPair: async () => Promise.reject(new Error('question must not be empty')) })
    await state.start()
    expect(await state.updatePair(1, { question: ' ' })).toBe(false)
    expect(state.error).toBe('question must not be empty')
    expect(state.pairs.at(0)?.question).toBe('When does the lease begin?')
  })

  it('counts the accepted pairs a bulk reject would hit, then rejects them with the current search and reason', async () => {
    const listQaPairs = vi.fn<Api['listQaPairs']>(async (request) => (request.status === 'accepted' && request.limit === 1 ? { total: 7, pairs: [makePair()] } : { total: 2, pairs: [makePair()] }))
    const rejectQaPairs = vi.fn(async () => ({ rejected: 7 }))
    const { state, calls } = stateWith({ listQaPairs, rejectQaPairs })
    await state.start()
    expect(state.canBulkReject).toBe(false)
    await state.prepareBulkReject()
    expect(state.bulkRejectCount).toBeNull()

    await state.setQuery({ search: 'sky', reason: 'not_grounded' })
    await state.prepareBulkReject()
    expect(listQaPairs).toHaveBeenLastCalledWith({ status: 'accepted', limit: 1, search: 'sky', reason: 'not_grounded' })
    expect(state.bulkRejectCount).toBe(7)
    const listsBefore = listQaPairs.mock.calls.length
    await state.confirmBulkReject()
    expect(rejectQaPairs).toHaveBeenCalledWith({ search: 'sky', reason: 'not_grounded' })
    expect(state.bulkRejected).toBe(7)
    expect(state.bulkRejectCount).toBeNull()
    expect(listQaPairs.mock.calls.length).toBe(listsBefore + 1)
    expect(calls.getComprehensionTotals).toHaveBeenCalledTimes(2)
  })

  it('drops a pending confirmation when the filter changes', async () => {
    const { state } = stateWith()
    await state.start()
    await state.setQuery({ search: 'sky' })
    await state.prepareBulkReject()
    expect(state.bulkRejectCount).toBe(2)
    await state.setQuery({ search: 'rent' })
    expect(state.bulkRejectCount).toBeNull()
  })
})

describe('ComprehensionState: jobs', () => {
  it('starts a preview in its own slot and loads its result when it finishes, without touching pairs', async () => {
    const summary = makePreviewSummary()
    const startJob = vi.fn(async () => makePreviewJob({ state: 'queued' }))
    const getJob = vi.fn(async () => makeDetail(makePreviewJob({ state: 'succeeded' }), summary))
    const { state, emit, calls } = stateWith({ startJob, getJob })
    await state.start()
    expect(await state.startComprehend({ mode: 'llm', generator: '/m/qwen.gguf', preview: 3 })).toBe(true)
    expect(startJob).toHaveBeenCalledWith({ kind: 'comprehend', params: { mode: 'llm', generator: '/m/qwen.gguf', preview: 3 } })
    expect(state.jobs.preview?.id).toBe('8')
    expect(state.jobs.run).toBeNull()
    expect(state.busy('preview')).toBe(true)
    emit('onJobUpdate', makePreviewJob({ state: 'running' }))
    emit('onJobUpdate', makePreviewJob({ state: 'succeeded' }))
    await vi.waitFor(() => expect(state.previewSummary).toEqual(summary))
    expect(getJob).toHaveBeenCalledWith({ jobId: '8', logLimit: 0 })
    expect(calls.listQaPairs).toHaveBeenCalledTimes(1)
    expect(state.runSummary).toBeNull()
  })

  it('turns a preview into rows of pairs with ✓ or their reason, or into the mined texts', () => {
    const view = previewView(makePreviewSummary())
    expect(view).toEqual({
      mode: 'llm',
      chunks: [
        {
          chunkId: 101,
          status: 'ok',
          statusLabel: 'OK',
          error: null,
          pairs: [
            { question: 'Who pays the rent?', answer: 'The tenant.', accepted: true, reason: null },
            { question: 'What colour is the sky?', answer: 'Blue.', accepted: false, reason: 'Answer not found in the text (0% of its words)' },
          ],
        },
        { chunkId: 102, status: 'timeout', statusLabel: 'Timed out', error: 'no answer within 120 s', pairs: [] },
      ],
    })
    const mined = previewView(makeComprehendSummary({ mode: 'regex', rcPreview: [{ chunkId: 5, text: 'Question: …', taskCount: 2 }] }))
    expect(mined).toEqual({ mode: 'regex', texts: [{ chunkId: 5, text: 'Question: …', taskCount: 2 }] })
  })

  it('keeps updates that arrive before startJob answers, then loads the run summary and refreshes totals and pairs', async () => {
    const answer = deferred<JobSummary>()
    const summary = makeComprehendSummary()
    const getJob = vi.fn(async () => makeDetail(makeComprehendJob({ state: 'succeeded' }), summary))
    const { state, emit, calls } = stateWith({ startJob: () => answer.promise, getJob })
    await state.start()
    const starting = state.startComprehend({ mode: 'regex' })
    expect(state.busy('run')).toBe(true)
    emit('onJobUpdate', makeComprehendJob({ state: 'running', progress: { done: 1, total: 4, fraction: 0.25, message: '1 of 4 chunks · 3 tasks mined', etaSeconds: null } }))
    emit('onJobUpdate', makeComprehendJob({ state: 'succeeded' }))
    answer.resolve(makeComprehendJob({ state: 'queued' }))
    expect(await starting).toBe(true)
    await vi.waitFor(() => expect(state.runSummary).toEqual(summary))
    expect(state.jobs.run?.state).toBe('succeeded')
    expect(state.busy('run')).toBe(false)
    await vi.waitFor(() => expect(calls.listQaPairs).toHaveBeenCalledTimes(2))
    expect(calls.getComprehensionTotals).toHaveBeenCalledTimes(2)
  })

  it('ignores older jobs of a kind and other kinds', async () => {
    const { state, emit } = stateWith({ startJob: async () => makeComprehendJob({ id: '7', state: 'queued' }) })
    await state.start()
    await state.startComprehend({ mode: 'regex' })
    emit('onJobUpdate', makeComprehendJob({ id: '6', state: 'running' }))
    emit('onJobUpdate', makeJob({ id: '9', kind: 'import', state: 'running' }))
    expect(state.jobs.run?.id).toBe('7')
    expect(state.jobs.run?.state).toBe('queued')
  })

  it('shows a refused start as the error', async () => {
    const { state } = stateWith({ startJob: async () => Promise.reject(new Error('llm mode needs a generator model (.gguf) or an endpoint')) })
    await state.start()
    expect(await state.startComprehend({ mode: 'llm' })).toBe(false)
    expect(state.error).toContain('needs a generator')
    expect(state.busy('run')).toBe(false)
  })

  it('cancels and resumes the followed run, refreshing totals and pairs when it stops', async () => {
    const cancelJob = vi.fn(async () => makeComprehendJob({ state: 'cancelled', resumable: true }))
    const resumeJob = vi.fn(async () => makeComprehendJob({ state: 'queued', attempts: 2 }))
    const { state, calls } = stateWith({ listJobs: async () => [makeComprehendJob({ state: 'running' })], cancelJob, resumeJob })
    await state.start()
    await state.cancel('run')
    expect(cancelJob).toHaveBeenCalledWith({ jobId: '7' })
    expect(state.resumable('run')).toBe(true)
    await vi.waitFor(() => expect(calls.listQaPairs).toHaveBeenCalledTimes(2))
    await state.resume('run')
    expect(resumeJob).toHaveBeenCalledWith({ jobId: '7' })
    expect(state.busy('run')).toBe(true)
    expect(state.resumable('run')).toBe(false)
  })

  it('loads the cluster summary and the clusters when clustering finishes, and pages each view', async () => {
    const listClusters = vi.fn<Api['listClusters']>(async () => ({ run: makeClusterRun(), total: 14, clusters: [makeCluster()] }))
    const summary = { embedded: 12, reusedEmbeddings: 0, runId: 3, clusters: 4, multiMemberClusters: 2, largestCluster: 3, kMeansRunId: null, seconds: { embed: 3, cluster: 1 } }
    const { state, emit } = stateWith({ listClusters, startJob: async () => makeClusterJob(), getJob: async () => makeDetail(makeClusterJob({ state: 'succeeded' }), summary) })
    await state.start()
    expect(await state.startCluster({ embedder: '/m/bge.gguf', threshold: 0.7 })).toBe(true)
    emit('onJobUpdate', makeClusterJob({ state: 'succeeded' }))
    await vi.waitFor(() => expect(state.clusterSummary).toEqual(summary))
    await vi.waitFor(() => expect(listClusters).toHaveBeenCalledTimes(2))
    expect(state.clusters.map((c) => c.cluster)).toEqual([1])
    await state.goToClustersOffset(10)
    expect(listClusters).toHaveBeenLastCalledWith({ kind: 'extend', offset: 10, limit: 10 })
    await state.setClusterKind('kmeans')
    expect(listClusters).toHaveBeenLastCalledWith({ kind: 'kmeans', offset: 0, limit: 10 })
    expect(state.clustersTotal).toBe(14)
  })

  it('shows the built dataset on start and reloads it when a build finishes', async () => {
    const getDataset = vi.fn<Api['getDataset']>().mockResolvedValueOnce(null).mockResolvedValueOnce(makeDataset({ sequences: 300 }))
    const startJob = vi.fn(async () => makeDatasetJob())
    const { state, emit } = stateWith({ getDataset, startJob })
    await state.start()
    expect(state.dataset).toBeNull()
    await state.startDataset({ ratio: '1:2', mix: '/data/general.jsonl' })
    expect(startJob).toHaveBeenCalledWith({ kind: 'dataset', params: { ratio: '1:2', mix: '/data/general.jsonl' } })
    emit('onJobUpdate', makeDatasetJob({ state: 'succeeded' }))
    await vi.waitFor(() => expect(state.dataset?.sequences).toBe(300))
  })
})

describe('parseYield', () => {
  it('reads kept, rejected and failed counts from a generation message', () => {
    expect(parseYield('40 of 120 chunks · 98 pairs kept, 14 rejected, 2 chunks failed')).toEqual({ done: 40, total: 120, kept: 98, rejected: 14, failed: 2 })
    expect(parseYield('3 of 9 chunks · 8 pairs kept, 0 rejected')).toEqual({ done: 3, total: 9, kept: 8, rejected: 0, failed: 0 })
  })

  it('reads mined tasks, and nothing from other messages', () => {
    expect(parseYield('5 of 9 chunks · 21 tasks mined')).toEqual({ done: 5, total: 9, kept: 21, rejected: null, failed: 0 })
    expect(parseYield('Loading the model…')).toBeNull()
    expect(parseYield(null)).toBeNull()
  })
})
