import { render } from '@testing-library/svelte'
import { vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import type { ClusterInfo, ClusterRunInfo, ComprehendSummary, ComprehensionTotals, DatasetSummary, QaPairInfo } from '../../../../src-main/shared/types/comprehension'
import type { JobDetail, JobSummary } from '../../../../src-main/shared/types/jobs'
import ComprehensionWizard from '../../../../src-renderer/src/screens/Comprehension/ComprehensionWizard.svelte'
import { ComprehensionState } from '../../../../src-renderer/src/state/comprehension.svelte'
import { fakeClient } from '../../support/fakeClient'
import { makeJob } from '../../support/fixtures'

export function makeComprehensionTotals(overrides: Partial<ComprehensionTotals> = {}): ComprehensionTotals {
  return {
    rcChunks: 0,
    rcTasks: 0,
    generations: { ok: 0, unparsable: 0, timeout: 0, error: 0 },
    acceptedPairs: 0,
    rejectedPairs: 0,
    rejectedByReason: {},
    embeddedChunks: 0,
    embedder: null,
    clusters: null,
    activeChunks: 12,
    ...overrides,
  }
}

export function makePair(overrides: Partial<QaPairInfo> = {}): QaPairInfo {
  return {
    id: 1,
    chunkId: 100,
    documentId: 10,
    question: 'When does the lease begin?',
    answer: 'On the first day of the month.',
    status: 'accepted',
    rejectReason: null,
    rejectDetail: null,
    decidedBy: 'filter',
    edited: false,
    ...overrides,
  }
}

export function makeComprehendJob(overrides: Partial<JobSummary> = {}): JobSummary {
  return makeJob({ id: '7', kind: 'comprehend', label: 'Generate questions with qwen.gguf', ...overrides })
}

export function makePreviewJob(overrides: Partial<JobSummary> = {}): JobSummary {
  return makeJob({ id: '8', kind: 'comprehend', label: 'Preview: Generate questions with qwen.gguf', ...overrides })
}

export function makeClusterJob(overrides: Partial<JobSummary> = {}): JobSummary {
  return makeJob({ id: '9', kind: 'cluster', label: 'Embed and cluster with bge.gguf', ...overrides })
}

export function makeDatasetJob(overrides: Partial<JobSummary> = {}): JobSummary {
  return makeJob({ id: '11', kind: 'dataset', label: 'Build the dataset (2048-token sequences)', ...overrides })
}

export function makeDetail(job: JobSummary, result: unknown): JobDetail {
  return { ...job, params: {}, result, logs: [] }
}

export function makeComprehendSummary(overrides: Partial<ComprehendSummary> = {}): ComprehendSummary {
  return {
    mode: 'llm',
    processed: 10,
    remaining: 2,
    produced: 24,
    rejected: 5,
    rejectedByReason: { not_grounded: 3, duplicate: 2 },
    failed: { timeout: 1 },
    outputTokens: 5000,
    tokensPerSecond: 41.25,
    preview: null,
    rcPreview: null,
    totals: makeComprehensionTotals({ acceptedPairs: 24, rejectedPairs: 5 }),
    ...overrides,
  }
}

/** A preview of two chunks: one with a kept and a rejected pair, one that timed out. */
export function makePreviewSummary(): ComprehendSummary {
  return makeComprehendSummary({
    processed: 2,
    preview: [
      {
        chunkId: 101,
        status: 'ok',
        error: null,
        pairs: [
          { question: 'Who pays the rent?', answer: 'The tenant.', rejectReason: null, rejectDetail: null },
          { question: 'What colour is the sky?', answer: 'Blue.', rejectReason: 'not_grounded', rejectDetail: '0% of its words' },
        ],
        outputTokens: 80,
        elapsedMs: 1200,
      },
      { chunkId: 102, status: 'timeout', error: 'no answer within 120 s', pairs: [], outputTokens: 0, elapsedMs: 120_000 },
    ],
  })
}

export function makeClusterRun(overrides: Partial<ClusterRunInfo> = {}): ClusterRunInfo {
  return { id: 3, kind: 'extend', embedder: 'bge-small.gguf', clusters: 4, members: 12, createdAtMs: 1_000, ...overrides }
}

export function makeCluster(overrides: Partial<ClusterInfo> = {}): ClusterInfo {
  return {
    cluster: 1,
    size: 3,
    tokens: 1500,
    terms: ['lease', 'tenant', 'rent'],
    members: [
      { chunkId: 100, documentId: 10, similarity: 1, title: 'Lease agreement', preview: 'The lease begins on…' },
      { chunkId: 200, documentId: 20, similarity: 0.83, title: null, preview: 'Rent is due in advance…' },
    ],
    ...overrides,
  }
}

export function makeDataset(overrides: Partial<DatasetSummary> = {}): DatasetSummary {
  return {
    dir: '/home/me/contracts/artifacts/dataset',
    sequences: 120,
    seqLen: 2048,
    tokens: { regex: 100_000, llm: 23_000, instructions: 120_000, total: 243_000 },
    items: { regex: 50, llm: 300, instructions: 900 },
    achievedRatio: 1.025,
    heldOut: { documents: 2, tokens: 4000, qaPairs: 12 },
    fillRatio: 0.987,
    tokenizer: 'estimate',
    exported: null,
    ...overrides,
  }
}

/**
 * Renders the wizard on a fake client whose calls start empty (no pairs, clusters, dataset or jobs; `totals` as
 * given); `methods` replace any of them.
 */
export function renderWizard(methods: Partial<Api> = {}, options: { canBrowse?: boolean; totals?: Partial<ComprehensionTotals> } = {}) {
  const calls = {
    getComprehensionTotals: vi.fn(async () => makeComprehensionTotals(options.totals)),
    listQaPairs: vi.fn<Api['listQaPairs']>(async () => ({ total: 0, pairs: [] })),
    listClusters: vi.fn<Api['listClusters']>(async () => ({ run: null, total: 0, clusters: [] })),
    getDataset: vi.fn<Api['getDataset']>(async () => null),
    listJobs: vi.fn<Api['listJobs']>(async () => []),
    ...methods,
  }
  const fake = fakeClient(calls)
  const comprehension = new ComprehensionState(fake.client)
  render(ComprehensionWizard, { comprehension, canBrowse: options.canBrowse ?? true })
  return { ...fake, comprehension, calls }
}
