import type { JobSummary } from '../../../src-main/shared/types/jobs'

/** Queued or running: not yet done. */
export const isActiveJob = (job: JobSummary): boolean => job.state === 'running' || job.state === 'queued'

/** What an `onJobUpdate` for a job of the kind a screen follows means for the job it follows so far. */
export interface FollowedJobUpdate {
  /** The update is for another job than the one followed (or none was): its shown result no longer applies. */
  replaced: boolean
  /** The followed job had stopped and runs again (resumed). */
  restarted: boolean
  /** The job has just stopped running: its result can be loaded and what it changed refreshed. */
  finished: boolean
}

/**
 * How `job` changes what is followed when `followed` is: null when `job` is older and is ignored (a newer job of
 * the kind, started here or elsewhere, replaces the one followed so far); otherwise `job` becomes the followed one.
 */
export function followJobUpdate(followed: JobSummary | null, job: JobSummary): FollowedJobUpdate | null {
  if (followed !== null && Number(job.id) < Number(followed.id)) return null
  const same = followed?.id === job.id
  const wasActive = same ? isActiveJob(followed) : true
  return { replaced: !same, restarted: !wasActive && isActiveJob(job), finished: wasActive && !isActiveJob(job) }
}
