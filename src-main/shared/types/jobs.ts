import { z } from 'zod'
import { clusterParamsSchema, comprehendParamsSchema, datasetParamsSchema } from './comprehension.js'
import { importParamsSchema } from './corpus.js'
import { evalParamsSchema, exportParamsSchema } from './export.js'
import { trainParamsSchema } from './train.js'

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const
export type JobState = (typeof JOB_STATES)[number]

/** States from which `resumeJob` continues a job from its last checkpoint. */
export const RESUMABLE_STATES: readonly JobState[] = ['interrupted', 'cancelled', 'failed']
export const FINISHED_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'interrupted']

export function isResumable(state: JobState): boolean {
  return RESUMABLE_STATES.includes(state)
}

/**
 * Parameters of each job kind, validated at the boundary before a job is stored. Later issues add kinds
 * (import, generate, train, export); a kind is a schema here plus a handler in core/jobs/handlers.
 */
export const jobParamSchemas = {
  demo: z
    .object({
      /** Number of steps; each step does real hashing work in the worker and saves a checkpoint. */
      steps: z.number().int().min(1).max(1_000_000).default(50),
      /** CPU time spent per step in the worker. */
      stepMs: z.number().int().min(0).max(60_000).default(100),
    })
    .strict(),
  train: trainParamsSchema,
  import: importParamsSchema,
  comprehend: comprehendParamsSchema,
  cluster: clusterParamsSchema,
  dataset: datasetParamsSchema,
  export: exportParamsSchema,
  eval: evalParamsSchema,
}

export type JobKind = keyof typeof jobParamSchemas
export const JOB_KINDS = Object.keys(jobParamSchemas) as JobKind[]
export type JobParams<K extends JobKind> = z.output<(typeof jobParamSchemas)[K]>

/** Human label of a job, shown in lists. */
export const jobLabels: { [K in JobKind]: (params: JobParams<K>) => string } = {
  demo: ({ steps }) => `Demo job (${steps} steps)`,
  import: ({ paths }) => `Import ${paths.length === 1 ? lastPathPart(paths[0] as string) : `${paths.length} paths`}`,
  train: ({ method, rank, base }) => `Train ${method === 'mora' ? 'MoRA' : 'LoRA'} rank ${rank} on ${lastPathPart(base)}`,
  comprehend: ({ mode, generator, endpoint, preview }) =>
    `${preview === null ? '' : 'Preview: '}${mode === 'regex' ? 'Mine reading comprehension' : `Generate questions with ${endpoint ?? lastPathPart(generator ?? '')}`}`,
  cluster: ({ embedder }) => (embedder === null ? 'Cluster the corpus' : `Embed and cluster with ${lastPathPart(embedder)}`),
  dataset: ({ seqLen, mix }) => `Build the dataset (${seqLen}-token sequences${mix === null ? '' : `, mixed with ${lastPathPart(mix)}`})`,
  export: ({ run, format, type }) => `Export ${run} as ${format}${type === null ? '' : ` ${type.toUpperCase()}`}`,
  eval: ({ run, type }) => `Evaluate ${run} against its base (${type.toUpperCase()})`,
}

function lastPathPart(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).at(-1) ?? path
}

export const jobRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('demo'), params: jobParamSchemas.demo.prefault({}) }).strict(),
  z.object({ kind: z.literal('train'), params: jobParamSchemas.train }).strict(),
  z.object({ kind: z.literal('import'), params: jobParamSchemas.import }).strict(),
  z.object({ kind: z.literal('comprehend'), params: jobParamSchemas.comprehend }).strict(),
  z.object({ kind: z.literal('cluster'), params: jobParamSchemas.cluster.prefault({}) }).strict(),
  z.object({ kind: z.literal('dataset'), params: jobParamSchemas.dataset.prefault({}) }).strict(),
  z.object({ kind: z.literal('export'), params: jobParamSchemas.export }).strict(),
  z.object({ kind: z.literal('eval'), params: jobParamSchemas.eval.prefault({}) }).strict(),
])
export type JobRequest = z.input<typeof jobRequestSchema>

export type LogLevel = 'info' | 'warn' | 'error'

export interface JobLogLine {
  atMs: number
  level: LogLevel
  message: string
}

export interface JobProgress {
  done: number
  total: number
  /** 0..1, or null while the total is unknown. */
  fraction: number | null
  message: string | null
  /** Estimated seconds left, or null while there is not enough history to say. */
  etaSeconds: number | null
}

export interface JobSummary {
  id: string
  kind: JobKind
  label: string
  state: JobState
  progress: JobProgress
  createdAtMs: number
  startedAtMs: number | null
  finishedAtMs: number | null
  /** How many times the job has been started (1 on the first run, +1 per resume). */
  attempts: number
  resumable: boolean
  cancelRequested: boolean
  error: { code: string; message: string; file?: string } | null
}

export interface JobDetail extends JobSummary {
  params: unknown
  result: unknown
  logs: JobLogLine[]
}
