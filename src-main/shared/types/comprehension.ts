import { z } from 'zod'

/** Plain data about reading-comprehension data that crosses the API: job parameters, QA pairs, clusters, datasets. */

export const QA_REJECT_REASONS = ['empty', 'copied_question', 'not_grounded', 'too_long', 'duplicate', 'broken_text', 'user'] as const
export type QaRejectReason = (typeof QA_REJECT_REASONS)[number]

export const QA_GENERATION_STATUSES = ['ok', 'unparsable', 'timeout', 'error'] as const
export type QaGenerationStatus = (typeof QA_GENERATION_STATUSES)[number]

const modelPath = z.string().trim().min(1).max(4096)

/** Thresholds of the answer checks; unset ones keep the defaults. */
export const qaFilterSettingsSchema = z
  .object({
    /** Share of the answer's content words that must occur in the chunk (0 turns the check off). */
    minGrounding: z.number().min(0).max(1).optional(),
    /** Also the grammar's length caps; llama.cpp refuses grammars with much longer strings. */
    maxQuestionChars: z.number().int().min(10).max(1500).optional(),
    maxAnswerChars: z.number().int().min(10).max(1500).optional(),
  })
  .strict()
export type QaFilterSettings = z.output<typeof qaFilterSettingsSchema>

/**
 * `comprehend`: AdaptLLM regex mining (no model) or LLM question generation over the active chunks. A rerun goes on
 * where the last one stopped; `retryFailed` also redoes chunks whose generation timed out or failed.
 */
export const comprehendParamsSchema = z
  .object({
    mode: z.enum(['regex', 'llm']),
    /** Local instruct GGUF (llm mode, unless an endpoint is given). */
    generator: modelPath.nullable().default(null),
    /** OpenAI-compatible server, e.g. http://gpu-box:8080 (llama.cpp server, vLLM, Ollama). */
    endpoint: z.url({ protocol: /^https?$/ }).nullable().default(null),
    /** Model name sent to the endpoint. */
    endpointModel: z.string().min(1).max(400).nullable().default(null),
    pairs: z.number().int().min(1).max(20).default(3),
    temperature: z.number().min(0).max(2).default(0.7),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    /** What the corpus is about, for the prompt ("contract law", "cardiology"). */
    domain: z.string().trim().min(1).max(200).nullable().default(null),
    /** Chunks processed by this run at most. */
    limit: z.number().int().min(1).nullable().default(null),
    /** Seconds one generation may take before it is cut off and recorded as timed out. */
    timeoutSeconds: z.number().int().min(1).max(3600).default(120),
    /** Parallel llama.cpp contexts (one thread each); null sizes them to the machine. */
    contexts: z.number().int().min(1).max(64).nullable().default(null),
    retryFailed: z.boolean().default(false),
    /** Only printable ASCII in generated text: for English corpora, and keeps weak (or random test) models parseable. */
    asciiOnly: z.boolean().default(false),
    /** Run on this many chunks and return the results without storing anything. */
    preview: z.number().int().min(1).max(50).nullable().default(null),
    filters: qaFilterSettingsSchema.default({}),
  })
  .strict()
  .refine((p) => p.mode === 'regex' || p.generator !== null || p.endpoint !== null, {
    message: 'llm mode needs a generator model (.gguf) or an endpoint',
    path: ['generator'],
  })
export type ComprehendParams = z.output<typeof comprehendParamsSchema>
export type ComprehendParamsInput = z.input<typeof comprehendParamsSchema>

/** `cluster`: embed the active chunks, then grow ETRC clusters (and optionally a k-means view for browsing). */
export const clusterParamsSchema = z
  .object({
    /** Embedding GGUF; null reuses the embeddings already stored. */
    embedder: modelPath.nullable().default(null),
    threshold: z.number().gt(-1).lt(1).default(0.7),
    maxDocs: z.number().int().min(1).max(1000).default(8),
    maxTokens: z.number().int().min(16).max(1_000_000).default(2048),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    /** Also compute a k-means view with this many clusters. */
    kMeans: z.number().int().min(2).max(10_000).nullable().default(null),
    contexts: z.number().int().min(1).max(64).nullable().default(null),
  })
  .strict()
export type ClusterParams = z.output<typeof clusterParamsSchema>
export type ClusterParamsInput = z.input<typeof clusterParamsSchema>

export const DATASET_MODES = ['regex', 'llm', 'both'] as const
export type DatasetMode = (typeof DATASET_MODES)[number]

/** `dataset`: pack the comprehension texts (and general instructions) into the project's training set. */
export const datasetParamsSchema = z
  .object({
    /** null: every kind of comprehension data the project has. */
    mode: z.enum(DATASET_MODES).nullable().default(null),
    /** General instruction JSONL mixed in. */
    mix: modelPath.nullable().default(null),
    /** domain:general by tokens. */
    ratio: z.string().regex(/^\s*\d+(\.\d+)?\s*:\s*\d+(\.\d+)?\s*$/, 'a ratio like 1:1 or 1:2').default('1:1'),
    seqLen: z.number().int().min(32).max(131_072).default(2048),
    heldout: z.number().min(0).max(0.5).default(0.05),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    /** Model whose tokenizer sizes the sequences; null uses the corpus's (or the estimate). */
    tokenizer: modelPath.nullable().default(null),
    /** Also export the dataset to this JSONL file. */
    out: modelPath.nullable().default(null),
    format: z.enum(['text', 'chat']).default('text'),
  })
  .strict()
export type DatasetParams = z.output<typeof datasetParamsSchema>
export type DatasetParamsInput = z.input<typeof datasetParamsSchema>

export interface QaPairInfo {
  id: number
  chunkId: number
  documentId: number
  question: string
  answer: string
  status: 'accepted' | 'rejected'
  rejectReason: QaRejectReason | null
  rejectDetail: string | null
  decidedBy: 'filter' | 'user'
  edited: boolean
}

/** One chunk's outcome in a run (or a preview). */
export interface QaChunkOutcome {
  chunkId: number
  status: QaGenerationStatus
  error: string | null
  pairs: { question: string; answer: string; rejectReason: QaRejectReason | null; rejectDetail: string | null }[]
  outputTokens: number
  elapsedMs: number
}

export interface ComprehensionTotals {
  /** Chunks with a mined RC text. */
  rcChunks: number
  rcTasks: number
  /** Chunks with a recorded generation, by outcome. */
  generations: Record<QaGenerationStatus, number>
  acceptedPairs: number
  rejectedPairs: number
  rejectedByReason: Partial<Record<QaRejectReason, number>>
  embeddedChunks: number
  embedder: string | null
  /** The latest extend-clustering run, if any. */
  clusters: { runId: number; clusters: number; members: number; multiMember: number } | null
  activeChunks: number
}

export interface ComprehendSummary {
  mode: 'regex' | 'llm'
  /** Chunks handled by this run. */
  processed: number
  /** Active chunks still without data of this mode. */
  remaining: number
  /** RC tasks mined (regex) or pairs accepted (llm) in this run. */
  produced: number
  rejected: number
  rejectedByReason: Partial<Record<QaRejectReason, number>>
  failed: Partial<Record<Exclude<QaGenerationStatus, 'ok'>, number>>
  outputTokens: number
  tokensPerSecond: number | null
  /** Set for a preview: the chunks' results, nothing stored. */
  preview: QaChunkOutcome[] | null
  /** Set for a regex-mode preview: the mined texts, nothing stored. */
  rcPreview: { chunkId: number; text: string; taskCount: number }[] | null
  totals: ComprehensionTotals
}

export interface ClusterSummary {
  embedded: number
  reusedEmbeddings: number
  runId: number
  clusters: number
  multiMemberClusters: number
  largestCluster: number
  kMeansRunId: number | null
  seconds: { embed: number; cluster: number }
}

export interface DatasetSummary {
  dir: string
  sequences: number
  seqLen: number
  tokens: { regex: number; llm: number; instructions: number; total: number }
  items: { regex: number; llm: number; instructions: number }
  /** Achieved domain:general token ratio, e.g. 1.02 for 1:1. */
  achievedRatio: number | null
  heldOut: { documents: number; tokens: number; qaPairs: number }
  fillRatio: number
  tokenizer: string
  exported: string | null
}

export interface ClusterRunInfo {
  id: number
  kind: 'extend' | 'kmeans'
  embedder: string
  clusters: number
  members: number
  createdAtMs: number
}

export interface ClusterInfo {
  cluster: number
  size: number
  tokens: number
  /** A few distinctive words, for a label. */
  terms: string[]
  /** The first members (seed first), with a preview of their text. */
  members: { chunkId: number; documentId: number; similarity: number; title: string | null; preview: string }[]
}
