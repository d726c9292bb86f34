import { LecternError } from '../../shared/errors.js'
import type { Workspace } from './Workspace.js'

/**
 * The one place that knows which work reaches the network, for the offline switch. Lectern has two network paths:
 * model downloads (ModelLibrary) and the OpenAI-compatible endpoint a comprehension job may use instead of a local
 * model. There is no telemetry and no update check.
 */
export function networkUseOfJob(kind: string, params: unknown): string | null {
  if (kind !== 'comprehend' || typeof params !== 'object' || params === null) return null
  const endpoint = (params as { endpoint?: unknown }).endpoint
  return typeof endpoint === 'string' && endpoint !== '' ? `the OpenAI-compatible endpoint ${endpoint}` : null
}

/** Refuses a job that would reach the network while the offline switch is on. */
export function assertJobAllowed(offline: boolean, kind: string, params: unknown): void {
  const use = networkUseOfJob(kind, params)
  if (offline && use !== null) {
    throw new LecternError('offline', `Lectern is offline, so it will not contact ${use}: turn off "Offline mode" in Settings, or generate with a local model`)
  }
}

/** What `stopNetworkWork` needs: the library's downloads and, when a project is open, its jobs. */
export interface NetworkWorkOwners {
  cancelAllDownloads(): Promise<void>
  /** Null when no project is open. */
  jobs: {
    list(): { id: string; kind: string; state: string }[]
    params(jobId: string): unknown
    cancel(jobId: string): void
  } | null
}

/**
 * Run when the offline switch is turned on: the switch is hard, so work already on the network stops too (downloads
 * keep their partial file for later; endpoint jobs are cancelled and can be resumed once online).
 */
export async function stopNetworkWork(owners: NetworkWorkOwners): Promise<void> {
  for (const job of owners.jobs?.list() ?? []) {
    if ((job.state === 'queued' || job.state === 'running') && networkUseOfJob(job.kind, owners.jobs!.params(job.id)) !== null) owners.jobs!.cancel(job.id)
  }
  await owners.cancelAllDownloads()
}

/** The open project's jobs in the shape `stopNetworkWork` wants, or null when no project is open. */
export function jobsOfWorkspace(workspace: Workspace): NetworkWorkOwners['jobs'] {
  let open: { project: Workspace['project']; queue: Workspace['queue'] }
  try {
    open = { project: workspace.project, queue: workspace.queue }
  } catch {
    return null
  }
  return {
    list: () => open.project.jobs.list(),
    params: (jobId) => open.project.jobs.detail(jobId, 0).params,
    cancel: (jobId) => void open.queue.cancel(jobId),
  }
}
