import type { HardwareReport } from '../../../src-main/shared/types/app'
import type { JobLogLine, JobSummary } from '../../../src-main/shared/types/jobs'
import type { ProjectSummary, RecentProject } from '../../../src-main/shared/types/project'
import type { CorpusTotals } from '../../../src-main/shared/types/corpus'
import type { LibraryModel, ModelFacts } from '../../../src-main/shared/types/models'

export function makeJob(overrides: Partial<JobSummary> = {}): JobSummary {
  return {
    id: '1',
    kind: 'demo',
    label: 'Demo job (40 steps)',
    state: 'queued',
    progress: { done: 0, total: 0, fraction: null, message: null, etaSeconds: null },
    createdAtMs: 1_000,
    startedAtMs: null,
    finishedAtMs: null,
    attempts: 0,
    resumable: false,
    cancelRequested: false,
    error: null,
    ...overrides,
  }
}

export function makeLogLine(message: string, level: JobLogLine['level'] = 'info'): JobLogLine {
  return { atMs: 1_000, level, message }
}

export function makeProject(overrides: Partial<ProjectSummary> = {}): ProjectSummary {
  return {
    dir: '/home/me/contracts',
    name: 'Contracts',
    dbPath: '/home/me/contracts/project.db',
    schemaVersion: 1,
    createdByVersion: '0.1.0',
    createdAtMs: 1_000,
    dbSizeBytes: 4096,
    jobCounts: { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, interrupted: 0 },
    corpus: makeCorpusTotals(),
    comprehension: null,
    ...overrides,
  }
}

export function makeCorpusTotals(overrides: Partial<CorpusTotals> = {}): CorpusTotals {
  return {
    files: { imported: 0, empty: 0, failed: 0, skipped: 0 },
    documents: 0,
    duplicateDocuments: 0,
    characters: 0,
    chunks: 0,
    activeChunks: 0,
    activeTokens: 0,
    exactDuplicateChunks: 0,
    nearDuplicateChunks: 0,
    ...overrides,
  }
}

export function makeRecent(overrides: Partial<RecentProject> = {}): RecentProject {
  return { dir: '/home/me/contracts', name: 'Contracts', lastOpenedAtMs: 1_000, available: true, ...overrides }
}

export function makeHardware(overrides: Partial<HardwareReport> = {}): HardwareReport {
  return {
    cpuModel: 'Test CPU 9000',
    logicalCores: 4,
    physicalCores: 4,
    autoThreads: 3,
    effectiveThreads: 3,
    totalMemoryBytes: 16 * 1024 ** 3,
    freeMemoryBytes: 8 * 1024 ** 3,
    platform: 'linux',
    arch: 'x64',
    osRelease: '6.1.0',
    accelerators: [],
    acceleratorNote: 'GPU probing comes later.',
    executionProviders: [{ provider: 'cpu', available: true, reason: null, missingLibraries: [] }],
    computePaths: [
      { runtime: 'llama.cpp', backend: 'cpu', label: 'CPU', available: true, reason: null, install: null, missingLibraries: [], devices: [] },
      { runtime: 'onnxruntime', backend: 'cpu', label: 'CPU', available: true, reason: null, install: null, missingLibraries: [], devices: [] },
    ],
    stages: [
      { stage: 'generation', runtime: 'llama.cpp', backend: 'cpu', device: 'CPU' },
      { stage: 'embedding', runtime: 'llama.cpp', backend: 'cpu', device: 'CPU' },
      { stage: 'training', runtime: 'onnxruntime', backend: 'cpu', device: 'CPU' },
    ],
    summary: 'CPU only: no GPU path was probed.',
    ...overrides,
  }
}

/** A usable GGUF generator/base in the model library (Qwen2.5-0.5B-like facts). */
export function makeLibraryModel(overrides: Partial<LibraryModel> = {}, facts: Partial<ModelFacts> = {}): LibraryModel {
  return {
    id: 'model-1',
    path: '/models/qwen.gguf',
    roles: ['generator', 'base'],
    addedAtMs: 1,
    status: 'ok',
    problem: null,
    recommendedId: null,
    facts: {
      format: 'gguf',
      architecture: 'qwen2',
      displayName: 'Qwen2.5 0.5B Instruct',
      sizeBytes: 531_000_000,
      parameterCount: 494_000_000,
      quantization: 'Q8_0',
      contextLength: 32768,
      chatTemplate: null,
      llamaCppUsable: true,
      trainable: true,
      notes: [],
      suggestedRoles: ['generator', 'base'],
      ...facts,
    },
    ...overrides,
  }
}
