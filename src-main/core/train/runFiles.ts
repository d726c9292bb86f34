import { readFile, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { TrainStepMetrics } from '../../shared/types/train.js'
import type { TrainCheckpointInfo } from '../../shared/types/trainPlan.js'
import { listCheckpoints } from './checkpoints.js'
import { METRICS_FILE } from './trainRun.js'

/**
 * The per-step metrics a run wrote to `metrics.jsonl`, in step order; empty before the first step. A line cut
 * short by a crash (the last one) is skipped, and a resumed run's repeated steps keep their newest record.
 */
export async function readRunMetrics(runDir: string): Promise<TrainStepMetrics[]> {
  const text = await readFile(join(runDir, METRICS_FILE), 'utf8').catch(() => '')
  const byStep = new Map<number, TrainStepMetrics>()
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      const record = JSON.parse(line) as TrainStepMetrics
      if (typeof record.step === 'number') byStep.set(record.step, record)
    } catch {
      // An unfinished last line: the step is written again on resume.
    }
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step)
}

/** The run's complete checkpoints, newest first. */
export async function listRunCheckpoints(runDir: string): Promise<TrainCheckpointInfo[]> {
  const dirs = await listCheckpoints(runDir)
  const infos = await Promise.all(
    dirs.map(async (dir) => {
      const info = await stat(dir).catch(() => null)
      return info === null ? null : { step: Number(basename(dir).slice('step-'.length)), dir, writtenAtMs: Math.round(info.mtimeMs) }
    }),
  )
  return infos.filter((c): c is TrainCheckpointInfo => c !== null).sort((a, b) => b.step - a.step)
}
