import type { Worker } from 'node:worker_threads'
import type { ExecutionProviderProbe } from '../../shared/types/app.js'
import type { JobKind, JobParams, LogLevel } from '../../shared/types/jobs.js'
import type { JobWorkerRole } from './workerProtocol.js'

/** What a job handler sees while it runs in a worker thread. */
export interface JobContext<K extends JobKind = JobKind> {
  jobId: string
  params: JobParams<K>
  /** The last value passed to `saveCheckpoint` in an earlier attempt, or null on a first run. */
  checkpoint: unknown
  projectDir: string
  /** Compute threads the user allows for this job. */
  threads: number
  /** Aborted when the user cancels; handlers check it between units of work. */
  signal: AbortSignal
  /**
   * The execution provider probes the main thread's hardware report made (or is making), to use instead of
   * probing again; null, or a promise of null, where there are none.
   */
  knownExecutionProviders?: Promise<ExecutionProviderProbe[] | null> | null | undefined
  progress(done: number, total: number, message?: string): void
  log(message: string, level?: LogLevel): void
  /** Live figures of one unit of work (a training step's loss, lr…): passed on to listeners, not stored. */
  metrics(record: Record<string, number>): void
  /** Persisted before the next progress report; a resumed job receives it as `checkpoint`. */
  saveCheckpoint(checkpoint: unknown): void
  /** Starts a helper thread (the job terminates it); absent where jobs do not run in a worker script. */
  startHelperWorker?: ((role: Exclude<JobWorkerRole, 'job'>) => Worker) | undefined
}

export type JobHandler<K extends JobKind = JobKind> = (context: JobContext<K>) => Promise<unknown>
