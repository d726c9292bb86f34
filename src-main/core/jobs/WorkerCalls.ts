import type { MessagePort, TransferListItem, Worker } from 'node:worker_threads'
import { deserializeError, LecternError, serializeError, type SerializedError } from '../../shared/errors.js'

interface CallMessage<Request> {
  id: number
  request: Request
}

type ReplyMessage<Result> = { id: number; result: Result } | { id: number; error: SerializedError; stack: string | null }

/**
 * Body of a helper thread that answers `WorkerCalls` requests, each as soon as it is done: the result (its
 * `transferablesOf` moved, not copied), or the thrown error as its code, message, file and detail, so a
 * LecternError reaches the caller as it was thrown; an unexpected error also sends its stack.
 */
export function serveWorkerCalls<Request, Result>(
  port: MessagePort,
  answer: (request: Request) => Result | Promise<Result>,
  transferablesOf: (result: Result) => TransferListItem[] = () => [],
): void {
  const reply = async ({ id, request }: CallMessage<Request>): Promise<void> => {
    try {
      const result = await answer(request)
      port.postMessage({ id, result } satisfies ReplyMessage<Result>, transferablesOf(result))
    } catch (error) {
      const stack = error instanceof LecternError ? null : ((error as Error | null)?.stack ?? null)
      port.postMessage({ id, error: serializeError(error), stack } satisfies ReplyMessage<Result>)
    }
  }
  port.on('message', (message: CallMessage<Request>) => void reply(message))
}

/**
 * Requests to one helper thread that runs `serveWorkerCalls`, matched to their replies by id. When the thread
 * fails or exits, every pending call is rejected with the reason and later calls are refused: start a new one.
 */
export class WorkerCalls<Request, Result> {
  readonly worker: Worker
  private readonly pending = new Map<number, { resolve: (result: Result) => void; reject: (error: Error) => void }>()
  private nextId = 0
  private stopped: Error | null = null

  /** `name` says which thread in errors ("the quantize worker exited (code 1)"). */
  constructor(worker: Worker, name: string) {
    this.worker = worker
    worker.on('message', (reply: ReplyMessage<Result>) => {
      const call = this.pending.get(reply.id)
      if (!call) return
      this.pending.delete(reply.id)
      if ('result' in reply) call.resolve(reply.result)
      else call.reject(errorOf(reply))
    })
    worker.on('error', (error) => this.stop(new LecternError('internal', `The ${name} failed: ${error.message}`, { cause: error })))
    worker.on('exit', (code) => this.stop(new LecternError('internal', `The ${name} exited (code ${code})`)))
  }

  /** Calls sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size
  }

  /** False once the thread has failed, exited or been disposed. */
  get usable(): boolean {
    return this.stopped === null
  }

  /** `transfer` lists buffers of `request` to move to the thread: do not use them afterwards. */
  call(request: Request, transfer: TransferListItem[] = []): Promise<Result> {
    if (this.stopped) return Promise.reject(this.stopped)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ id, request } satisfies CallMessage<Request>, transfer)
    })
  }

  /** Rejects what is pending with `reason` and stops the thread. */
  async dispose(reason = new Error('the helper thread was shut down')): Promise<void> {
    this.stop(reason)
    await this.worker.terminate()
  }

  private stop(reason: Error): void {
    this.stopped ??= reason
    for (const call of this.pending.values()) call.reject(this.stopped)
    this.pending.clear()
  }
}

/** The thread's error as a LecternError; an unexpected one keeps the thread's stack as its cause, for the log. */
function errorOf(reply: { error: SerializedError; stack: string | null }): LecternError {
  const error = deserializeError(reply.error)
  if (reply.stack !== null) error.cause = { stack: reply.stack }
  return error
}
