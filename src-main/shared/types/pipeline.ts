import { z } from 'zod'
import { jobRequestSchema, type JobKind, type JobState } from './jobs.js'

/** "Run all remaining steps": job requests run one after another; the next starts when the previous succeeded. */
export const pipelineRequestSchema = z
  .object({
    steps: z.array(jobRequestSchema).min(1).max(12),
  })
  .strict()
export type PipelineRequest = z.input<typeof pipelineRequestSchema>

export const PIPELINE_STATES = ['running', 'succeeded', 'stopped', 'cancelled'] as const
/** `stopped`: a step failed or was cancelled; continuing resumes that step and goes on from there. */
export type PipelineState = (typeof PIPELINE_STATES)[number]

export interface PipelineStepInfo {
  kind: JobKind
  label: string
  /** Null until the step's job is started. */
  jobId: string | null
  state: JobState | 'pending'
}

export interface PipelineInfo {
  id: number
  state: PipelineState
  /** Index of the step running (or that stopped the pipeline); equals the step count when all succeeded. */
  position: number
  steps: PipelineStepInfo[]
  error: string | null
  createdAtMs: number
  updatedAtMs: number
}
