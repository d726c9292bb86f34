import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { WorkerOptions } from '../app/Workspace.js'
import type { GgmlTypeName } from '../model/tensorTypes.js'

export interface QuantizePoolOptions {
  /** The quantize worker entry (built `quantizeWorker.js`, or the source through a TS loader), or a function that starts one. */
  worker: Pick<WorkerOptions, 'workerScript' | 'workerExecArgv'> | (() => Worker)
  /** Defaults to the machine's cores minus one, at least one. */
  size?: number
}

interface PoolWorker {
  worker: Worker
  busy: number
}

/** Quantizes chunks on several worker threads; results are the bytes `quantize` gives, in any order asked. */
export class QuantizePool {
  readonly size: number
  private readonly workers: PoolWorker[]
  private readonly pending = new Map<number, { resolve: (bytes: Uint8Array) => void; reject: (error: Error) => void; owner: PoolWorker }>()
  private nextId = 0
  private disposed = false

  constructor(options: QuantizePoolOptions) {
    this.size = Math.max(1, options.size ?? availableParallelism() - 1)
    this.workers = Array.from({ length: this.size }, () => {
      const { worker } = options
      const entry: PoolWorker = { worker: typeof worker === 'function' ? worker() : new Worker(worker.workerScript, { execArgv: worker.workerExecArgv ?? [] }), busy: 0 }
      entry.worker.on('message', (reply: { id: number; bytes?: Uint8Array; error?: string }) => {
        const job = this.pending.get(reply.id)
        if (!job) return
        this.pending.delete(reply.id)
        job.owner.busy--
        if (reply.bytes) job.resolve(reply.bytes)
        else job.reject(new Error(`quantize worker: ${reply.error ?? 'no result'}`))
      })
      entry.worker.on('error', (error) => this.failAll(entry, error))
      entry.worker.on('exit', (code) => {
        if (!this.disposed) this.failAll(entry, new Error(`quantize worker exited (code ${code})`))
      })
      return entry
    })
  }

  /** Quantizes `values` on the least busy worker. `values` is transferred: do not use it afterwards. */
  quantize(type: GgmlTypeName, values: Float32Array): Promise<Uint8Array> {
    if (this.disposed) return Promise.reject(new Error('QuantizePool used after dispose()'))
    const owner = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a))
    const id = this.nextId++
    owner.busy++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, owner })
      const own = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength ? values : values.slice()
      owner.worker.postMessage({ id, type, values: own }, [own.buffer as ArrayBuffer])
    })
  }

  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    for (const [, job] of this.pending) job.reject(new Error('QuantizePool disposed'))
    this.pending.clear()
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
  }

  private failAll(owner: PoolWorker, error: Error): void {
    for (const [id, job] of this.pending) {
      if (job.owner !== owner) continue
      this.pending.delete(id)
      job.reject(error)
    }
  }
}
