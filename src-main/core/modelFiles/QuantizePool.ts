import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { WorkerOptions } from '../app/Workspace.js'
import { WorkerCalls } from '../jobs/WorkerCalls.js'
import type { GgmlTypeName } from '../model/tensorTypes.js'
import type { QuantizeRequest } from './serveQuantizer.js'

export interface QuantizePoolOptions {
  /** The quantize worker entry (built `quantizeWorker.js`, or the source through a TS loader), or a function that starts one. */
  worker: Pick<WorkerOptions, 'workerScript' | 'workerExecArgv'> | (() => Worker)
  /** Defaults to the machine's cores minus one, at least one. */
  size?: number
}

/** Quantizes chunks on several worker threads; results are the bytes `quantize` gives, in any order asked. */
export class QuantizePool {
  readonly size: number
  private readonly workers: WorkerCalls<QuantizeRequest, Uint8Array>[]
  private readonly startWorker: () => WorkerCalls<QuantizeRequest, Uint8Array>
  private disposed = false

  constructor(options: QuantizePoolOptions) {
    this.size = Math.max(1, options.size ?? availableParallelism() - 1)
    const { worker } = options
    const startThread = typeof worker === 'function' ? worker : () => new Worker(worker.workerScript, { execArgv: worker.workerExecArgv ?? [] })
    this.startWorker = () => new WorkerCalls<QuantizeRequest, Uint8Array>(startThread(), 'quantize worker')
    this.workers = Array.from({ length: this.size }, this.startWorker)
  }

  /**
   * Quantizes `values` on the least busy worker; a worker that has died (its pending chunks were rejected with the
   * reason) is replaced first. `values` is transferred: do not use it afterwards.
   */
  quantize(type: GgmlTypeName, values: Float32Array): Promise<Uint8Array> {
    if (this.disposed) return Promise.reject(new Error('QuantizePool used after dispose()'))
    this.workers.forEach((calls, i) => {
      if (!calls.usable) this.workers[i] = this.startWorker()
    })
    const owner = this.workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a))
    const own = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength ? values : values.slice()
    return owner.call({ type, values: own }, [own.buffer as ArrayBuffer])
  }

  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    await Promise.all(this.workers.map((worker) => worker.dispose(new Error('QuantizePool disposed'))))
  }
}
