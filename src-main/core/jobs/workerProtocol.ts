import type { SerializedError } from '../../shared/errors.js'
import type { ExecutionProviderProbe } from '../../shared/types/app.js'
import type { JobKind, LogLevel } from '../../shared/types/jobs.js'

/** Messages between the job queue (main thread) and a job worker thread. */
export type ToWorker =
  | {
      type: 'start'
      job: { id: string; kind: JobKind; params: unknown; checkpoint: unknown }
      projectDir: string
      threads: number
      /** The main thread has probed the execution providers, or is probing them: an `executionProviders` message follows. */
      executionProvidersFollow: boolean
    }
  /** The main thread's probes (null: its probing failed), for a job that would otherwise probe on its own. */
  | { type: 'executionProviders'; probes: ExecutionProviderProbe[] | null }
  | { type: 'cancel' }

export type FromWorker =
  | { type: 'progress'; done: number; total: number; message: string | null }
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'checkpoint'; checkpoint: unknown }
  | { type: 'metrics'; record: Record<string, number> }
  | { type: 'succeeded'; result: unknown }
  | { type: 'failed'; error: SerializedError; stack: string | null }
  | { type: 'cancelled' }

/**
 * Roles the job worker script plays: a job, a helper a job starts, or the Train wizard's planner (the same
 * script, so builds need no other entry).
 */
export type JobWorkerRole = 'job' | 'corpusPreparer' | 'quantizer' | 'trainPlanner'

/** `workerData` of a job worker thread: its role, and how to start helpers from the same script. */
export interface JobWorkerData {
  role: JobWorkerRole
  workerScript: string
  workerExecArgv: string[]
}
