import { parentPort } from 'node:worker_threads'
import { quantize } from '../core/model/quantize/quantize.js'
import type { GgmlTypeName } from '../core/model/tensorTypes.js'

/** Quantizes chunks for QuantizePool: one request in, its bytes out (buffers transferred, not copied). */
if (!parentPort) throw new Error('quantizeWorker must run inside a worker thread')
const port = parentPort
port.on('message', (request: { id: number; type: GgmlTypeName; values: Float32Array }) => {
  try {
    const bytes = quantize(request.type, request.values)
    port.postMessage({ id: request.id, bytes }, [bytes.buffer as ArrayBuffer])
  } catch (error) {
    port.postMessage({ id: request.id, error: (error as Error).message })
  }
})
