import { fileURLToPath } from 'node:url'
import { SHARE_ENV, Worker } from 'node:worker_threads'
import { LecternError } from '../../shared/errors.js'
import type { TrainParams } from '../../shared/types/train.js'
import type { TrainPlanInfo } from '../../shared/types/trainPlan.js'
import type { WorkerOptions } from '../app/Workspace.js'
import { WorkerCalls } from '../jobs/WorkerCalls.js'
import type { JobWorkerData } from '../jobs/workerProtocol.js'
import type { TrainPlanRequest } from './serveTrainPlanner.js'

export interface WorkerTrainPlannerOptions {
  /** The job worker entry, started in its `trainPlanner` role, or a function that starts a thread serving `serveTrainPlanner`. */
  worker: Pick<WorkerOptions, 'workerScript' | 'workerExecArgv'> | (() => Worker)
}

/**
 * `TrainPlanner.plan` on a thread of its own, so reading a model header and tokenizing a large dataset never
 * holds up the caller's event loop. The thread starts on the first plan and is kept, with its caches, between
 * plans; it keeps the process alive only while a plan is pending. If it dies, pending plans are rejected and
 * the next plan starts a new one.
 */
export class WorkerTrainPlanner {
  private readonly startWorker: () => Worker
  private calls: WorkerCalls<TrainPlanRequest, TrainPlanInfo> | null = null
  private disposed = false

  constructor({ worker }: WorkerTrainPlannerOptions) {
    this.startWorker = typeof worker === 'function' ? worker : () => startTrainPlannerThread(worker)
  }

  async plan(projectDir: string, params: TrainParams): Promise<TrainPlanInfo> {
    if (this.disposed) throw new LecternError('internal', 'The training planner has been shut down')
    if (this.calls === null || !this.calls.usable) this.calls = new WorkerCalls(this.startWorker(), 'training planner thread')
    const calls = this.calls
    calls.worker.ref()
    try {
      return await calls.call({ projectDir, params })
    } finally {
      if (calls.inFlight === 0) calls.worker.unref()
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true
    await this.calls?.dispose(new LecternError('internal', 'The training planner has been shut down'))
    this.calls = null
  }
}

/** A thread of the job worker script in its `trainPlanner` role. */
export function startTrainPlannerThread({ workerScript, workerExecArgv = [] }: Pick<WorkerOptions, 'workerScript' | 'workerExecArgv'>): Worker {
  const workerData: JobWorkerData = { role: 'trainPlanner', workerScript: typeof workerScript === 'string' ? workerScript : fileURLToPath(workerScript), workerExecArgv }
  // SHARE_ENV: settings read from the environment (LECTERN_MEMORY_LIMIT) apply as they would on this thread.
  return new Worker(workerScript, { execArgv: workerExecArgv, workerData, env: SHARE_ENV })
}
