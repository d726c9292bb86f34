export interface MetricsThrottleOptions {
  /** The shortest time between two records of one job. Defaults to `100` (10 per second). */
  intervalMs?: number
}

/**
 * Passes per-step metrics on at most once per `intervalMs` per job, so a fast job cannot flood the renderer.
 * A record arriving sooner waits, replaced by any newer one, and goes out when the interval ends: the latest
 * record is never lost. (The full history stays in the run's metrics.jsonl.)
 */
export class MetricsThrottle {
  private readonly emit: (jobId: string, record: Record<string, number>) => void
  private readonly intervalMs: number
  private readonly jobs = new Map<string, { lastMs: number; pending: Record<string, number> | null; timer: ReturnType<typeof setTimeout> | null }>()

  constructor(emit: (jobId: string, record: Record<string, number>) => void, { intervalMs = 100 }: MetricsThrottleOptions = {}) {
    this.emit = emit
    this.intervalMs = intervalMs
  }

  push(jobId: string, record: Record<string, number>): void {
    const now = Date.now()
    let job = this.jobs.get(jobId)
    if (job === undefined) this.jobs.set(jobId, (job = { lastMs: -Infinity, pending: null, timer: null }))
    if (job.timer === null && now - job.lastMs >= this.intervalMs) {
      job.lastMs = now
      this.emit(jobId, record)
      return
    }
    job.pending = record
    if (job.timer === null) {
      const entry = job
      entry.timer = setTimeout(() => {
        entry.timer = null
        this.flush(jobId)
      }, this.intervalMs - (now - entry.lastMs))
    }
  }

  /** Sends a job's waiting record now (the interval ended, or the job stopped). */
  flush(jobId: string): void {
    const job = this.jobs.get(jobId)
    if (job === undefined) return
    if (job.timer !== null) clearTimeout(job.timer)
    job.timer = null
    const pending = job.pending
    job.pending = null
    if (pending !== null) {
      job.lastMs = Date.now()
      this.emit(jobId, pending)
    }
  }

  /** Drops what waits, without sending it. */
  dispose(): void {
    for (const job of this.jobs.values()) if (job.timer !== null) clearTimeout(job.timer)
    this.jobs.clear()
  }
}
