import type { MessagePort } from 'node:worker_threads'
import { serveWorkerCalls } from '../jobs/WorkerCalls.js'
import { quantize } from '../model/quantize/quantize.js'
import type { GgmlTypeName } from '../model/tensorTypes.js'

/** One chunk for a quantize worker: `values` arrive transferred, not copied. */
export interface QuantizeRequest {
  type: GgmlTypeName
  values: Float32Array
}

/** Quantizes chunks for QuantizePool on this worker thread: one request in, its bytes out (transferred, not copied). */
export function serveQuantizer(port: MessagePort): void {
  serveWorkerCalls<QuantizeRequest, Uint8Array>(port, ({ type, values }) => quantize(type, values), (bytes) => [bytes.buffer as ArrayBuffer])
}
