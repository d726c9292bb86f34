import { z } from 'zod'

/** Plain data about trained runs, their exports and evaluations that crosses the API. */

export const EXPORT_FORMATS = ['gguf', 'safetensors', 'ollama', 'adapter', 'bundle'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** Weight types as the user names them (`--type`); GGUF takes all, a safetensors folder the float ones. */
export const EXPORT_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_k_m', 'q5_k_m'] as const
export type ExportType = (typeof EXPORT_TYPES)[number]
export const SAFETENSORS_EXPORT_TYPES: readonly ExportType[] = ['f32', 'f16', 'bf16']

/** The type an export gets when none is named. */
export const DEFAULT_EXPORT_TYPE: Readonly<Record<'gguf' | 'ollama' | 'safetensors', ExportType>> = { gguf: 'q8_0', ollama: 'q4_k_m', safetensors: 'bf16' }

export const CLUSTER_LAUNCHERS = ['accelerate-deepspeed', 'accelerate-fsdp', 'axolotl', 'llamafactory'] as const
export type ClusterLauncher = (typeof CLUSTER_LAUNCHERS)[number]

/** `latest` (the newest finished training run), a run id (`run-12`) or the training job's id (`12`). */
const runReference = z.string().trim().min(1).max(200).default('latest')

/**
 * `export`: a finished run's adapter merged into its base model and written in one format, then verified. `out`
 * is a file for `gguf`, a folder for every other format; it must not exist yet.
 */
export const exportParamsSchema = z
  .object({
    run: runReference,
    format: z.enum(EXPORT_FORMATS),
    /** Null: DEFAULT_EXPORT_TYPE of the format. Ignored by `adapter` and `bundle`. */
    type: z.enum(EXPORT_TYPES).nullable().default(null),
    out: z.string().trim().min(1).max(4096),
    /** `bundle` only; null: accelerate with DeepSpeed. */
    launcher: z.enum(CLUSTER_LAUNCHERS).nullable().default(null),
    /** The model's name in `general.name` and the Ollama Modelfile; null: derived from the base and the run. */
    name: z.string().trim().min(1).max(200).nullable().default(null),
    /** Held-out tokens whose next-token distributions are compared during verification. */
    verifyTokens: z.number().int().min(16).max(8192).default(256),
  })
  .strict()
  .refine((p) => p.type === null || p.format !== 'safetensors' || SAFETENSORS_EXPORT_TYPES.includes(p.type), {
    message: 'a safetensors export is f32, f16 or bf16',
    path: ['type'],
  })
  .refine((p) => p.launcher === null || p.format === 'bundle', { message: 'a launcher is chosen for a bundle export only', path: ['launcher'] })
export type ExportParams = z.output<typeof exportParamsSchema>
export type ExportParamsInput = z.input<typeof exportParamsSchema>

/**
 * `eval`: held-out perplexity, closed-book QA and a general-text regression check, base vs adapted, both read by
 * llama.cpp from GGUFs of the same type.
 */
export const evalParamsSchema = z
  .object({
    run: runReference,
    /** Type of the GGUFs the base and the adapted model are evaluated at. */
    type: z.enum(['f32', 'f16', 'bf16', 'q8_0']).default('f16'),
    contextSize: z.number().int().min(32).max(32_768).default(1024),
    /** At most this many held-out texts and questions (seeded sample when there are more). */
    maxTexts: z.number().int().min(1).max(100_000).default(200),
    maxQuestions: z.number().int().min(1).max(100_000).default(200),
    /** Also generate greedy answers and score them by exact match and F1. */
    generate: z.boolean().default(true),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  })
  .strict()
export type EvalParams = z.output<typeof evalParamsSchema>

/** A training job as a run the later steps can use. */
export interface TrainRunInfo {
  /** `run-<job id>`: the folder name under `runs/`. */
  runId: string
  jobId: string
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted'
  method: 'mora' | 'lora'
  rank: number
  base: string
  steps: number | null
  finalLoss: number | null
  createdAtMs: number
  finishedAtMs: number | null
  /** The trained adapter file; null until the run finished. */
  adapterFile: string | null
}

export interface ExportFileInfo {
  /** Relative to the export's path (a folder), or the file's own name for a single-file export. */
  name: string
  bytes: number
  sha256: string
}

export interface VerificationCheck {
  name: string
  passed: boolean
  detail: string
}

/** Next-token distributions of the exported model (llama.cpp) against the training engine's adapted forward. */
export interface DistributionComparison {
  positions: number
  /** Mean and largest KL(adapted ‖ exported), nats. */
  meanKl: number
  maxKl: number
  /** Share of positions whose most likely token is the same. */
  top1Agreement: number
  /** Mean KL(base ‖ exported): how far the export is from the model it was adapted from. */
  meanKlToBase: number
  /** Mean KL(adapted ‖ base) in the training engine: how much the adapter changes the model. */
  adapterEffect: number
  /** The largest mean KL accepted for this weight type. */
  tolerance: number
}

/** Tensors re-read from the written files against the merged weights. */
export interface TensorComparison {
  tensors: number
  /** Largest |written − expected| after rounding the expected value to the stored type. */
  maxAbsDiff: number
  /** Adapted tensors that differ from the base's. */
  changedFromBase: number
}

export interface ExportVerification {
  passed: boolean
  checks: VerificationCheck[]
  distributions: DistributionComparison | null
  tensors: TensorComparison | null
  elapsedMs: number
}

export const EXPORT_STATUSES = ['running', 'verified', 'failed', 'interrupted'] as const
export type ExportStatus = (typeof EXPORT_STATUSES)[number]

export interface ExportInfo {
  id: number
  jobId: string
  runId: string
  format: ExportFormat
  /** Weight type; null for an adapter or a bundle. */
  type: ExportType | null
  /** The final file or folder. Nothing is there unless the status is `verified` (or `failed` with kept files). */
  path: string
  /** `interrupted`: the job stopped (cancelled or killed) before the export finished; nothing was left behind. */
  status: ExportStatus
  files: ExportFileInfo[]
  verification: ExportVerification | null
  error: string | null
  createdAtMs: number
  finishedAtMs: number | null
}

/** What a finished export job returns. */
export type ExportResult = ExportInfo

export interface EvalModelMetrics {
  /** Held-out passages of the project's dataset. */
  heldOutPerplexity: number | null
  heldOutTokens: number
  /** Generic text shipped with Lectern: a large rise means the adaptation costs general ability. */
  generalPerplexity: number | null
  generalTokens: number
  /** Closed-book QA on held-out generated questions: the reference ranked first among distractors. */
  qaAccuracy: number | null
  qaExactMatch: number | null
  qaF1: number | null
}

export interface EvalQuestionAnswer {
  correct: boolean
  prediction: string | null
  f1: number | null
  /** Mean NLL of the reference answer. */
  referenceNll: number
}

export interface EvalQuestion {
  question: string
  reference: string
  documentId: number
  /** The chunk the question was generated from, when the dataset recorded it. */
  chunkId: number | null
  base: EvalQuestionAnswer
  adapted: EvalQuestionAnswer
}

export interface EvalReport {
  runId: string
  jobId: string
  createdAtMs: number
  /** Weight type the two GGUFs were evaluated at. */
  type: string
  contextSize: number
  base: EvalModelMetrics
  adapted: EvalModelMetrics
  heldOutTexts: number
  questions: EvalQuestion[]
  /** Notes such as "no held-out questions: generate QA pairs and rebuild the dataset". */
  notes: string[]
  /** The GGUFs evaluated, kept for side-by-side chat. */
  baseModel: string
  adaptedModel: string
}

export interface ChatReply {
  text: string
  tokens: number
  elapsedMs: number
}
