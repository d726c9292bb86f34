import { resolveTrainSettings, runTraining, type ResolvedTrainSettings, type TrainRunResult } from '../../src-main/core/train/trainRun.js'
import { trainParamsSchema, type TrainParamsInput } from '../../src-main/shared/types/train.js'

/**
 * Trains `params` into `runDir` of the project `projectDir` to the end, on one thread, with no hooks watched (no
 * logs, progress, steps or checkpoints) and no resume: the tiny training run a test needs as its input.
 */
export async function trainQuietly(projectDir: string, runDir: string, params: TrainParamsInput): Promise<{ settings: ResolvedTrainSettings; result: TrainRunResult }> {
  const settings = resolveTrainSettings(trainParamsSchema.parse(params), projectDir)
  const result = await runTraining(projectDir, runDir, settings, null, {
    signal: new AbortController().signal,
    threads: 1,
    log: () => {},
    progress: () => {},
    onStep: () => {},
    onCheckpoint: () => {},
  })
  return { settings, result }
}
