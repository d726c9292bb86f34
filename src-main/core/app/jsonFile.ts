import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { z } from 'zod'

export interface ReadJsonFileResult<T> {
  value: T
  /** Set when the file existed but could not be used; it was moved aside to this path, never deleted. */
  movedAsideTo: string | null
}

/**
 * Reads a small JSON settings file. A missing file gives `fallback`; a damaged one is renamed to
 * `<file>.damaged-<time>` so the user's data is kept for inspection, and `fallback` is used.
 */
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S, fallback: z.output<S>): Promise<ReadJsonFileResult<z.output<S>>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { value: fallback, movedAsideTo: null }
    throw error
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  const result = schema.safeParse(parsed)
  if (result.success) return { value: result.data, movedAsideTo: null }
  const aside = `${path}.damaged-${Date.now()}`
  await rename(path, aside)
  return { value: fallback, movedAsideTo: aside }
}

/** Writes through a temporary file and a rename, so a crash never leaves half a file. */
export async function writeJsonFileAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, JSON.stringify(value, null, 2) + '\n', 'utf8')
  await rename(temporary, path)
}
