import { render } from '@testing-library/svelte'
import { vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import type { PipelineInfo } from '../../../../src-main/shared/types/pipeline'
import PipelinePanel from '../../../../src-renderer/src/screens/Pipeline/PipelinePanel.svelte'
import type { PipelineFacts } from '../../../../src-renderer/src/screens/Pipeline/pipelinePlan'
import type { StepId } from '../../../../src-renderer/src/screens/Steps/steps'
import { PipelineState } from '../../../../src-renderer/src/state/pipeline.svelte'
import { fakeClient } from '../../support/fakeClient'
import { makeCorpusTotals, makeJob, makeProject } from '../../support/fixtures'
import { makeComprehensionTotals, makeDataset, makeDetail } from '../Comprehension/comprehensionFixtures'
import { makeReport } from '../Evaluate/evaluateFixtures'
import { makeExport, makeRun } from '../Export/exportFixtures'

export { makeComprehensionTotals, makeDataset, makeExport, makeReport, makeRun }

/** 2 Nov 2026 14:15:09 local time: names the exported file. */
export const NOW_MS = new Date(2026, 10, 2, 14, 15, 9).getTime()

/** A project with an imported corpus and nothing after it. */
export function importedOnly(): PipelineFacts {
  return {
    corpus: makeCorpusTotals({ documents: 3, chunks: 40, activeChunks: 38, activeTokens: 19_000 }),
    comprehension: makeComprehensionTotals(),
    dataset: null,
    runs: [],
    evaluation: null,
    exports: [],
  }
}

/** A project where every step is done for run-12. */
export function allDone(): PipelineFacts {
  return {
    ...importedOnly(),
    comprehension: makeComprehensionTotals({ rcChunks: 30, rcTasks: 95, acceptedPairs: 40 }),
    dataset: makeDataset(),
    runs: [makeRun()],
    evaluation: makeReport(),
    exports: [makeExport()],
  }
}

export function makePipeline(overrides: Partial<PipelineInfo> = {}): PipelineInfo {
  return {
    id: 1,
    state: 'running',
    position: 0,
    steps: [
      { kind: 'comprehend', label: 'Mine reading comprehension', jobId: '7', state: 'running' },
      { kind: 'dataset', label: 'Build the dataset (2048-token sequences)', jobId: null, state: 'pending' },
      { kind: 'train', label: 'Train MoRA rank 8 on qwen.gguf', jobId: null, state: 'pending' },
    ],
    error: null,
    createdAtMs: 1_000,
    updatedAtMs: 1_000,
    ...overrides,
  }
}

/** `getJob` answering the stored result of each job in `results` (by id); null for any other job. */
export function jobResults(results: Record<string, unknown> = {}): Pick<Api, 'getJob'> {
  return { getJob: vi.fn<Api['getJob']>(async ({ jobId }) => makeDetail(makeJob({ id: jobId, state: 'succeeded' }), results[jobId] ?? null)) }
}

/** The fake API answering with `facts` and the given chain (its jobs with no stored result); `methods` replace any call. */
export function factsClient(facts: PipelineFacts, methods: Partial<Api> = {}, pipeline: PipelineInfo | null = null) {
  const calls = {
    getCurrentProject: vi.fn<Api['getCurrentProject']>(async () => makeProject({ corpus: facts.corpus, comprehension: facts.comprehension })),
    getComprehensionTotals: vi.fn<Api['getComprehensionTotals']>(async () => facts.comprehension ?? makeComprehensionTotals()),
    getDataset: vi.fn<Api['getDataset']>(async () => facts.dataset),
    listRuns: vi.fn<Api['listRuns']>(async () => [...facts.runs]),
    getEvaluation: vi.fn<Api['getEvaluation']>(async () => facts.evaluation),
    listExports: vi.fn<Api['listExports']>(async () => [...facts.exports]),
    getPipeline: vi.fn<Api['getPipeline']>(async () => pipeline),
    listJobs: vi.fn<Api['listJobs']>(async () => []),
    ...jobResults(),
    ...methods,
  }
  return { ...fakeClient(calls), calls }
}

/** Renders the panel over `factsClient`. */
export function renderPanel(facts: PipelineFacts, methods: Partial<Api> = {}, pipeline: PipelineInfo | null = null, options: { canBrowse?: boolean } = {}) {
  const fake = factsClient(facts, methods, pipeline)
  const state = new PipelineState(fake.client)
  const onOpenStep = vi.fn<(screen: StepId) => void>()
  const view = render(PipelinePanel, { pipeline: state, projectName: 'Contracts', canBrowse: options.canBrowse ?? true, onOpenStep, now: () => NOW_MS })
  return { ...fake, state, onOpenStep, view }
}
