import type { ChunkDetail, ChunkInfo, CorpusFileInfo, DocumentInfo, ImportSummary } from '../../../src-main/shared/types/corpus'
import type { JobDetail, JobSummary } from '../../../src-main/shared/types/jobs'
import { makeCorpusTotals, makeJob } from './fixtures'

export const makeTotals = makeCorpusTotals

export function makeImportJob(overrides: Partial<JobSummary> = {}): JobSummary {
  return makeJob({ id: '5', kind: 'import', label: 'Import docs', ...overrides })
}

export function makeSummary(overrides: Partial<ImportSummary> = {}): ImportSummary {
  return {
    files: { seen: 6, added: 4, updated: 0, unchanged: 0, empty: 0, failed: 1, skipped: 1 },
    documents: 4,
    duplicateDocuments: 0,
    chunks: 9,
    tokens: 2345,
    exactDuplicateChunks: 1,
    nearDuplicateChunks: 2,
    failed: [{ path: '/docs/broken.pdf', reason: 'Not a PDF file: no %PDF header' }],
    moreFailed: 0,
    skipped: [{ path: '/docs/notes.xyz', reason: 'unsupported file type .xyz' }],
    moreSkipped: 0,
    warnings: [],
    moreWarnings: 0,
    settings: { chunkTokens: 512, overlapTokens: 64, nearDuplicateThreshold: 0.85, tokenizerModel: null },
    corpus: makeTotals({ files: { imported: 4, empty: 0, failed: 1, skipped: 1 }, documents: 4, chunks: 9, activeChunks: 6, activeTokens: 2345, exactDuplicateChunks: 1, nearDuplicateChunks: 2 }),
    ...overrides,
  }
}

export function makeImportDetail(job: JobSummary, result: unknown): JobDetail {
  return { ...job, params: {}, result, logs: [] }
}

export function makeFile(overrides: Partial<CorpusFileInfo> = {}): CorpusFileInfo {
  return {
    id: 1,
    path: '/docs/leases.txt',
    format: 'text',
    sizeBytes: 2048,
    status: 'imported',
    reason: null,
    warnings: [],
    documents: 1,
    chunks: 3,
    updatedAtMs: 1_000,
    ...overrides,
  }
}

export function makeDocument(overrides: Partial<DocumentInfo> = {}): DocumentInfo {
  return { id: 10, fileId: 1, path: '/docs/leases.txt', locator: '', title: null, charCount: 5000, tokenCount: 1200, duplicateOf: null, ...overrides }
}

export function makeChunk(overrides: Partial<ChunkInfo> = {}): ChunkInfo {
  return {
    id: 100,
    documentId: 10,
    ordinal: 0,
    charStart: 0,
    charEnd: 1200,
    tokenCount: 300,
    pageStart: null,
    pageEnd: null,
    section: null,
    duplicateOf: null,
    duplicateKind: null,
    similarity: null,
    keptByUser: false,
    preview: 'The lease begins on the first day…',
    ...overrides,
  }
}

export function makeChunkDetail(overrides: Partial<ChunkDetail> = {}): ChunkDetail {
  return {
    ...makeChunk(),
    text: 'The lease begins on the first day of the month.',
    document: makeDocument(),
    before: '',
    after: ' Rent is due in advance.',
    documentChunkCount: 3,
    ...overrides,
  }
}
