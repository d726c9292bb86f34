import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LecternError } from '../../shared/errors.js'
import { loadTensors, saveTensors, type NamedTensor } from './tensorFiles.js'

export const CHECKPOINTS_DIR = 'checkpoints'
const ADAPTER_FILE = 'adapter.safetensors'
const OPTIMIZER_FILE = 'optimizer.safetensors'
const STATE_FILE = 'state.json'
const PARTIAL_SUFFIX = '.partial'

/** What a checkpoint holds: adapter weights, AdamW moments, and the trainer's own JSON state (step, data cursor…). */
export interface Checkpoint<State> {
  params: Map<string, NamedTensor>
  firstMoments: Map<string, NamedTensor>
  secondMoments: Map<string, NamedTensor>
  state: State
}

const checkpointName = (step: number): string => `step-${String(step).padStart(7, '0')}`

/**
 * Writes the checkpoint of `step` under `<runDir>/checkpoints/step-NNNNNNN`: everything goes into a
 * `.partial` folder first, renamed only when complete, so a crash never leaves a half checkpoint under a real
 * name. Keeps the newest `keep` checkpoints. Returns the folder.
 */
export async function saveCheckpoint<State>(runDir: string, step: number, checkpoint: Checkpoint<State>, keep = 2): Promise<string> {
  const root = join(runDir, CHECKPOINTS_DIR)
  const finalDir = join(root, checkpointName(step))
  const partialDir = finalDir + PARTIAL_SUFFIX
  await rm(partialDir, { recursive: true, force: true })
  await mkdir(partialDir, { recursive: true })
  await saveTensors(join(partialDir, ADAPTER_FILE), checkpoint.params)
  const moments = new Map<string, NamedTensor>()
  for (const [name, t] of checkpoint.firstMoments) moments.set(`m/${name}`, t)
  for (const [name, t] of checkpoint.secondMoments) moments.set(`v/${name}`, t)
  await saveTensors(join(partialDir, OPTIMIZER_FILE), moments)
  await writeFile(join(partialDir, STATE_FILE), JSON.stringify(checkpoint.state, null, 1))
  await rm(finalDir, { recursive: true, force: true })
  await rename(partialDir, finalDir)
  const older = (await listCheckpoints(runDir)).slice(0, -keep)
  for (const dir of older) await rm(dir, { recursive: true, force: true })
  return finalDir
}

/** Complete checkpoints of a run, oldest first. */
export async function listCheckpoints(runDir: string): Promise<string[]> {
  const root = join(runDir, CHECKPOINTS_DIR)
  const names = await readdir(root).catch(() => [] as string[])
  return names.filter((n) => /^step-\d+$/.test(n)).sort().map((n) => join(root, n))
}

export async function loadCheckpoint<State>(dir: string): Promise<Checkpoint<State>> {
  try {
    const params = (await loadTensors(join(dir, ADAPTER_FILE))).tensors
    const moments = (await loadTensors(join(dir, OPTIMIZER_FILE))).tensors
    const pick = (prefix: string): Map<string, NamedTensor> =>
      new Map([...moments].filter(([name]) => name.startsWith(prefix)).map(([name, t]) => [name.slice(prefix.length), t]))
    const state = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as State
    return { params, firstMoments: pick('m/'), secondMoments: pick('v/'), state }
  } catch (error) {
    if (error instanceof LecternError) throw error
    throw new LecternError('invalid_argument', `Checkpoint ${dir} cannot be read (${(error as Error).message})`, { file: dir })
  }
}
