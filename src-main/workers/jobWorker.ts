import { parentPort, workerData } from 'node:worker_threads'
import { serveSourcePreparer } from '../core/corpus/serveSourcePreparer.js'
import { serveJobWorker } from '../core/jobs/serveJobWorker.js'
import { serveQuantizer } from '../core/modelFiles/serveQuantizer.js'
import { serveTrainPlanner } from '../core/train/serveTrainPlanner.js'
import type { JobWorkerData } from '../core/jobs/workerProtocol.js'

if (!parentPort) throw new Error('jobWorker must run inside a worker thread')
const data = (workerData ?? null) as JobWorkerData | null
if (data?.role === 'corpusPreparer') serveSourcePreparer(parentPort)
else if (data?.role === 'quantizer') serveQuantizer(parentPort)
else if (data?.role === 'trainPlanner') serveTrainPlanner(parentPort)
else serveJobWorker(parentPort, data)
