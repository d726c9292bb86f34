import { join } from 'node:path'
import { LecternError } from '../../../shared/errors.js'
import { resolveTrainSettings, runTraining, type TrainRunResult } from '../../train/trainRun.js'
import { trainRunDir } from '../../train/trainRuns.js'
import type { JobHandler } from '../JobContext.js'

interface TrainJobCheckpoint {
  /** Relative to the run folder. */
  checkpoint: string
  step: number
}

function readCheckpoint(value: unknown): TrainJobCheckpoint | null {
  if (value === null || value === undefined) return null
  const c = value as Partial<TrainJobCheckpoint>
  if (typeof c.checkpoint !== 'string' || typeof c.step !== 'number') throw new LecternError('invalid_argument', 'The training job checkpoint is malformed; start a new run')
  return { checkpoint: c.checkpoint, step: c.step }
}

export const runTrainJob: JobHandler<'train'> = async (context): Promise<TrainRunResult> => {
  const settings = resolveTrainSettings(context.params, context.projectDir)
  const runDir = trainRunDir(context.projectDir, context.jobId)
  const resume = readCheckpoint(context.checkpoint)
  return runTraining(context.projectDir, runDir, settings, resume ? join(runDir, resume.checkpoint) : null, {
    signal: context.signal,
    threads: context.threads,
    log: context.log,
    progress: context.progress,
    onStep: (metrics) => context.metrics({ ...metrics }),
    onCheckpoint: (dir, step) => context.saveCheckpoint({ checkpoint: dir.slice(runDir.length + 1), step } satisfies TrainJobCheckpoint),
    knownExecutionProviders: context.knownExecutionProviders,
  })
}
