import type { JobSummary } from '../../../src-main/shared/types/jobs'
import { attempt, type ShowsError } from './shownError'

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

/** A screen's state that starts a job: a start in flight, and the message of its last failed call. */
export interface StartsJobs extends ShowsError {
  starting: boolean
}

/**
 * Starts a job with `start` and hands it to `follow`, unless `followed()` already is that job: updates for it may
 * have arrived before the call returned, and they are newer than its answer. False when refused (error shown).
 */
export async function startFollowedJob(
  state: StartsJobs,
  start: () => Promise<JobSummary>,
  followed: () => JobSummary | null,
  follow: (job: JobSummary) => void,
): Promise<boolean> {
  return attempt(state, 'starting', async () => {
    const job = await start()
    if (followed()?.id !== job.id) follow(job)
  })
}

/** Whether a screen is busy with its job: starting one, or following one still queued or running. */
export const isJobBusy = (starting: boolean, job: JobSummary | null): boolean => starting || (job !== null && isActiveJob(job))

/** The newest job of `kind` in `jobs` when it is still queued or running (a job to follow on load), else null. */
export function activeNewestJob(jobs: readonly JobSummary[], kind: JobSummary['kind']): JobSummary | null {
  const newest = jobs.filter((j) => j.kind === kind).sort((a, b) => Number(b.id) - Number(a.id))[0]
  return newest !== undefined && isActiveJob(newest) ? newest : null
}
