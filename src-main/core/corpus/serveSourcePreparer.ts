import type { MessagePort } from 'node:worker_threads'
import { describeImportError, isUnexpectedImportError } from './describeImportError.js'
import { transferablesOf } from './prepareDocuments.js'
import type { PreparerReply, PreparerRequest } from './preparerProtocol.js'
import { InThreadPreparer, type PrepareRequest } from './SourcePreparer.js'
import { tokenCounterForModel } from './tokenCounterForModel.js'

/** Batches a file may have in flight before the import takes them. */
const MAX_UNTAKEN_BATCHES = 2

/** Body of a preparation worker thread: prepares the files it is asked for, one after another, in order. */
export function serveSourcePreparer(port: MessagePort): void {
  let preparer: Promise<InThreadPreparer> | null = null
  const queue: { id: number; request: PrepareRequest }[] = []
  const untaken = new Map<number, number>()
  let wakeSender: (() => void) | null = null
  let running = false
  const post = (reply: PreparerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer)

  const run = async (): Promise<void> => {
    if (running || preparer === null) return
    running = true
    let ready: InThreadPreparer
    try {
      ready = await preparer
    } catch (error) {
      for (const { id } of queue.splice(0)) post({ type: 'failed', id, reason: describeImportError(error), stack: null })
      running = false
      return
    }
    while (queue.length > 0) {
      const { id, request } = queue.shift()!
      untaken.set(id, 0)
      try {
        const file = ready.prepare(request)
        for await (const batch of file.batches) {
          while ((untaken.get(id) ?? 0) >= MAX_UNTAKEN_BATCHES) await new Promise<void>((resolve) => (wakeSender = resolve))
          untaken.set(id, (untaken.get(id) ?? 0) + 1)
          post({ type: 'batch', id, batch }, transferablesOf(batch.documents))
        }
        post({ type: 'done', id, sha256: file.sha256() })
      } catch (error) {
        post({ type: 'failed', id, reason: describeImportError(error), stack: isUnexpectedImportError(error) ? ((error as Error).stack ?? null) : null })
      }
      untaken.delete(id)
    }
    running = false
  }

  port.on('message', (message: PreparerRequest) => {
    if (message.type === 'configure') {
      const { config } = message
      preparer = (config.settings.tokenizerModel === null ? Promise.resolve(undefined) : tokenCounterForModel(config.settings.tokenizerModel)).then(
        (countTokens) => new InThreadPreparer(config, countTokens),
      )
    } else if (message.type === 'prepare') {
      queue.push({ id: message.id, request: message.request })
    } else {
      untaken.set(message.id, Math.max(0, (untaken.get(message.id) ?? 1) - 1))
      wakeSender?.()
      wakeSender = null
    }
    void run()
  })
}
