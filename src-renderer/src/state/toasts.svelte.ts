import type { ApiClient } from '../../../src-main/shared/api'
import type { JobSummary } from '../../../src-main/shared/types/jobs'
import { api } from '../api'

/** One error toast: what went wrong (code, sentence, file) and, behind a disclosure, the details. */
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
}

export interface ToastInput {
  code: string
  message: string
  title?: string | undefined
  file?: string | null | undefined
  detail?: string | null | undefined
  /** Defaults to code + message + file. */
  key?: string | undefined
}

/** At most this many toasts show; the oldest is dropped first. */
const MAX_TOASTS = 5

/**
 * Error toasts for the whole window: failed jobs (from `onJobUpdate`) and API errors no screen handled. The UI
 * switches on `code`, never `instanceof`, because errors cross IPC as plain data (style.md rule 6).
 */
export class ToastsState {
  toasts = $state<Toast[]>([])
  private nextId = 1
  /** Job failures already shown (job id + attempt), so a dismissed one does not come back with the next update. */
  // Bookkeeping only, never rendered, so a plain Set and not a SvelteSet.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly jobFailuresSeen = new Set<string>()
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
    if (this.jobFailuresSeen.has(key)) return
    this.jobFailuresSeen.add(key)
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
}

export const toastsState = new ToastsState(api)
