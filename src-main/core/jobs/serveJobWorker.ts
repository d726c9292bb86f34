import { Worker, type MessagePort } from 'node:worker_threads'
import { LecternError, serializeError } from '../../shared/errors.js'
import type { ExecutionProviderProbe } from '../../shared/types/app.js'
import { jobParamSchemas } from '../../shared/types/jobs.js'
import type { JobContext, JobHandler } from './JobContext.js'
import { JOB_HANDLERS } from './handlers/jobKinds.js'
import { lowerJobThreadPriority } from './jobThreadPriority.js'
import type { FromWorker, JobWorkerData, ToWorker } from './workerProtocol.js'

const PROGRESS_MIN_INTERVAL_MS = 50

/**
 * Body of a job worker thread: waits for one `start`, runs that job, reports its end, then lets the thread
 * exit. With `workerData`, the job may start helper threads from the same script. The thread runs below the UI's
 * priority where that can be set per thread (jobThreadPriority.ts).
 */
export function serveJobWorker(port: MessagePort, workerData: JobWorkerData | null = null): void {
  const post = (message: FromWorker): void => port.postMessage(message)
  const priorityProblem = lowerJobThreadPriority()
  if (priorityProblem !== null) post({ type: 'log', level: 'warn', message: priorityProblem })
  const controller = new AbortController()
  let deliverProbes: (probes: ExecutionProviderProbe[] | null) => void = () => {}
  const mainThreadProbes = new Promise<ExecutionProviderProbe[] | null>((resolve) => (deliverProbes = resolve))

  port.on('message', (message: ToWorker) => {
    if (message.type === 'cancel') controller.abort()
    else if (message.type === 'executionProviders') deliverProbes(message.probes)
    else void runJob(message, controller.signal, post, workerData, message.executionProvidersFollow ? mainThreadProbes : null).finally(() => port.close())
  })
}

async function runJob(
  start: Extract<ToWorker, { type: 'start' }>,
  signal: AbortSignal,
  post: (m: FromWorker) => void,
  workerData: JobWorkerData | null,
  knownExecutionProviders: Promise<ExecutionProviderProbe[] | null> | null,
): Promise<void> {
  const { job } = start
  let lastProgressAtMs = 0
  try {
    const handler = JOB_HANDLERS[job.kind] as JobHandler | undefined
    if (!handler) throw new LecternError('invalid_argument', `Unknown job kind "${job.kind}"`)
    const params = jobParamSchemas[job.kind].parse(job.params)
    const context: JobContext = {
      jobId: job.id,
      params,
      checkpoint: job.checkpoint,
      projectDir: start.projectDir,
      threads: start.threads,
      signal,
      knownExecutionProviders,
      progress(done, total, message) {
        const now = performance.now()
        if (done < total && now - lastProgressAtMs < PROGRESS_MIN_INTERVAL_MS) return
        lastProgressAtMs = now
        post({ type: 'progress', done, total, message: message ?? null })
      },
      log: (message, level = 'info') => post({ type: 'log', level, message }),
      metrics: (record) => post({ type: 'metrics', record }),
      saveCheckpoint: (checkpoint) => post({ type: 'checkpoint', checkpoint }),
      startHelperWorker:
        workerData === null
          ? undefined
          : (role) => new Worker(workerData.workerScript, { execArgv: workerData.workerExecArgv, workerData: { ...workerData, role } satisfies JobWorkerData }),
    }
    const result = await handler(context)
    post({ type: 'succeeded', result: result ?? null })
  } catch (error) {
    if (signal.aborted) {
      post({ type: 'cancelled' })
      return
    }
    post({ type: 'failed', error: serializeError(error), stack: error instanceof LecternError ? null : ((error as Error).stack ?? null) })
  }
}
