import type { ApiClient } from '../../../src-main/shared/api'
import type { JobSummary } from '../../../src-main/shared/types/jobs'
import { api } from '../api'

/** `error` (the default): what went wrong. `success`: an artifact was written. `info`: something to know. */
export type ToastTone = 'error' | 'success' | 'info'

/** A button on a toast ("Show in folder"). */
export interface ToastAction {
  label: string
  run: () => void
}

/** One toast: what happened (for an error: code, sentence, file) and, behind a disclosure, the details. */
export interface Toast {
  id: number
  /** Identifies the same error, so repeats raise `count` instead of stacking a copy. */
  key: string
  /** The error code from the contract (`io`, `invalid_model_file`…), or `internal`. */
  code: string
  title: string
  message: string
  file: string | null
  detail: string | null
  /** How many times this error was reported while the toast was showing. */
  count: number
  /** Defaults to `error`. */
  tone?: ToastTone | undefined
  action?: ToastAction | undefined
}

export interface ToastInput {
  code: string
  message: string
  title?: string | undefined
  file?: string | null | undefined
  detail?: string | null | undefined
  /** Defaults to code + message + file. */
  key?: string | undefined
  tone?: ToastTone | undefined
  action?: ToastAction | undefined
}

/** At most this many toasts show; the oldest is dropped first. */
const MAX_TOASTS = 5

/** What a succeeded job of each kind wrote, worth a "Show in folder". */
const ARTIFACT_MESSAGES: Partial<Record<JobSummary['kind'], string>> = {
  export: 'The export is written and verified.',
  dataset: 'The training dataset is built.',
  train: 'The trained adapter is saved; evaluate or export it next.',
}

/**
 * Toasts for the whole window: failed jobs (from `onJobUpdate`), API errors no screen handled, and the artifacts of
 * finished jobs with a "Show in folder". The UI switches on `code`, never `instanceof`, because errors cross IPC as
 * plain data (style.md rule 6).
 */
export class ToastsState {
  toasts = $state<Toast[]>([])
  private nextId = 1
  /** Job outcomes already shown (kind of toast, job id, attempt), so a dismissed one does not come back with the next update. */
  // Bookkeeping only, never rendered, so a plain Set and not a SvelteSet.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly jobOutcomesSeen = new Set<string>()
  private readonly client: ApiClient

  constructor(client: ApiClient) {
    this.client = client
  }

  /** Shows an error, or counts a repeat of one that is showing. Returns the toast's id. */
  push(input: ToastInput): number {
    const file = input.file ?? null
    const key = input.key ?? `${input.code}\u0000${input.message}\u0000${file ?? ''}`
    const existing = this.toasts.find((t) => t.key === key)
    if (existing) {
      existing.count += 1
      return existing.id
    }
    const toast: Toast = {
      id: this.nextId++,
      key,
      code: input.code,
      title: input.title ?? 'Error',
      message: input.message,
      file,
      detail: input.detail ?? null,
      count: 1,
      tone: input.tone ?? 'error',
      action: input.action,
    }
    this.toasts = [...this.toasts, toast].slice(-MAX_TOASTS)
    return toast.id
  }

  /** Shows anything thrown: a contract error keeps its code, file and detail; anything else is `internal`. */
  pushError(error: unknown, title = 'Unexpected error'): number {
    if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && 'message' in error) {
      const e = error as { code: string; message: unknown; file?: unknown; detail?: unknown }
      return this.push({
        code: e.code,
        title,
        message: String(e.message),
        file: typeof e.file === 'string' ? e.file : null,
        detail: typeof e.detail === 'string' ? e.detail : null,
      })
    }
    const message = error instanceof Error ? error.message : String(error)
    const detail = error instanceof Error && error.stack ? error.stack : null
    return this.push({ code: 'internal', title, message, detail })
  }

  /** Shows a failed job once per attempt. */
  pushJobFailure(job: JobSummary): void {
    if (job.state !== 'failed') return
    const key = `job:${job.id}:${job.attempts}`
    if (this.jobOutcomesSeen.has(key)) return
    this.jobOutcomesSeen.add(key)
    const error = job.error ?? { code: 'internal', message: 'The job failed without saying why.' }
    this.push({
      key,
      code: error.code,
      title: `${job.label} failed`,
      message: error.message,
      file: error.file ?? null,
      detail: `Job ${job.id} (${job.kind}), attempt ${job.attempts}. Its log in the jobs panel has the full story.`,
    })
  }

  /**
   * Shows what a succeeded export, dataset or training job wrote, once per attempt, with a "Show in folder". The
   * path is read back from the project (`listExports`, `getDataset`, `listRuns`), where the job recorded it.
   */
  async pushJobArtifact(job: JobSummary): Promise<void> {
    const message = ARTIFACT_MESSAGES[job.kind]
    if (job.state !== 'succeeded' || message === undefined) return
    const key = `done:${job.id}:${job.attempts}`
    if (this.jobOutcomesSeen.has(key)) return
    this.jobOutcomesSeen.add(key)
    let path: string | null
    try {
      path = await this.artifactPath(job)
    } catch (error) {
      this.pushError(error, `Cannot find what ${job.label} wrote`)
      return
    }
    if (path === null) return
    const shownPath = path
    this.push({
      key,
      tone: 'success',
      code: 'finished',
      title: `${job.label}: done`,
      message,
      file: shownPath,
      action: { label: 'Show in folder', run: () => void this.showInFolder(shownPath) },
    })
  }

  /** Opens the file manager at `path`; where there is none (the browser bridge), says where the file is. */
  async showInFolder(path: string): Promise<void> {
    try {
      if (await this.client.showInFolder({ path })) return
      this.push({ tone: 'info', code: 'no_file_manager', title: 'No file manager here', message: 'Open this path yourself:', file: path })
    } catch (error) {
      this.pushError(error, 'Cannot show the file')
    }
  }

  private async artifactPath(job: JobSummary): Promise<string | null> {
    switch (job.kind) {
      case 'export':
        return (await this.client.listExports({})).find((e) => e.jobId === job.id && e.status === 'verified')?.path ?? null
      case 'dataset':
        return (await this.client.getDataset())?.dir ?? null
      case 'train':
        return (await this.client.listRuns()).find((run) => run.jobId === job.id)?.adapterFile ?? null
      default:
        return null
    }
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id)
  }

  clear(): void {
    this.toasts = []
  }

  /** Follows job failures until the returned function is called. */
  followJobFailures(): () => void {
    return this.client.on('onJobUpdate', (job) => this.pushJobFailure(job))
  }

  /** Follows finished exports, datasets and training runs until the returned function is called. */
  followJobArtifacts(): () => void {
    return this.client.on('onJobUpdate', (job) => void this.pushJobArtifact(job))
  }
}

export const toastsState = new ToastsState(api)
