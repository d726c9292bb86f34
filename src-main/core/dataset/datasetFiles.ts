import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { LecternError } from '../../shared/errors.js'
import type { DatasetSummary } from '../../shared/types/comprehension.js'
import { PROJECT_TRAINING_DATA } from '../train/trainRun.js'

/** The project's dataset folder: train.jsonl (what `lectern train` reads), the held-out files and the build summary. */
export function projectDatasetDir(projectDir: string): string {
  return join(projectDir, dirname(PROJECT_TRAINING_DATA))
}

/** What the last build reported, as the API returns it. */
export const DATASET_BUILD_FILE = 'build.json'

export async function readDatasetSummary(projectDir: string): Promise<DatasetSummary | null> {
  const file = join(projectDatasetDir(projectDir), DATASET_BUILD_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new LecternError('io', `${file}: cannot read the dataset summary (${(error as Error).message})`, { file, cause: error })
  }
  try {
    return JSON.parse(text) as DatasetSummary
  } catch (error) {
    throw new LecternError('invalid_argument', `${file}: the dataset summary is not valid JSON; rebuild the dataset`, { file, cause: error })
  }
}
