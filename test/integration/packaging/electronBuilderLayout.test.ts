// Packages the app with build/electron-builder.yml for `--linux dir` and checks what lands where.
// There is no Electron binary on our machines (specs/toolchain.md §2), so electronDist points at a stand-in
// `electron` executable: the result can't run, but its app.asar, app.asar.unpacked and extra resources are the
// real thing. npmRebuild is off because a native rebuild here either deletes better-sqlite3's build or silently
// compiles it for Node's ABI (specs/toolchain.md §4); the test also checks that none happened.
import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
/** Packaging copies about 750 MB; it takes 10-20 s on a 2-core machine, more when other tests run beside it. */
const PACKAGE_TIMEOUT_MS = 240_000
/** electron-builder's arch names match Node's for the arches we ship (x64, arm64). */
const arch = process.arch
const target = `linux-${arch}`

interface AsarEntry {
  sizeBytes: number
  /** Offset of the file's bytes after the header; absent for unpacked files. */
  offset: number | undefined
  unpacked: boolean
}

interface AsarHeaderNode {
  files?: Record<string, AsarHeaderNode>
  size?: number
  offset?: string
  unpacked?: boolean
  link?: string
}

interface AsarIndex {
  file: string
  /** Where file data starts: 8 bytes of size pickle plus the header pickle. */
  dataStart: number
  /** Every file and link, keyed by its path inside the archive ('/'-separated). */
  entries: Map<string, AsarEntry>
}

/**
 * Reads an asar archive's index. The format is a pickle holding one UInt32 (the header pickle's size), then the
 * header pickle: payload size, string length, and the JSON tree of `{ files: { name: node } }`.
 */
async function readAsarIndex(file: string): Promise<AsarIndex> {
  const handle = await open(file, 'r')
  try {
    const prefix = Buffer.alloc(16)
    await handle.read(prefix, 0, 16, 0)
    if (prefix.readUInt32LE(0) !== 4) throw new Error(`${file}: not an asar archive (size pickle is ${prefix.readUInt32LE(0)} bytes, expected 4)`)
    const headerPickleBytes = prefix.readUInt32LE(4)
    const jsonBytes = prefix.readUInt32LE(12)
    const json = Buffer.alloc(jsonBytes)
    await handle.read(json, 0, jsonBytes, 16)
    const entries = new Map<string, AsarEntry>()
    const walk = (node: AsarHeaderNode, prefixPath: string): void => {
      for (const [name, child] of Object.entries(node.files ?? {})) {
        const path = prefixPath === '' ? name : `${prefixPath}/${name}`
        if (child.files) walk(child, path)
        else entries.set(path, { sizeBytes: child.size ?? 0, offset: child.offset === undefined ? undefined : Number(child.offset), unpacked: child.unpacked === true })
      }
    }
    walk(JSON.parse(json.toString('utf8')) as AsarHeaderNode, '')
    return { file, dataStart: 8 + headerPickleBytes, entries }
  } finally {
    await handle.close()
  }
}

async function readAsarFile(index: AsarIndex, path: string): Promise<Buffer> {
  const entry = index.entries.get(path)
  if (entry?.offset === undefined) throw new Error(`${index.file}: ${path} is not packed in the archive`)
  const handle = await open(index.file, 'r')
  try {
    const bytes = Buffer.alloc(entry.sizeBytes)
    await handle.read(bytes, 0, entry.sizeBytes, index.dataStart + entry.offset)
    return bytes
  } finally {
    await handle.close()
  }
}

/** Every regular file under `dir`, as '/'-separated relative path to size; symlinks are not followed. */
async function listFiles(dir: string): Promise<Map<string, number>> {
  const files = new Map<string, number>()
  const walk = async (relative: string): Promise<void> => {
    for (const dirent of await readdir(join(dir, relative), { withFileTypes: true })) {
      const path = relative === '' ? dirent.name : `${relative}/${dirent.name}`
      if (dirent.isDirectory()) await walk(path)
      else if (dirent.isFile()) files.set(path, (await stat(join(dir, path))).size)
    }
  }
  await walk('')
  return files
}

/**
 * The native binary folders the config keeps for this target, relative to node_modules: they hold every
 * addon and shared library that node-llama-cpp and onnxruntime-node load on linux-<arch>.
 */
async function nativeBinaryDirs(): Promise<string[]> {
  const nodeModules = join(root, 'node_modules')
  const matching = async (parent: string): Promise<string[]> =>
    (await readdir(join(nodeModules, parent)).catch(() => [] as string[])).filter((name) => name.startsWith(target)).map((name) => `${parent}/${name}`)
  const llamaPackages = await matching('@node-llama-cpp')
  return [
    `onnxruntime-node/bin/napi-v6/linux/${arch}`,
    ...(await matching('node-llama-cpp/bins')),
    ...(await matching('node-llama-cpp/llama/localBuilds')),
    ...llamaPackages.map((pkg) => `${pkg}/bins`),
  ]
}

/**
 * The environment for electron-builder. None of npm's settings, so a rebuild could never pick up `nodedir`
 * (exported when tests run through an npm script), and no VITEST variables, which make electron-builder drop
 * everything but errors from its log.
 */
function builderEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|vitest)/i.test(key)))
  return { ...env, NPM_CONFIG_USERCONFIG: '/dev/null' }
}

describe.skipIf(process.platform !== 'linux')(`electron-builder --linux dir (${target})`, () => {
  let tempDir = ''
  let resources = ''
  let asar: AsarIndex
  let unpacked = new Map<string, number>()
  let builderLog = ''
  let sqliteBefore: { bytes: Buffer; mtimeMs: number }
  const sqliteAddon = join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')

  beforeAll(async () => {
    tempDir = await mkdtemp(join(tmpdir(), 'lectern-pack-'))
    const electronDist = join(tempDir, 'electron-dist')
    await mkdir(electronDist)
    const standIn = join(electronDist, 'electron')
    await writeFile(standIn, '#!/bin/sh\necho "stand-in Electron for packaging layout checks; it cannot run the app" >&2\nexit 1\n')
    await chmod(standIn, 0o755)
    const outDir = join(tempDir, 'dist')
    sqliteBefore = { bytes: await readFile(sqliteAddon), mtimeMs: (await stat(sqliteAddon)).mtimeMs }

    const args = [
      join(root, 'node_modules/.bin/electron-builder'),
      ...['--config', 'build/electron-builder.yml', '--linux', 'dir'],
      `-c.electronDist=${electronDist}`,
      '-c.npmRebuild=false',
      `-c.directories.output=${outDir}`,
    ]
    const result = await promisify(execFile)(process.execPath, args, {
      cwd: root,
      env: builderEnv(),
      timeout: PACKAGE_TIMEOUT_MS - 10_000,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`electron-builder failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`)
    })
    builderLog = result.stdout + result.stderr

    resources = join(outDir, 'linux-unpacked', 'resources')
    asar = await readAsarIndex(join(resources, 'app.asar'))
    unpacked = await listFiles(join(resources, 'app.asar.unpacked'))
  }, PACKAGE_TIMEOUT_MS)

  afterAll(async () => {
    if (tempDir !== '') await rm(tempDir, { recursive: true, force: true })
  })

  it('ran no native rebuild and left the Node build of better-sqlite3 untouched', async () => {
    expect(builderLog).toContain('skipped dependencies rebuild')
    expect((await stat(sqliteAddon)).mtimeMs).toBe(sqliteBefore.mtimeMs)
    const shipped = await readFile(join(resources, 'app.asar.unpacked/node_modules/better-sqlite3/build/Release/better_sqlite3.node'))
    expect(shipped.equals(sqliteBefore.bytes), 'packed better_sqlite3.node differs from node_modules').toBe(true)
  })

  it('packs the whole electron-vite build, the CLI launcher and package.json, and no project sources', async () => {
    const paths = [...asar.entries.keys()]
    expect(new Set(paths.map((path) => path.split('/')[0]))).toEqual(new Set(['bin', 'node_modules', 'out', 'package.json']))
    for (const path of ['out/main/index.js', 'out/main/cli.js', 'out/preload/index.cjs', 'out/renderer/index.html', 'bin/lectern.js', 'package.json']) {
      expect(asar.entries.get(path), path).toMatchObject({ unpacked: false })
    }
    expect(paths.some((path) => /^out\/main\/chunks\/jobWorker-[^/]+\.js$/.test(path)), 'job worker chunk').toBe(true)
    // Everything electron-vite built, byte for byte in size (a lost chunk would only fail at run time).
    for (const [path, sizeBytes] of await listFiles(join(root, 'out'))) {
      expect(asar.entries.get(`out/${path}`)?.sizeBytes, `out/${path}`).toBe(sizeBytes)
    }
    const manifest = JSON.parse((await readAsarFile(asar, 'package.json')).toString('utf8')) as { main?: string }
    expect(manifest.main).toBe('out/main/index.js')
    expect(paths.filter((path) => /^(src-main|src-renderer|test|build|resources)\//.test(path) || path.endsWith('.map'))).toEqual([])
  })

  it(`unpacks every ${target} native addon and library of better-sqlite3, onnxruntime-node and node-llama-cpp`, async () => {
    const expected = new Map<string, number>()
    expected.set('node_modules/better-sqlite3/build/Release/better_sqlite3.node', sqliteBefore.bytes.length)
    const dirs = await nativeBinaryDirs()
    expect(dirs.some((dir) => dir.startsWith('@node-llama-cpp/')), 'no @node-llama-cpp package for this target is installed').toBe(true)
    for (const dir of dirs) {
      for (const [path, sizeBytes] of await listFiles(join(root, 'node_modules', dir))) expected.set(`node_modules/${dir}/${path}`, sizeBytes)
    }
    expect([...expected.keys()].filter((path) => path.endsWith('.node')).length).toBeGreaterThanOrEqual(3)
    expect([...expected.keys()]).toContain(`node_modules/onnxruntime-node/bin/napi-v6/linux/${arch}/libonnxruntime.so.1`)

    for (const [path, sizeBytes] of expected) {
      expect(unpacked.get(path), `${path} in app.asar.unpacked`).toBe(sizeBytes)
      // Unpacked files keep a stub entry in the header; what matters is that their bytes are not in the archive.
      expect(asar.entries.get(path)?.unpacked ?? true, `${path} packed inside app.asar`).toBe(true)
    }
    const packedAddons = [...asar.entries].filter(([path, entry]) => path.endsWith('.node') && !entry.unpacked).map(([path]) => path)
    expect(packedAddons).toEqual([])
  })

  it('ships no binaries for other platforms or architectures, and none of better-sqlite3 sources', () => {
    const shipped = [...unpacked.keys(), ...asar.entries.keys()]
    const ortFolders = new Set(shipped.flatMap((path) => /onnxruntime-node\/bin\/napi-v6\/([^/]+\/[^/]+)\//.exec(path)?.[1] ?? []))
    expect([...ortFolders]).toEqual([`linux/${arch}`])
    const llamaFolders = new Set(shipped.flatMap((path) => /(?:node-llama-cpp\/(?:bins|llama\/localBuilds)|@node-llama-cpp\/[^/]+\/bins)\/([^/]+)\//.exec(path)?.[1] ?? []))
    expect(llamaFolders.size).toBeGreaterThan(0)
    expect([...llamaFolders].filter((folder) => !folder.startsWith(target))).toEqual([])
    expect(shipped.filter((path) => /\.(dll|dylib|exe)$/i.test(path) || /(win32|darwin)\//.test(path))).toEqual([])
    expect(shipped.filter((path) => /node_modules\/better-sqlite3\/(deps|src)\//.test(path) || path.endsWith('test_extension.node'))).toEqual([])
  })

  it('copies resources/ beside the archive, with the 256x256 window icon', async () => {
    const copied = await listFiles(join(resources, 'resources'))
    expect(copied).toEqual(await listFiles(join(root, 'resources')))
    const icon = await readFile(join(resources, 'resources/icon.png'))
    expect(icon.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true)
    expect(icon.subarray(12, 16).toString('ascii')).toBe('IHDR')
    expect([icon.readUInt32BE(16), icon.readUInt32BE(20)]).toEqual([256, 256])
  })
})
