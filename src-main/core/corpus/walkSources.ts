import { lstat, readdir, realpath, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'

export type WalkedSource =
  | { kind: 'file'; path: string; sizeBytes: number; mtimeMs: number }
  | { kind: 'problem'; path: string; status: 'failed' | 'skipped'; reason: string }

export interface WalkSourcesOptions {
  signal?: AbortSignal | undefined
}

function describeFsError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'not found (removed, or a broken link)'
    case 'ELOOP':
      return 'symbolic link loop'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    default:
      return `cannot read (${error.code ?? error.message})`
  }
}

/**
 * Every file under the given paths, depth first, in name order (so two runs over the same tree see the same
 * sequence, which keeps duplicate decisions reproducible). Links are followed; a folder reached twice
 * through links is visited once, and a link loop is reported, not followed. Hidden files and folders
 * (".git", ".DS_Store") are passed over.
 */
export async function* walkSources(paths: readonly string[], options: WalkSourcesOptions = {}): AsyncGenerator<WalkedSource> {
  const visitedFolders = new Set<string>()
  for (const path of paths) yield* walkPath(resolve(path), visitedFolders, options, true)
}

async function* walkPath(path: string, visitedFolders: Set<string>, options: WalkSourcesOptions, explicit: boolean): AsyncGenerator<WalkedSource> {
  options.signal?.throwIfAborted()
  let info
  try {
    info = await stat(path)
  } catch (error) {
    const fsError = error as NodeJS.ErrnoException
    // A dangling link inside a folder is reported as such; a path the user typed that does not exist too.
    const isLink = await lstat(path).then((l) => l.isSymbolicLink(), () => false)
    let reason = describeFsError(fsError)
    if (fsError.code === 'ENOENT') reason = isLink ? 'broken symbolic link' : explicit ? 'no such file or folder' : 'the file disappeared during the import'
    yield { kind: 'problem', path, status: 'failed', reason }
    return
  }
  if (info.isDirectory()) {
    const real = await realpath(path).catch(() => path)
    if (visitedFolders.has(real)) {
      yield { kind: 'problem', path, status: 'skipped', reason: `folder already imported through another path (${real})` }
      return
    }
    visitedFolders.add(real)
    let names: string[]
    try {
      names = (await readdir(path)).sort()
    } catch (error) {
      yield { kind: 'problem', path, status: 'failed', reason: describeFsError(error as NodeJS.ErrnoException) }
      return
    }
    for (const name of names) {
      if (name.startsWith('.')) continue
      yield* walkPath(join(path, name), visitedFolders, options, false)
    }
    return
  }
  if (!info.isFile()) {
    yield { kind: 'problem', path, status: 'skipped', reason: 'not a regular file (device, socket or pipe)' }
    return
  }
  yield { kind: 'file', path, sizeBytes: info.size, mtimeMs: Math.floor(info.mtimeMs) }
}
