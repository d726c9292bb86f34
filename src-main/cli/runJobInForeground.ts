import { JobQueue } from '../core/jobs/JobQueue.js'
import type { Project } from '../core/project/Project.js'
import { resolveComputeThreads } from '../core/system/hardwareReport.js'
import type { JobLogLine, JobSummary } from '../shared/types/jobs.js'
import { print, printJson, type CliContext } from './CliContext.js'
import { formatDuration, progressLine } from './format.js'

export interface ForegroundOptions {
  json: boolean
  threads: number | undefined
  /**
   * JSON lines instead of one pretty JSON document: `announce(job)` as the first line, one line per metrics
   * record the job reports, and the finished job as the last line.
   */
  jsonLines?: { announce(job: JobSummary): unknown }
}

/**
 * Starts a queue on the project, lets `begin` enqueue or requeue a job, and shows its progress until it
 * ends: a live bar on a terminal, a line per 10% otherwise, the final job as JSON with --json. The first
 * Ctrl-C cancels the job; a second one leaves at once (the job is then marked interrupted, resumable).
 */
export async function runJobInForeground(
  project: Project,
  context: CliContext,
  options: ForegroundOptions,
  begin: (queue: JobQueue) => JobSummary,
): Promise<number> {
  const live = context.stdout.isTTY === true && !options.json
  let watchedId: string | null = null
  let lastDecile = -1
  const onUpdate = (job: JobSummary): void => {
    if (options.json || job.id !== watchedId || job.state !== 'running' || job.progress.total === 0) return
    if (live) {
      context.stdout.write(`\r\x1b[2K${progressLine(job, context.stdout.columns ?? 80)}`)
      return
    }
    const decile = Math.floor((job.progress.fraction ?? 0) * 10)
    if (decile > lastDecile) {
      lastDecile = decile
      print(context, `${decile * 10}%  ${job.progress.done}/${job.progress.total}  ETA ${formatDuration(job.progress.etaSeconds)}`)
    }
  }
  const onLog = (jobId: string, line: JobLogLine): void => {
    if (options.json || jobId !== watchedId || line.level === 'info') return
    if (live) context.stdout.write('\r\x1b[2K')
    context.stderr.write(`${line.level}: ${line.message}\n`)
  }
  const queue = new JobQueue(
    project,
    {
      jobUpdated: onUpdate,
      jobLogged: onLog,
      jobMetrics: (jobId, record) => {
        if (options.json && options.jsonLines && jobId === watchedId) context.stdout.write(JSON.stringify(record) + '\n')
      },
    },
    { ...context.jobWorker, threads: () => options.threads ?? resolveComputeThreads('auto') },
  )
  let interrupts = 0
  let leaveNow: (() => void) | null = null
  const leftEarly = new Promise<'left'>((resolve) => (leaveNow = () => resolve('left')))
  const removeInterrupt = context.onInterrupt(() => {
    interrupts++
    if (interrupts === 1 && watchedId !== null) {
      context.stderr.write('\nCancelling… (press Ctrl-C again to quit at once; the job stays resumable)\n')
      queue.cancel(watchedId)
    } else {
      leaveNow?.()
    }
  })
  try {
    const job = begin(queue)
    watchedId = job.id
    if (!options.json) print(context, `Job ${job.id}: ${job.label}`)
    else if (options.jsonLines) context.stdout.write(JSON.stringify(options.jsonLines.announce(job)) + '\n')
    queue.start()
    const outcome = await Promise.race([queue.waitFor(job.id), leftEarly])
    if (outcome === 'left') {
      await queue.dispose()
      context.stderr.write(`\nJob ${job.id} interrupted; continue it with: lectern resume ${project.dir} ${job.id}\n`)
      return 130
    }
    if (live) context.stdout.write('\r\x1b[2K')
    if (options.json && options.jsonLines) context.stdout.write(JSON.stringify(project.jobs.detail(job.id)) + '\n')
    else if (options.json) printJson(context, project.jobs.detail(job.id))
    else reportOutcome(context, project, outcome)
    return outcome.state === 'succeeded' ? 0 : outcome.state === 'cancelled' ? 130 : 1
  } finally {
    removeInterrupt()
    await queue.dispose()
  }
}

function reportOutcome(context: CliContext, project: Project, job: JobSummary): void {
  const seconds = job.startedAtMs !== null && job.finishedAtMs !== null ? (job.finishedAtMs - job.startedAtMs) / 1000 : null
  print(context, `Job ${job.id} ${job.state} after ${formatDuration(seconds)} (${job.progress.done}/${job.progress.total})`)
  if (job.error) context.stderr.write(`lectern: ${job.error.message}\n`)
  if (job.resumable) print(context, `Continue it with: lectern resume ${project.dir} ${job.id}`)
}
