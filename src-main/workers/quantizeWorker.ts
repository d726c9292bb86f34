import { parentPort } from 'node:worker_threads'
import { serveQuantizer } from '../core/modelFiles/serveQuantizer.js'

if (!parentPort) throw new Error('quantizeWorker must run inside a worker thread')
serveQuantizer(parentPort)
