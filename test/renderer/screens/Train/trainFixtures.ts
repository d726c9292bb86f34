import { render } from '@testing-library/svelte'
import { vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import type { TrainRunInfo } from '../../../../src-main/shared/types/export'
import type { JobDetail, JobSummary } from '../../../../src-main/shared/types/jobs'
import type { TrainParamsInput, TrainStepMetrics } from '../../../../src-main/shared/types/train'
import type { TrainPlanInfo } from '../../../../src-main/shared/types/trainPlan'
import TrainWizard from '../../../../src-renderer/src/screens/Train/TrainWizard.svelte'
import { TrainState } from '../../../../src-renderer/src/state/train.svelte'
import { fakeClient } from '../../support/fakeClient'
import { makeJob } from '../../support/fixtures'

const GiB = 2 ** 30

/** What the fit planner answers, scaled by the batch and sequence length so a test can see the estimate follow edits. */
export function planFor(params: TrainParamsInput, overrides: Partial<TrainPlanInfo> = {}): TrainPlanInfo {
  const activations = (params.batch ?? 1) * (params.seqLen ?? 256) * 2 ** 20
  const breakdown = { baseWeights: 2 * GiB, adapterAndOptimizer: 64 * 2 ** 20, activations, logits: activations / 2, workspace: 256 * 2 ** 20 }
  const estimateBytes = Object.values(breakdown).reduce((a, b) => a + b, 0)
  const availableBytes = 8 * GiB
  return {
    fits: estimateBytes <= availableBytes,
    estimateBytes,
    breakdown,
    availableBytes,
    availableKnown: true,
    message: '',
    suggestion: estimateBytes <= availableBytes ? null : 'Lower the batch to 1 (about 3.00 GiB).',
    suggestedShape: null,
    trainableParameters: 1_234_567,
    adapterSites: 168,
    architecture: 'qwen2',
    modelName: 'qwen2.5-0.5b',
    sequences: 40,
    stepsPerEpoch: 40,
    totalSteps: params.steps ?? 40,
    dataProblem: null,
    moraType: 6,
    lr: 3e-4,
    ...overrides,
  }
}

export function makeTrainJob(overrides: Partial<JobSummary> = {}): JobSummary {
  return makeJob({ id: '7', kind: 'train', label: 'Train MoRA r8', resumable: true, ...overrides })
}

export function makeTrainRun(overrides: Partial<TrainRunInfo> = {}): TrainRunInfo {
  return {
    runId: 'run-7',
    jobId: '7',
    state: 'interrupted',
    method: 'mora',
    rank: 8,
    base: '/models/qwen2.5-0.5b.gguf',
    steps: null,
    finalLoss: null,
    createdAtMs: 1_000,
    finishedAtMs: 2_000,
    adapterFile: null,
    ...overrides,
  }
}

export function stepMetrics(step: number, loss = 3 - step * 0.1): TrainStepMetrics {
  return { step, totalSteps: 20, loss, lr: 3e-4, gradNorm: 1.5, tokensPerSecond: 900, tokens: 256, epoch: step / 20, elapsedMs: step * 1000 }
}

export function detailOf(job: JobSummary): JobDetail {
  return { ...job, params: {}, result: null, logs: [] }
}

export function renderWizard(methods: Partial<Api> = {}, options: { canBrowse?: boolean } = {}) {
  const calls = {
    listRuns: vi.fn<Api['listRuns']>(async () => []),
    planTraining: vi.fn<Api['planTraining']>(async (params) => planFor(params)),
    getRunMetrics: vi.fn<Api['getRunMetrics']>(async () => []),
    listCheckpoints: vi.fn<Api['listCheckpoints']>(async () => []),
    ...methods,
  }
  const fake = fakeClient(calls)
  const trainer = new TrainState(fake.client, { planDebounceMs: 150 })
  render(TrainWizard, { trainer, canBrowse: options.canBrowse ?? true })
  return { ...fake, trainer, calls }
}
