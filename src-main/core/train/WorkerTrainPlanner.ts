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
  /** How long the thread is kept, with its caches, after its last plan. Defaults to `180_000` (3 minutes). */
  idleMs?: number
}

interface WaitingPlan {
  params: TrainParams
  resolve(plan: TrainPlanInfo): void
  reject(error: Error): void
}

/** What a plan request that a newer one of the same project replaced is rejected with (the Train screen drops older answers anyway). */
export const supersededPlanError = (): LecternError => new LecternError('cancelled', 'A newer training plan request replaced this one')

/**
 * `TrainPlanner.plan` on a thread of its own, so reading a model header and tokenizing a large dataset never
 * holds up the caller's event loop. The thread starts on the first plan and is kept, with its caches, until it
 * has had no plan for `idleMs` or `release` is called; it keeps the process alive only while a plan is pending.
 * If it dies, pending plans are rejected and the next plan starts a new one.
 *
 * One plan per project is computed at a time. Requests that come in meanwhile (the user typing) wait, and only
 * the newest is computed: each one rejects the one it replaces with `supersededPlanError`.
 */
export class WorkerTrainPlanner {
  private readonly startWorker: () => Worker
  private readonly idleMs: number
  private calls: WorkerCalls<TrainPlanRequest, TrainPlanInfo> | null = null
  private readonly computing = new Set<string>()
  private readonly waiting = new Map<string, WaitingPlan>()
  private idleTimer: NodeJS.Timeout | null = null
  private disposed = false

  constructor({ worker, idleMs = 180_000 }: WorkerTrainPlannerOptions) {
    this.startWorker = typeof worker === 'function' ? worker : () => startTrainPlannerThread(worker)
    this.idleMs = idleMs
  }

  /** Whether the planner thread is up (it starts on the first plan). */
  get threadRunning(): boolean {
    return this.calls?.usable ?? false
  }

  plan(projectDir: string, params: TrainParams): Promise<TrainPlanInfo> {
    if (this.disposed) return Promise.reject(new LecternError('internal', 'The training planner has been shut down'))
    return new Promise((resolve, reject) => {
      this.waiting.get(projectDir)?.reject(supersededPlanError())
      this.waiting.set(projectDir, { params, resolve, reject })
      this.computeNext(projectDir)
    })
  }

  /** Stops the thread, its caches with it (the project closed), and rejects the plans not yet answered; the next plan starts a new thread. */
  async release(reason: Error = new LecternError('cancelled', 'The training planner was stopped')): Promise<void> {
    for (const waiting of this.waiting.values()) waiting.reject(reason)
    this.waiting.clear()
    this.clearIdleTimer()
    const calls = this.calls
    this.calls = null
    await calls?.dispose(reason)
  }

  async dispose(): Promise<void> {
    this.disposed = true
    await this.release(new LecternError('internal', 'The training planner has been shut down'))
  }

  private computeNext(projectDir: string): void {
    const next = this.waiting.get(projectDir)
    if (next === undefined || this.computing.has(projectDir)) return
    this.waiting.delete(projectDir)
    this.computing.add(projectDir)
    this.compute({ projectDir, params: next.params })
      .then(next.resolve, next.reject)
      .finally(() => {
        this.computing.delete(projectDir)
        this.computeNext(projectDir)
      })
  }

  private async compute(request: TrainPlanRequest): Promise<TrainPlanInfo> {
    this.clearIdleTimer()
    if (this.calls === null || !this.calls.usable) this.calls = new WorkerCalls(this.startWorker(), 'training planner thread')
    const calls = this.calls
    calls.worker.ref()
    try {
      return await calls.call(request)
    } finally {
      if (calls.inFlight === 0) {
        calls.worker.unref()
        if (calls === this.calls) this.armIdleTimer()
      }
    }
  }

  private armIdleTimer(): void {
    this.clearIdleTimer()
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null
      if (this.calls?.inFlight === 0) void this.release()
    }, this.idleMs)
    this.idleTimer.unref()
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer)
    this.idleTimer = null
  }
}

/** A thread of the job worker script in its `trainPlanner` role. */
export function startTrainPlannerThread({ workerScript, workerExecArgv = [] }: Pick<WorkerOptions, 'workerScript' | 'workerExecArgv'>): Worker {
  const workerData: JobWorkerData = { role: 'trainPlanner', workerScript: typeof workerScript === 'string' ? workerScript : fileURLToPath(workerScript), workerExecArgv }
  // SHARE_ENV: settings read from the environment (LECTERN_MEMORY_LIMIT) apply as they would on this thread.
  return new Worker(workerScript, { execArgv: workerExecArgv, workerData, env: SHARE_ENV })
}
