import type { MessagePort } from 'node:worker_threads'
import { quantize } from '../model/quantize/quantize.js'
import type { GgmlTypeName } from '../model/tensorTypes.js'

/** Quantizes chunks for QuantizePool on this worker thread: one request in, its bytes out (buffers transferred, not copied). */
export function serveQuantizer(port: MessagePort): void {
  port.on('message', (request: { id: number; type: GgmlTypeName; values: Float32Array }) => {
    try {
      const bytes = quantize(request.type, request.values)
      port.postMessage({ id: request.id, bytes }, [bytes.buffer as ArrayBuffer])
    } catch (error) {
      port.postMessage({ id: request.id, error: (error as Error).message })
    }
  })
}
