import { render } from '@testing-library/svelte'
import { vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import type { ExportInfo, ExportVerification, TrainRunInfo } from '../../../../src-main/shared/types/export'
import type { JobSummary } from '../../../../src-main/shared/types/jobs'
import ExportWizard from '../../../../src-renderer/src/screens/Export/ExportWizard.svelte'
import { ExportState } from '../../../../src-renderer/src/state/export.svelte'
import { fakeClient } from '../../support/fakeClient'
import { makeJob } from '../../support/fixtures'

export function makeRun(overrides: Partial<TrainRunInfo> = {}): TrainRunInfo {
  return {
    runId: 'run-12',
    jobId: '12',
    state: 'succeeded',
    method: 'mora',
    rank: 8,
    base: '/models/qwen2.5-0.5b.gguf',
    steps: 200,
    finalLoss: 1.2346,
    createdAtMs: 1_000,
    finishedAtMs: 2_000,
    adapterFile: '/home/me/contracts/runs/run-12/adapter.safetensors',
    ...overrides,
  }
}

export const SHA_GGUF = 'a'.repeat(64)

export function makeVerification(overrides: Partial<ExportVerification> = {}): ExportVerification {
  return {
    passed: true,
    checks: [
      { name: 'Reloads in llama.cpp', passed: true, detail: '24 tensors, 151936 tokens' },
      { name: 'Matches the trained model', passed: true, detail: 'mean KL 4.20e-5 ≤ 1.00e-3' },
      { name: 'Differs from the base', passed: true, detail: 'mean KL to base 0.0312' },
    ],
    distributions: { positions: 256, meanKl: 0.000042, maxKl: 0.0009, top1Agreement: 0.992, meanKlToBase: 0.0312, adapterEffect: 0.0298, tolerance: 0.001 },
    tensors: { tensors: 24, maxAbsDiff: 0.00049, changedFromBase: 14 },
    elapsedMs: 3_400,
    ...overrides,
  }
}

export function makeExport(overrides: Partial<ExportInfo> = {}): ExportInfo {
  return {
    id: 1,
    jobId: '20',
    runId: 'run-12',
    format: 'gguf',
    type: 'q8_0',
    path: '/home/me/models/run-12-q8_0.gguf',
    status: 'verified',
    files: [{ name: 'run-12-q8_0.gguf', bytes: 530 * 1024 ** 2, sha256: SHA_GGUF }],
    verification: makeVerification(),
    error: null,
    createdAtMs: 3_000,
    finishedAtMs: 4_000,
    ...overrides,
  }
}

export function makeExportJob(overrides: Partial<JobSummary> = {}): JobSummary {
  return makeJob({ id: '20', kind: 'export', label: 'Export run-12 as gguf Q8_0', ...overrides })
}

/** Renders the wizard on a fake client with one finished run, no exports and no jobs; `methods` replace any call. */
export function renderWizard(methods: Partial<Api> = {}, options: { canBrowse?: boolean } = {}) {
  const calls = {
    listRuns: vi.fn<Api['listRuns']>(async () => [makeRun()]),
    listExports: vi.fn<Api['listExports']>(async () => []),
    listJobs: vi.fn<Api['listJobs']>(async () => []),
    ...methods,
  }
  const fake = fakeClient(calls)
  const exporter = new ExportState(fake.client)
  render(ExportWizard, { exporter, canBrowse: options.canBrowse ?? true })
  return { ...fake, exporter, calls }
}
