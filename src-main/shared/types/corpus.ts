import { z } from 'zod'

/** Plain data about the corpus that crosses the API: totals, import results, documents and chunks. */

export const CORPUS_FILE_STATUSES = ['imported', 'empty', 'failed', 'skipped'] as const
export type CorpusFileStatus = (typeof CORPUS_FILE_STATUSES)[number]

/** Corpus figures for `lectern status` and the Import screen. */
export interface CorpusTotals {
  /** Source files by outcome (archives themselves are not counted, their members are). */
  files: Record<CorpusFileStatus, number>
  documents: number
  duplicateDocuments: number
  characters: number
  chunks: number
  /** Chunks that are not duplicates (or were restored): what later steps use. */
  activeChunks: number
  activeTokens: number
  exactDuplicateChunks: number
  nearDuplicateChunks: number
}

export interface FileProblem {
  path: string
  reason: string
}

/** What an import, or part of one, added to the corpus. */
export interface CorpusWriteCounts {
  documents: number
  duplicateDocuments: number
  chunks: number
  tokens: number
  exactDuplicateChunks: number
  nearDuplicateChunks: number
}

/** The result of one import run; the counts are what this run added. */
export interface ImportSummary extends CorpusWriteCounts {
  files: {
    /** Files (and archive members) the walk found. */
    seen: number
    added: number
    updated: number
    unchanged: number
    empty: number
    failed: number
    skipped: number
  }
  /** The first problems of the run (the project keeps all of them); `more…` counts the rest. */
  failed: FileProblem[]
  moreFailed: number
  skipped: FileProblem[]
  moreSkipped: number
  warnings: FileProblem[]
  moreWarnings: number
  settings: CorpusSettings
  corpus: CorpusTotals
}

/** How the corpus is chunked and deduplicated; stored with the project and changed by an import that says so. */
export interface CorpusSettings {
  chunkTokens: number
  overlapTokens: number
  nearDuplicateThreshold: number
  /** Model whose tokenizer counts tokens, or null for the built-in estimate. */
  tokenizerModel: string | null
}

export const DEFAULT_CORPUS_SETTINGS: CorpusSettings = {
  chunkTokens: 512,
  overlapTokens: 64,
  nearDuplicateThreshold: 0.85,
  tokenizerModel: null,
}

/** Parameters of an import job. Unset chunking settings keep the project's (or the defaults). */
export const importParamsSchema = z
  .object({
    /** Files and folders (recursively; .zip archives are opened). */
    paths: z.array(z.string().trim().min(1).max(4096)).min(1, 'choose at least one file or folder').max(10_000),
    chunkTokens: z.number().int().min(16).max(32_768).optional(),
    overlapTokens: z.number().int().min(0).max(32_767).optional(),
    nearDuplicateThreshold: z.number().gt(0).lt(1).optional(),
    /** A .gguf file or Hugging Face folder whose tokenizer counts tokens; null switches back to the estimate. */
    tokenizerModel: z.string().min(1).max(4096).nullable().optional(),
    /** JSONL field or CSV column holding the text. */
    textField: z.string().min(1).max(200).optional(),
    /** Largest file read, in MiB. */
    maxFileMiB: z.number().int().min(1).max(65_536).optional(),
  })
  .strict()
  .refine((p) => p.overlapTokens === undefined || p.chunkTokens === undefined || p.overlapTokens < p.chunkTokens, {
    message: 'overlap must be smaller than the chunk size',
    path: ['overlapTokens'],
  })
export type ImportParams = z.output<typeof importParamsSchema>
export type ImportParamsInput = z.input<typeof importParamsSchema>

/** A source file as the Import screen lists it. */
export interface CorpusFileInfo {
  id: number
  /** Absolute path, or `archive.zip!/member` for archive members. */
  path: string
  format: string | null
  sizeBytes: number
  status: CorpusFileStatus | 'importing'
  /** Why the file failed, was skipped, or is empty. */
  reason: string | null
  warnings: string[]
  documents: number
  /** Chunks in use (not duplicates). */
  chunks: number
  updatedAtMs: number
}

export interface CorpusFilePage {
  total: number
  files: CorpusFileInfo[]
}

/** A chunk in a list: where it is, without its text. */
export interface ChunkInfo {
  id: number
  documentId: number
  ordinal: number
  /** UTF-16 offsets into the document's cleaned text, end exclusive. */
  charStart: number
  charEnd: number
  tokenCount: number
  pageStart: number | null
  pageEnd: number | null
  section: string | null
  duplicateOf: number | null
  duplicateKind: 'exact' | 'near' | null
  similarity: number | null
  keptByUser: boolean
  /** The first characters of the chunk. */
  preview: string
}

export interface DocumentInfo {
  id: number
  fileId: number
  path: string
  /** Where in the file: '' for the whole file, `line 12` (JSONL), `row 5` (CSV). */
  locator: string
  title: string | null
  charCount: number
  tokenCount: number
  duplicateOf: number | null
}

/** One chunk with its text, its source location and a little of the text around it. */
export interface ChunkDetail extends ChunkInfo {
  text: string
  document: DocumentInfo
  /** Up to 300 characters of the cleaned document before and after the chunk. */
  before: string
  after: string
  /** Chunks of the same document, for stepping through it. */
  documentChunkCount: number
}

export interface ChunkPage {
  total: number
  chunks: ChunkInfo[]
}
