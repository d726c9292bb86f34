import type { MessagePort } from 'node:worker_threads'
import type { TrainParams } from '../../shared/types/train.js'
import type { TrainPlanInfo } from '../../shared/types/trainPlan.js'
import { serveWorkerCalls } from '../jobs/WorkerCalls.js'
import { TrainPlanner } from './TrainPlanner.js'

export interface TrainPlanRequest {
  projectDir: string
  params: TrainParams
}

/** Body of the training planner thread: one TrainPlanner for the thread's life, so its caches serve every plan. */
export function serveTrainPlanner(port: MessagePort): void {
  const planner = new TrainPlanner()
  serveWorkerCalls<TrainPlanRequest, TrainPlanInfo>(port, ({ projectDir, params }) => planner.plan(projectDir, params))
}
