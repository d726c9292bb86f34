import type { Worker } from 'node:worker_threads'
import type { CorpusSettings } from '../../shared/types/corpus.js'
import type { TokenCounter } from './chunkDocument.js'
import { estimateTokens } from './estimateTokens.js'
import { HashingFileSource } from './fileSource.js'
import type { CorpusFormat, ExtractionLimits } from './formats/types.js'
import { UnreadableFileError } from './formats/UnreadableFileError.js'
import { ChunkPreparer, prepareSource, type PreparedBatch } from './prepareDocuments.js'
import { READERS } from './sourceFormats.js'
import type { PreparerReply, PreparerRequest } from './preparerProtocol.js'

export interface PrepareRequest {
  path: string
  sizeBytes: number
  format: CorpusFormat
}

/** The prepared batches of one file, then its content hash (null when the file was not read whole). */
export interface PreparedFile {
  batches: AsyncIterable<PreparedBatch>
  sha256(): string | null
}

/**
 * Reads files and prepares their documents (extract, clean, chunk, hash, sign) for the import, which only
 * writes them. `prepare` may start the work at once, so the import asks for the next file before it writes
 * the current one; files are prepared in the order they are asked for.
 */
export interface SourcePreparer {
  /** Files it prepares at the same time. */
  readonly parallelism: number
  prepare(request: PrepareRequest, signal?: AbortSignal): PreparedFile
  dispose(): Promise<void>
}

export interface PreparerConfig {
  settings: CorpusSettings
  textField: string | undefined
  limits: ExtractionLimits
}

/** Prepares in this thread, when it is reached (no overlap with writing). */
export class InThreadPreparer implements SourcePreparer {
  readonly parallelism = 1
  private readonly config: PreparerConfig
  private readonly chunkPreparer: ChunkPreparer

  constructor(config: PreparerConfig, countTokens: TokenCounter = estimateTokens) {
    this.config = config
    this.chunkPreparer = new ChunkPreparer(config.settings, countTokens)
  }

  prepare(request: PrepareRequest, signal?: AbortSignal): PreparedFile {
    const source = new HashingFileSource(request.path, request.sizeBytes)
    const options = { limits: this.config.limits, textField: this.config.textField, signal }
    return { batches: prepareSource(READERS[request.format], source, options, this.chunkPreparer), sha256: () => source.sha256() }
  }

  async dispose(): Promise<void> {}
}

interface FileInFlight {
  path: string
  replies: PreparerReply[]
  wake: (() => void) | null
  sha256: string | null
}

/**
 * Prepares in a worker thread (see serveSourcePreparer.ts), so reading and chunking the next file overlaps
 * with writing this one. The worker sends at most two batches ahead of what the import has taken.
 */
export class WorkerPreparer implements SourcePreparer {
  readonly parallelism = 1
  private readonly worker: Worker
  private readonly files = new Map<number, FileInFlight>()
  private nextId = 1
  private failure: Error | null = null

  constructor(worker: Worker, config: PreparerConfig) {
    this.worker = worker
    worker.on('message', (reply: PreparerReply) => {
      const file = this.files.get(reply.id)
      if (!file) return
      file.replies.push(reply)
      file.wake?.()
    })
    worker.on('error', (error) => this.fail(error))
    worker.on('exit', (code) => this.fail(new Error(`the document preparation worker exited (code ${code})`)))
    this.post({ type: 'configure', config })
  }

  prepare(request: PrepareRequest, signal?: AbortSignal): PreparedFile {
    const id = this.nextId++
    const file: FileInFlight = { path: request.path, replies: [], wake: null, sha256: null }
    this.files.set(id, file)
    this.post({ type: 'prepare', id, request })
    return { batches: this.batches(id, file, signal), sha256: () => file.sha256 }
  }

  async dispose(): Promise<void> {
    this.worker.removeAllListeners('exit')
    await this.worker.terminate()
  }

  private async *batches(id: number, file: FileInFlight, signal: AbortSignal | undefined): AsyncGenerator<PreparedBatch> {
    try {
      for (;;) {
        const reply = file.replies.shift()
        if (reply === undefined) {
          if (this.failure) throw this.failure
          signal?.throwIfAborted()
          await new Promise<void>((resolve) => {
            const onAbort = (): void => resolve()
            signal?.addEventListener('abort', onAbort, { once: true })
            file.wake = () => {
              signal?.removeEventListener('abort', onAbort)
              resolve()
            }
          })
          file.wake = null
          continue
        }
        if (reply.type === 'batch') {
          this.post({ type: 'ack', id })
          yield reply.batch
        } else if (reply.type === 'done') {
          file.sha256 = reply.sha256
          return
        } else {
          // A bug in the worker keeps its stack as the cause, for the import's log.
          throw new UnreadableFileError(file.path, reply.reason, reply.stack === null ? {} : { cause: { stack: reply.stack } })
        }
      }
    } finally {
      this.files.delete(id)
    }
  }

  private fail(error: Error): void {
    this.failure ??= error
    for (const file of this.files.values()) file.wake?.()
  }

  private post(message: PreparerRequest): void {
    this.worker.postMessage(message)
  }
}

/** Several preparers taking files in turn (on a machine with cores to spare); the import still writes in order. */
export class PreparerPool implements SourcePreparer {
  readonly parallelism: number
  private readonly members: readonly SourcePreparer[]
  private next = 0

  constructor(members: readonly SourcePreparer[]) {
    if (members.length === 0) throw new RangeError('a preparer pool needs at least one member')
    this.members = members
    this.parallelism = members.reduce((sum, member) => sum + member.parallelism, 0)
  }

  prepare(request: PrepareRequest, signal?: AbortSignal): PreparedFile {
    const member = this.members[this.next++ % this.members.length] as SourcePreparer
    return member.prepare(request, signal)
  }

  async dispose(): Promise<void> {
    await Promise.all(this.members.map((member) => member.dispose()))
  }
}
