import { render } from '@testing-library/svelte'
import { vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import type { ChunkDetail } from '../../../../src-main/shared/types/corpus'
import type { EvalQuestion, EvalReport } from '../../../../src-main/shared/types/export'
import type { JobSummary } from '../../../../src-main/shared/types/jobs'
import EvaluateWizard from '../../../../src-renderer/src/screens/Evaluate/EvaluateWizard.svelte'
import { EvaluateState } from '../../../../src-renderer/src/state/evaluate.svelte'
import { fakeClient } from '../../support/fakeClient'
import { makeJob } from '../../support/fixtures'
import { makeRun } from '../Export/exportFixtures'

export function makeQuestion(overrides: Partial<EvalQuestion> = {}): EvalQuestion {
  return {
    question: 'How many days’ notice must the tenant give?',
    reference: 'Thirty days.',
    documentId: 10,
    chunkId: 100,
    base: { correct: false, prediction: 'Two weeks.', f1: 0, referenceNll: 2.345 },
    adapted: { correct: true, prediction: 'Thirty days.', f1: 1, referenceNll: 0.512 },
    ...overrides,
  }
}

/** Three questions: improved (source chunk 100), regressed (no chunk recorded), both wrong (chunk 300). */
export function makeReport(overrides: Partial<EvalReport> = {}): EvalReport {
  return {
    runId: 'run-12',
    jobId: '30',
    createdAtMs: 5_000,
    type: 'f16',
    contextSize: 1024,
    base: { heldOutPerplexity: 12.5, heldOutTokens: 4000, generalPerplexity: 9.8, generalTokens: 2000, qaAccuracy: 0.4, qaExactMatch: 0.1, qaF1: 0.35 },
    adapted: { heldOutPerplexity: 10, heldOutTokens: 4000, generalPerplexity: 10.29, generalTokens: 2000, qaAccuracy: 0.55, qaExactMatch: 0.1, qaF1: null },
    heldOutTexts: 2,
    questions: [
      makeQuestion(),
      makeQuestion({
        question: 'Who pays for repairs?',
        reference: 'The landlord.',
        chunkId: null,
        base: { correct: true, prediction: 'The landlord.', f1: 1, referenceNll: 0.8 },
        adapted: { correct: false, prediction: 'The tenant.', f1: 0, referenceNll: 1.9 },
      }),
      makeQuestion({
        question: 'When is rent due?',
        reference: 'On the first of the month.',
        chunkId: 300,
        base: { correct: false, prediction: null, f1: null, referenceNll: 3.1 },
        adapted: { correct: false, prediction: null, f1: null, referenceNll: 2.9 },
      }),
    ],
    notes: ['Only 3 held-out questions: generate more QA pairs for a firmer figure.'],
    baseModel: '/home/me/contracts/runs/run-12/eval/base-f16.gguf',
    adaptedModel: '/home/me/contracts/runs/run-12/eval/adapted-f16.gguf',
    ...overrides,
  }
}

export function makeChunkDetail(overrides: Partial<ChunkDetail> = {}): ChunkDetail {
  return {
    id: 100,
    documentId: 10,
    ordinal: 2,
    charStart: 1200,
    charEnd: 2400,
    tokenCount: 300,
    pageStart: 3,
    pageEnd: 4,
    section: 'Termination',
    duplicateOf: null,
    duplicateKind: null,
    similarity: null,
    keptByUser: false,
    preview: 'The tenant may end the lease…',
    text: 'The tenant may end the lease by giving thirty days’ written notice.',
    document: { id: 10, fileId: 1, path: '/docs/lease.pdf', locator: '', title: 'Lease', charCount: 9000, tokenCount: 2200, duplicateOf: null },
    before: '',
    after: '',
    documentChunkCount: 8,
    ...overrides,
  }
}

export function makeEvalJob(overrides: Partial<JobSummary> = {}): JobSummary {
  return makeJob({ id: '30', kind: 'eval', label: 'Evaluate run-12 against its base (F16)', ...overrides })
}

/** Renders the wizard on a fake client with one finished run, not evaluated, and no jobs; `methods` replace any call. */
export function renderWizard(methods: Partial<Api> = {}) {
  const calls = {
    listRuns: vi.fn<Api['listRuns']>(async () => [makeRun()]),
    listJobs: vi.fn<Api['listJobs']>(async () => []),
    getEvaluation: vi.fn<Api['getEvaluation']>(async () => null),
    ...methods,
  }
  const fake = fakeClient(calls)
  const evaluation = new EvaluateState(fake.client)
  render(EvaluateWizard, { evaluation })
  return { ...fake, evaluation, calls }
}
