import { JobQueue, type JobQueueOptions } from '../../src-main/core/jobs/JobQueue.js'
import type { Project } from '../../src-main/core/project/Project.js'
import { sourceJobWorker } from '../../src-main/devbridge/sourceJobWorker.js'
import type { JobLogLine, JobSummary } from '../../src-main/shared/types/jobs.js'

export interface RecordedQueue {
  queue: JobQueue
  updates: JobSummary[]
  logs: { jobId: string; line: JobLogLine }[]
  /** Resolves with the first update of `jobId` that satisfies `predicate`. */
  until(jobId: string, predicate: (job: JobSummary) => boolean): Promise<JobSummary>
}

/** A job queue running real worker threads from source, recording every event it emits. */
export function recordedQueue(project: Project, options: Partial<JobQueueOptions> = {}): RecordedQueue {
  const updates: JobSummary[] = []
  const logs: { jobId: string; line: JobLogLine }[] = []
  const waiters: { jobId: string; predicate: (job: JobSummary) => boolean; resolve: (job: JobSummary) => void }[] = []
  const queue = new JobQueue(
    project,
    {
      jobUpdated: (job) => {
        updates.push(job)
        for (const waiter of waiters.filter((w) => w.jobId === job.id && w.predicate(job))) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(job)
        }
      },
      jobLogged: (jobId, line) => logs.push({ jobId, line }),
    },
    { ...sourceJobWorker(), threads: () => 1, ...options },
  )
  return {
    queue,
    updates,
    logs,
    until: (jobId, predicate) => {
      const seen = updates.find((job) => job.id === jobId && predicate(job))
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ jobId, predicate, resolve }))
    },
  }
}
