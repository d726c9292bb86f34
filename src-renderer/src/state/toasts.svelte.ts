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

/** At most this many toasts show; the oldest success or info toast is dropped first, an error only when all are errors. */
export const MAX_TOASTS = 5
/** Success and info toasts go away by themselves after this long; errors stay until dismissed. */
export const AUTO_DISMISS_MS = 10_000

export interface ToastsStateOptions {
  /** Defaults to `AUTO_DISMISS_MS`. */
  autoDismissMs?: number
}

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
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly dismissTimers = new Map<number, ReturnType<typeof setTimeout>>()
  /** The open project's folder: job ids are per project, so the job outcomes seen are told apart by it. */
  private projectDir: string | null = null
  private readonly client: ApiClient
  private readonly autoDismissMs: number

  constructor(client: ApiClient, { autoDismissMs = AUTO_DISMISS_MS }: ToastsStateOptions = {}) {
    this.client = client
    this.autoDismissMs = autoDismissMs
  }

  /** The project whose jobs the next updates are about (App follows `ProjectState.onSwitch`). */
  projectChanged(dir: string | null): void {
    this.projectDir = dir
  }

  /** Shows an error, or counts a repeat of one that is showing. Returns the toast's id. */
  push(input: ToastInput): number {
    const file = input.file ?? null
    const key = input.key ?? `${input.code}\u0000${input.message}\u0000${file ?? ''}`
    const existing = this.toasts.find((t) => t.key === key)
    if (existing) {
      existing.count += 1
      this.dismissLater(existing)
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
    const shown = [...this.toasts, toast]
    while (shown.length > MAX_TOASTS) {
      const oldestNotError = shown.findIndex((t) => t.tone !== 'error')
      const [evicted] = shown.splice(oldestNotError === -1 ? 0 : oldestNotError, 1)
      if (evicted) this.cancelDismiss(evicted.id)
    }
    this.toasts = shown
    this.dismissLater(toast)
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
    const key = `job:${this.projectDir ?? ''}:${job.id}:${job.attempts}`
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
    const projectDir = this.projectDir
    const key = `done:${projectDir ?? ''}:${job.id}:${job.attempts}`
    if (this.jobOutcomesSeen.has(key)) return
    this.jobOutcomesSeen.add(key)
    let path: string | null
    try {
      path = await this.artifactPath(job)
    } catch (error) {
      if (this.projectDir === projectDir) this.pushError(error, `Cannot find what ${job.label} wrote`)
      return
    }
    // Another project was opened meanwhile: the path may have been read from it, where this job id means another job.
    if (path === null || this.projectDir !== projectDir) return
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
    this.cancelDismiss(id)
    this.toasts = this.toasts.filter((t) => t.id !== id)
  }

  /** Keeps a success or info toast while the pointer or focus is on it; `release` gives it its full time again. */
  hold(id: number): void {
    this.cancelDismiss(id)
  }

  release(id: number): void {
    const toast = this.toasts.find((t) => t.id === id)
    if (toast) this.dismissLater(toast)
  }

  clear(): void {
    for (const id of this.dismissTimers.keys()) this.cancelDismiss(id)
    this.toasts = []
  }

  /** A success or info toast goes after `autoDismissMs`, counted again from a repeat. */
  private dismissLater(toast: Toast): void {
    if (toast.tone === 'error') return
    this.cancelDismiss(toast.id)
    this.dismissTimers.set(toast.id, setTimeout(() => this.dismiss(toast.id), this.autoDismissMs))
  }

  private cancelDismiss(id: number): void {
    const timer = this.dismissTimers.get(id)
    if (timer !== undefined) clearTimeout(timer)
    this.dismissTimers.delete(id)
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
