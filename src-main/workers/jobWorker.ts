import { parentPort } from 'node:worker_threads'
import { serveJobWorker } from '../core/jobs/serveJobWorker.js'

if (!parentPort) throw new Error('jobWorker must run inside a worker thread')
serveJobWorker(parentPort)
