import { stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { LecternError } from '../../shared/errors.js'

/** A file every resources folder holds, used to recognise one. */
const MARKER = join('eval', 'general-text.jsonl')

/** The generic text of the general-text regression check (`{"text"}` per line), relative to the resources folder. */
export const GENERAL_TEXT_FILE = MARKER

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

/**
 * The folder of files shipped with Lectern (`resources/` in the repository), found the same way from the dev tree
 * (tsx), the bundle in `out/`, a worker thread and a packaged app:
 * 1. `LECTERN_RESOURCES_DIR`, when set (it must hold the files);
 * 2. the nearest folder above this module's own that holds `resources/eval/general-text.jsonl`;
 * 3. `process.resourcesPath/resources` in a packaged Electron app.
 */
export async function resolveResourcesDir(): Promise<string> {
  const fromEnv = process.env['LECTERN_RESOURCES_DIR']
  if (fromEnv !== undefined && fromEnv !== '') {
    const dir = resolve(fromEnv)
    if (await isFile(join(dir, MARKER))) return dir
    throw new LecternError('not_found', `LECTERN_RESOURCES_DIR is ${dir}, which holds no ${MARKER}`, { file: join(dir, MARKER) })
  }
  const tried: string[] = []
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'resources')
    tried.push(candidate)
    if (await isFile(join(candidate, MARKER))) return candidate
    if (dirname(dir) === dir) break
  }
  const packaged = (process as { resourcesPath?: string }).resourcesPath
  if (packaged !== undefined) {
    for (const candidate of [join(packaged, 'resources'), join(packaged, 'app.asar.unpacked', 'resources')]) {
      tried.push(candidate)
      if (await isFile(join(candidate, MARKER))) return candidate
    }
  }
  throw new LecternError('not_found', `Lectern's resources folder is missing: no ${MARKER} in ${tried.join(', ')}; reinstall Lectern or set LECTERN_RESOURCES_DIR`)
}

/** A file of the resources folder, e.g. `resourcePath(GENERAL_TEXT_FILE)`. */
export async function resourcePath(relative: string): Promise<string> {
  return join(await resolveResourcesDir(), relative)
}
