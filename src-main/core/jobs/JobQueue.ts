import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { LecternError, type SerializedError } from '../../shared/errors.js'
import type { ExecutionProviderProbe } from '../../shared/types/app.js'
import { FINISHED_STATES, jobLabels, jobRequestSchema, type JobLogLine, type JobRequest, type JobSummary } from '../../shared/types/jobs.js'
import type { Project } from '../project/Project.js'
import { knownExecutionProviderProbes } from '../system/hardwareReport.js'
import type { ClaimedJob } from './JobStore.js'
import { createOwnerId, releaseOwnerId } from './ownerLiveness.js'
import type { FromWorker, JobWorkerData, ToWorker } from './workerProtocol.js'

export interface JobEventSink {
  jobUpdated(job: JobSummary): void
  jobLogged(jobId: string, line: JobLogLine): void
  /** A job's live figures (e.g. one line per training step); optional, not stored by the queue. */
  jobMetrics?(jobId: string, record: Record<string, number>): void
}

export interface JobQueueOptions {
  /** Worker entry (built `jobWorker.js`, or the .ts source with a TS loader in `workerExecArgv`). */
  workerScript: string | URL
  /** Extra Node options for worker threads. Defaults to `[]`. */
  workerExecArgv?: string[]
  /** Compute threads handed to each job, read when the job starts. */
  threads: () => number
  /** Defaults to `2000`. */
  heartbeatMs?: number
  /** How long a cancelled worker may take to stop before it is terminated. Defaults to `5000`. */
  cancelGraceMs?: number
  /** Minimum interval between progress writes to the database and progress events. Defaults to `250`. */
  progressIntervalMs?: number
  /**
   * Execution provider probes already made or in flight in this process, handed to each job so training need
   * not probe again; null where there are none. Defaults to the hardware report's (`knownExecutionProviderProbes`).
   */
  knownExecutionProviders?: () => Promise<ExecutionProviderProbe[] | null> | null
}

interface RunningJob {
  id: string
  worker: Worker
  startedAtMs: number
  startDone: number
  lastFlushAtMs: number
  pending: { done: number; total: number; message: string | null } | null
  settled: boolean
  cancelTimer: NodeJS.Timeout | null
}

/**
 * Runs a project's jobs one at a time, each in its own worker thread, and keeps their rows in project.db
 * current: state, progress, ETA, checkpoints, logs and a heartbeat that tells other processes we are alive.
 */
export class JobQueue {
  private readonly project: Project
  private readonly sink: JobEventSink
  private readonly options: Required<Omit<JobQueueOptions, 'workerExecArgv'>> & { workerExecArgv: string[] }
  private readonly owner = createOwnerId()
  private readonly waiters = new Map<string, ((job: JobSummary) => void)[]>()
  private running: RunningJob | null = null
  private heartbeatTimer: NodeJS.Timeout | null = null
  private started = false
  private disposed = false

  constructor(project: Project, sink: JobEventSink, options: JobQueueOptions) {
    this.project = project
    this.sink = sink
    this.options = { heartbeatMs: 2000, cancelGraceMs: 5000, progressIntervalMs: 250, workerExecArgv: [], knownExecutionProviders: knownExecutionProviderProbes, ...options }
  }

  /** Begins taking jobs from the queue, including any left queued by an earlier session. */
  start(): void {
    if (this.started || this.disposed) return
    this.started = true
    this.heartbeatTimer = setInterval(() => this.beat(), this.options.heartbeatMs)
    this.heartbeatTimer.unref()
    this.pump()
  }

  enqueue(request: JobRequest): JobSummary {
    this.assertUsable()
    const { kind, params } = jobRequestSchema.parse(request)
    const label = (jobLabels[kind] as (p: typeof params) => string)(params)
    const job = this.project.jobs.insert(kind, label, params)
    this.sink.jobUpdated(job)
    this.pump()
    return this.project.jobs.get(job.id)
  }

  cancel(jobId: string): JobSummary {
    this.assertUsable()
    const job = this.project.jobs.requestCancel(jobId)
    if (this.running?.id === jobId) this.stopRunning()
    this.sink.jobUpdated(job)
    return job
  }

  resume(jobId: string): JobSummary {
    this.assertUsable()
    const job = this.project.jobs.requeue(jobId)
    this.log(jobId, 'info', 'Queued to resume from the last checkpoint')
    this.sink.jobUpdated(job)
    this.pump()
    return this.project.jobs.get(jobId)
  }

  /** Resolves when the job reaches a finished state (succeeded, failed, cancelled or interrupted). */
  waitFor(jobId: string): Promise<JobSummary> {
    const job = this.project.jobs.get(jobId)
    if (FINISHED_STATES.includes(job.state)) return Promise.resolve(job)
    return new Promise((resolve) => {
      const list = this.waiters.get(jobId) ?? []
      list.push(resolve)
      this.waiters.set(jobId, list)
    })
  }

  /**
   * Stops taking jobs. A job still running is stopped and marked `interrupted` (resumable from its
   * checkpoint), as after a crash, but cleanly.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer)
    const running = this.running
    if (running && !running.settled) {
      this.flushProgress(running)
      this.settle(running, 'interrupted', { error: { code: 'interrupted', message: 'Interrupted: Lectern closed while this job ran' } })
      // Let the worker stop at its next step before terminating it: terminating a thread while a native call runs
      // in it (an ORT training step) can abort the whole process with an uncaught Napi::Error.
      const exited = new Promise<void>((resolve) => running.worker.once('exit', () => resolve()))
      running.worker.postMessage({ type: 'cancel' } satisfies ToWorker)
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.cancelGraceMs)))])
      clearTimeout(timer)
      await running.worker.terminate()
    }
    releaseOwnerId(this.owner)
  }

  private assertUsable(): void {
    if (this.disposed) throw new LecternError('no_project_open', 'The project has been closed')
  }

  private pump(): void {
    if (!this.started || this.disposed || this.running) return
    const claimed = this.project.jobs.claimNext(this.owner)
    if (claimed) this.launch(claimed)
  }

  private launch(claimed: ClaimedJob): void {
    const script = this.options.workerScript
    const helperData: JobWorkerData = { role: 'job', workerScript: typeof script === 'string' ? script : fileURLToPath(script), workerExecArgv: this.options.workerExecArgv ?? [] }
    const worker = new Worker(this.options.workerScript, { execArgv: this.options.workerExecArgv, workerData: helperData })
    const now = Date.now()
    const running: RunningJob = {
      id: claimed.id,
      worker,
      startedAtMs: now,
      startDone: claimed.progress.done,
      lastFlushAtMs: 0,
      pending: null,
      settled: false,
      cancelTimer: null,
    }
    this.running = running
    worker.on('message', (message: FromWorker) => this.onWorkerMessage(running, message))
    worker.on('error', (error) => {
      this.log(running.id, 'error', error.stack ?? error.message)
      this.settle(running, 'failed', { error: { code: 'internal', message: `Job worker crashed: ${error.message}` } })
    })
    worker.on('exit', (code) => {
      if (!running.settled) {
        this.settle(running, 'failed', { error: { code: 'internal', message: `Job worker exited unexpectedly (code ${code})` } })
      }
    })
    const knownProbes = this.options.knownExecutionProviders()
    const start: ToWorker = {
      type: 'start',
      job: { id: claimed.id, kind: claimed.kind, params: claimed.params, checkpoint: claimed.checkpoint },
      projectDir: this.project.dir,
      threads: this.options.threads(),
      executionProvidersFollow: knownProbes !== null,
    }
    worker.postMessage(start)
    void knownProbes?.then((probes) => {
      if (!running.settled) worker.postMessage({ type: 'executionProviders', probes } satisfies ToWorker)
    })
    this.sink.jobUpdated(this.project.jobs.get(claimed.id))
  }

  private onWorkerMessage(running: RunningJob, message: FromWorker): void {
    if (running.settled) return
    switch (message.type) {
      case 'progress':
        running.pending = { done: message.done, total: message.total, message: message.message }
        if (Date.now() - running.lastFlushAtMs >= this.options.progressIntervalMs || message.done >= message.total) {
          this.flushProgress(running)
        }
        break
      case 'log':
        this.log(running.id, message.level, message.message)
        break
      case 'checkpoint':
        this.project.jobs.saveCheckpoint(running.id, message.checkpoint)
        break
      case 'metrics':
        this.sink.jobMetrics?.(running.id, message.record)
        break
      case 'succeeded':
        this.flushProgress(running)
        this.settle(running, 'succeeded', { result: message.result })
        break
      case 'failed':
        this.flushProgress(running)
        if (message.stack) this.log(running.id, 'error', message.stack)
        this.settle(running, 'failed', { error: message.error })
        break
      case 'cancelled':
        this.flushProgress(running)
        this.settle(running, 'cancelled', {})
        break
    }
  }

  private flushProgress(running: RunningJob): void {
    const pending = running.pending
    if (!pending) return
    running.pending = null
    const now = Date.now()
    running.lastFlushAtMs = now
    this.project.jobs.updateProgress(running.id, { ...pending, etaSeconds: estimateEtaSeconds(running, pending, now) }, now)
    this.sink.jobUpdated(this.project.jobs.get(running.id))
  }

  /** Asks the worker to stop; terminates it if it has not stopped within the grace period. */
  private stopRunning(): void {
    const running = this.running
    if (!running || running.settled || running.cancelTimer) return
    this.log(running.id, 'info', 'Cancel requested')
    running.worker.postMessage({ type: 'cancel' } satisfies ToWorker)
    running.cancelTimer = setTimeout(() => {
      if (running.settled) return
      this.log(running.id, 'warn', `Worker did not stop within ${this.options.cancelGraceMs} ms; terminated`)
      this.settle(running, 'cancelled', {})
      void running.worker.terminate()
    }, this.options.cancelGraceMs)
  }

  private settle(
    running: RunningJob,
    state: 'succeeded' | 'failed' | 'cancelled' | 'interrupted',
    outcome: { result?: unknown; error?: SerializedError },
  ): void {
    if (running.settled) return
    running.settled = true
    if (running.cancelTimer) clearTimeout(running.cancelTimer)
    const job = this.project.jobs.finish(running.id, state, outcome)
    const seconds = ((Date.now() - running.startedAtMs) / 1000).toFixed(1)
    this.log(running.id, state === 'succeeded' ? 'info' : state === 'failed' ? 'error' : 'warn', `${capitalize(state)} after ${seconds} s`)
    if (this.running === running) this.running = null
    this.sink.jobUpdated(job)
    for (const resolve of this.waiters.get(job.id) ?? []) resolve(job)
    this.waiters.delete(job.id)
    if (state !== 'interrupted') void running.worker.terminate()
    this.pump()
  }

  private beat(): void {
    if (this.disposed) return
    for (const jobId of this.project.jobs.heartbeat(this.owner)) {
      if (this.running?.id === jobId) this.stopRunning()
    }
  }

  private log(jobId: string, level: JobLogLine['level'], message: string): void {
    const line = this.project.jobs.appendLog(jobId, level, message)
    this.sink.jobLogged(jobId, line)
  }
}

/** Seconds left at the average rate of this attempt; null until a second of history exists. */
function estimateEtaSeconds(running: RunningJob, progress: { done: number; total: number }, nowMs: number): number | null {
  const elapsedMs = nowMs - running.startedAtMs
  const doneThisAttempt = progress.done - running.startDone
  if (elapsedMs < 1000 || doneThisAttempt <= 0 || progress.total <= 0) return null
  return Math.max(0, ((progress.total - progress.done) * elapsedMs) / doneThisAttempt / 1000)
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1)
}
