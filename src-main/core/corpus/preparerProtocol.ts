import type { PreparedBatch } from './prepareDocuments.js'
import type { PreparerConfig, PrepareRequest } from './SourcePreparer.js'

/** Messages between an import (WorkerPreparer) and its preparation worker (serveSourcePreparer). */
export type PreparerRequest =
  | { type: 'configure'; config: PreparerConfig }
  | { type: 'prepare'; id: number; request: PrepareRequest }
  /** The import took one batch of file `id`. */
  | { type: 'ack'; id: number }

export type PreparerReply =
  | { type: 'batch'; id: number; batch: PreparedBatch }
  | { type: 'done'; id: number; sha256: string | null }
  /** `stack` is set when the error is a bug rather than a property of the file. */
  | { type: 'failed'; id: number; reason: string; stack: string | null }
