import type { JobKind } from '../../../shared/types/jobs.js'
import type { JobHandler } from '../JobContext.js'
import { runClusterJob } from './clusterJob.js'
import { runComprehendJob } from './comprehendJob.js'
import { runDatasetJob } from './datasetJob.js'
import { runDemoJob } from './demoJob.js'
import { runEvalJob } from './evalJob.js'
import { runExportJob } from './exportJob.js'
import { runImportJob } from './importJob.js'
import { runTrainJob } from './trainJob.js'

/** Every job kind's handler. Imported only inside worker threads, so heavy modules stay off the main thread. */
export const JOB_HANDLERS: { [K in JobKind]: JobHandler<K> } = {
  demo: runDemoJob,
  train: runTrainJob,
  import: runImportJob,
  comprehend: runComprehendJob,
  cluster: runClusterJob,
  dataset: runDatasetJob,
  eval: runEvalJob,
  export: runExportJob,
}
