/**
 * What the built renderer (`out/renderer`) ships: each JS and CSS file with its raw and gzip size, and whether
 * the page loads it at start (named by index.html as its entry script, a module preload or a stylesheet, or
 * imported statically by such a script) or only later (a dynamic `import()`, such as the charting library).
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { gzipSync } from 'node:zlib'

export type AssetKind = 'js' | 'css' | 'other'

export interface BundleAsset {
  /** Path under the renderer folder, with forward slashes (`assets/index-abc.js`). */
  path: string
  kind: AssetKind
  /** True when the page fetches it before the app can run; false for a lazily imported chunk. */
  initial: boolean
  rawBytes: number
  /** gzip level 9, as a server or an installer's compression would roughly see it. */
  gzipBytes: number
}

/**
 * Bytes of an unminified chunk by where they came from, read from the `// path` comment the bundler writes above
 * each module: `node_modules/<package>` by package, the app's screens by folder (`src-renderer/src/screens/Train`),
 * other own files by their first two folders (`src-renderer/src`, `src-main/shared`). Empty for a minified chunk, which has no such comments.
 */
export function sourceBreakdown(code: string): Map<string, number> {
  const bytes = new Map<string, number>()
  let origin = '(chunk prelude)'
  for (const line of code.split('\n')) {
    const comment = /^\/\/ (\S+\.\w+)$/.exec(line)?.[1]
    if (comment) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(comment)?.[1]
      const ownFolder = comment.startsWith('src-renderer/src/screens/') ? comment.split('/').slice(0, 4).join('/') : comment.split('/').slice(0, 2).join('/')
      origin = pkg ?? (comment.startsWith('\\0') ? '(bundler helpers)' : ownFolder)
    }
    bytes.set(origin, (bytes.get(origin) ?? 0) + line.length + 1)
  }
  return bytes
}

export interface BundleReport {
  dir: string
  assets: BundleAsset[]
  /** The sums over `assets` of one kind and loading. */
  total(kind: AssetKind, initial: boolean): { rawBytes: number; gzipBytes: number }
}

const kindOf = (path: string): AssetKind => (path.endsWith('.js') ? 'js' : path.endsWith('.css') ? 'css' : 'other')

/** `src` / `href` attributes of index.html's scripts and of its stylesheet and modulepreload links. */
function htmlReferences(html: string): string[] {
  const refs: string[] = []
  for (const match of html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)) refs.push(match[1]!)
  for (const match of html.matchAll(/<link\b[^>]*>/g)) {
    const tag = match[0]
    if (!/\brel="(?:stylesheet|modulepreload)"/.test(tag)) continue
    const href = /\bhref="([^"]+)"/.exec(tag)?.[1]
    if (href && !href.startsWith('data:')) refs.push(href)
  }
  return refs
}

/** Relative specifiers a minified chunk imports statically (`import{a}from"./x.js"`, `import"./y.js"`, `export{b}from"./z.js"`). */
function staticImports(code: string): string[] {
  const specs: string[] = []
  for (const match of code.matchAll(/\b(?:import\s*(?:[\w$*{}\s,]+?\s*from\s*)?|export\s*[\w$*{}\s,]+?\s*from\s*)["'](\.{1,2}\/[^"']+)["']/g)) specs.push(match[1]!)
  return specs
}

const normalize = (path: string): string => posix.normalize(path.replace(/^\.\//, ''))

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true })
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? listFiles(dir, posix.join(prefix, entry.name)) : Promise.resolve([posix.join(prefix, entry.name)]))),
  )
  return nested.flat()
}

/** Reads `dir` (a built renderer holding index.html) and sorts its JS and CSS into initial and lazy. */
export async function readBundleReport(dir: string): Promise<BundleReport> {
  const html = await readFile(join(dir, 'index.html'), 'utf8')
  const files = (await listFiles(dir)).filter((path) => kindOf(path) !== 'other')
  const contents = new Map(await Promise.all(files.map(async (path) => [path, await readFile(join(dir, path))] as const)))

  const initial = new Set<string>()
  const pending = htmlReferences(html).map(normalize)
  while (pending.length > 0) {
    const path = pending.pop()!
    if (initial.has(path) || !contents.has(path)) continue
    initial.add(path)
    if (kindOf(path) === 'js') {
      for (const spec of staticImports(contents.get(path)!.toString('utf8'))) pending.push(normalize(posix.join(posix.dirname(path), spec)))
    }
  }

  const assets: BundleAsset[] = files
    .map((path) => {
      const bytes = contents.get(path)!
      return { path, kind: kindOf(path), initial: initial.has(path), rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length }
    })
    .sort((a, b) => Number(b.initial) - Number(a.initial) || a.kind.localeCompare(b.kind) || b.rawBytes - a.rawBytes)

  return {
    dir,
    assets,
    total: (kind, isInitial) =>
      assets
        .filter((a) => a.kind === kind && a.initial === isInitial)
        .reduce((sum, a) => ({ rawBytes: sum.rawBytes + a.rawBytes, gzipBytes: sum.gzipBytes + a.gzipBytes }), { rawBytes: 0, gzipBytes: 0 }),
  }
}
