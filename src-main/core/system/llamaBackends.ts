import { readdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { formatTimeout, PROBE_RESULT_MARKER, runProbeChild } from './probeChild.js'

/** The llama.cpp backends node-llama-cpp 3.21 can load: CPU, and one GPU API per prebuilt binary. */
export type LlamaBackendName = 'cpu' | 'cuda' | 'vulkan' | 'metal'

export const LLAMA_BACKENDS: readonly LlamaBackendName[] = ['cpu', 'cuda', 'vulkan', 'metal']

export const LLAMA_BACKEND_LABELS: Record<LlamaBackendName, string> = { cpu: 'CPU', cuda: 'CUDA', vulkan: 'Vulkan', metal: 'Metal' }

/** What the child found for one backend: everything the reason is built from, and nothing interpreted yet. */
export interface LlamaChildResult {
  /** `getLlamaGpuTypes('supported')`: node-llama-cpp's own check of drivers and libraries (`false` is the CPU). */
  supported: (string | false)[] | null
  load: { ok: true; gpu: string | false; deviceNames: string[]; vramTotalBytes: number; vramFreeBytes: number } | { ok: false; error: string }
  /** The loader's message for the backend library (`libggml-cuda.so: libcublas.so.13: cannot open…`); `null` when it loaded or was not tried. */
  loaderError: string | null
  /** llama.cpp's own warnings and errors while loading. */
  logs: string[]
}

/** One backend's probe as the parent saw it. */
export interface LlamaBackendObservation {
  backend: LlamaBackendName
  platform: NodeJS.Platform
  arch: string
  /** Whether node-llama-cpp offers this backend on this platform at all (`getLlamaGpuTypes('allValid')` and Metal's Apple-silicon rule). */
  validOnPlatform: boolean
  /** The prebuilt binary package, e.g. `@node-llama-cpp/linux-x64-cuda`, and whether it is installed. */
  binaryPackage: { name: string; installed: boolean } | null
  /** `null` when no child ran (not valid here, or no binary). */
  child: { result: LlamaChildResult | null; timedOut: boolean; timeoutMs: number; exit: string } | null
  /** Libraries the loader cannot find, from the library search; `details` says what each group is. */
  missing: { missing: string[]; details: string[] }
  /** Vulkan drivers (ICD manifests) found; `null` where not checked (not Linux, or not Vulkan). */
  vulkanIcds: string[] | null
}

export interface LlamaBackendVerdict {
  backend: LlamaBackendName
  available: boolean
  reason: string | null
  install: string | null
  missingLibraries: string[]
  devices: { name: string; vramTotalBytes: number | null }[]
}

/**
 * The verdict on one llama.cpp backend from what was observed: pure, so each wording is tested from fake
 * observations. A GPU backend is available only when its binary loaded with that GPU type and llama.cpp saw a
 * device; otherwise the reason names the first cause found in this order: not this platform, no binary, the
 * child hung or died, missing libraries (with the loader's own message), no Vulkan driver, no GPU found.
 */
export function llamaBackendVerdict(o: LlamaBackendObservation): LlamaBackendVerdict {
  const label = LLAMA_BACKEND_LABELS[o.backend]
  const base = { backend: o.backend, missingLibraries: o.missing.missing, devices: [] as LlamaBackendVerdict['devices'] }
  const no = (cause: string, install: string | null): LlamaBackendVerdict => ({ ...base, available: false, reason: `${label} is not available: ${cause}.`, install })
  const install = llamaInstallHint(o.backend, o.platform, o.arch, o.missing.missing)
  if (!o.validOnPlatform) {
    const where = o.backend === 'metal' ? 'llama.cpp uses Metal only on Macs with Apple silicon' : o.backend === 'cuda' ? 'NVIDIA CUDA does not run on macOS' : `node-llama-cpp has no ${label} build for it`
    return { ...base, available: false, reason: `${label} is not available on ${o.platform} ${o.arch}: ${where}.`, install: null }
  }
  if (o.binaryPackage !== null && !o.binaryPackage.installed) {
    return no(`its prebuilt binary package ${o.binaryPackage.name} is not installed`, `Reinstall the app (or run npm install without --omit=optional) so that ${o.binaryPackage.name} is present.`)
  }
  const child = o.child
  if (child === null) return no('it was not probed', install)
  const loaded = child.result?.load
  if (loaded?.ok === true && (o.backend === 'cpu' || loaded.gpu === o.backend)) {
    const devices = loaded.deviceNames.map((name) => ({ name, vramTotalBytes: loaded.vramTotalBytes > 0 ? loaded.vramTotalBytes : null }))
    if (o.backend === 'cpu' || devices.length > 0 || loaded.vramTotalBytes > 0) return { ...base, available: true, reason: null, install: null, devices }
    return no(`no GPU found: the ${label} build loaded but llama.cpp sees no ${label} device`, install)
  }
  if (child.timedOut) return no(`the probe did not finish within ${formatTimeout(child.timeoutMs)} and was stopped (a driver may be hanging)`, install)
  if (child.result === null) return no(`the probe process died (${child.exit})`, install)
  if (loaded?.ok === true) return no(`node-llama-cpp loaded the ${loaded.gpu === false ? 'CPU' : String(loaded.gpu)} build instead`, install)
  const parts: string[] = []
  if (o.missing.missing.length > 0) parts.push(`missing ${o.missing.details.join('; ')}`)
  const loaderError = child.result.loaderError
  if (loaderError !== null && !o.missing.missing.some((file) => loaderError.includes(file))) parts.push(`the loader says "${loaderError}"`)
  if (o.backend === 'vulkan' && o.vulkanIcds !== null && o.vulkanIcds.length === 0) parts.push('no Vulkan driver (ICD) is installed')
  const detected = child.result.supported
  if (parts.length === 0 && detected !== null && !detected.includes(o.backend)) parts.push(`node-llama-cpp found no ${label} driver or runtime on this machine`)
  if (parts.length === 0) parts.push(`the ${label} build failed to load (${loaded?.ok === false ? loaded.error : 'no result'})`)
  const logs = child.result.logs.filter((line) => !parts.some((part) => part.includes(line))).slice(0, 2)
  if (logs.length > 0) parts.push(`llama.cpp logged: ${logs.join(' | ')}`)
  return no(parts.join('; '), install)
}

/** What to install for a backend that is not usable; `null` where there is nothing to install on this platform. */
export function llamaInstallHint(backend: LlamaBackendName, platform: NodeJS.Platform, arch: string, missing: readonly string[]): string | null {
  if (backend === 'cpu') return null
  if (backend === 'metal') return platform === 'darwin' && arch === 'arm64' ? 'Metal is part of macOS; update macOS if it fails.' : null
  if (backend === 'cuda') {
    if (platform === 'darwin') return null
    const runtime = platform === 'win32' ? 'the CUDA Toolkit 12 or 13 (cudart64, cublas64 DLLs on PATH)' : 'the CUDA 13 runtime and cuBLAS (libcudart.so.13, libcublas.so.13, e.g. the cuda-cudart-13 and libcublas-13 packages) on the loader path'
    const driver = missing.includes('libcuda.so.1') || platform === 'win32' ? 'CUDA needs an NVIDIA GPU. Install its driver (it provides libcuda and nvml) and ' : 'Install '
    return `${driver}${runtime}.`
  }
  if (platform === 'linux') return 'Install the Vulkan loader (libvulkan1) and a Vulkan driver for your GPU (mesa-vulkan-drivers for AMD/Intel, or the NVIDIA driver).'
  if (platform === 'win32') return 'Install or update your GPU driver; it provides vulkan-1.dll.'
  return 'Install the Vulkan loader (MoltenVK) to use Vulkan on macOS; Metal is the native GPU path there.'
}

/** What each llama.cpp GPU backend needs on Linux (from the NEEDED entries of node-llama-cpp 3.21.1's prebuilt libggml-*.so). */
export const LLAMA_LINUX_LIBRARIES: Record<'cuda' | 'vulkan', { file: string; what: string; where: 'system' }[]> = {
  cuda: [
    { file: 'libcuda.so.1', what: 'the NVIDIA driver', where: 'system' },
    { file: 'libcudart.so.13', what: 'CUDA 13 runtime', where: 'system' },
    { file: 'libcublas.so.13', what: 'cuBLAS, CUDA 13', where: 'system' },
    { file: 'libcublasLt.so.13', what: 'cuBLAS, CUDA 13', where: 'system' },
  ],
  vulkan: [{ file: 'libvulkan.so.1', what: 'the Vulkan loader', where: 'system' }],
}

/** Vulkan ICD manifests: the drivers the Vulkan loader would offer (VK_DRIVER_FILES / VK_ICD_FILENAMES override the search). */
export async function findVulkanIcds(): Promise<string[]> {
  const override = process.env['VK_DRIVER_FILES'] ?? process.env['VK_ICD_FILENAMES']
  if (override !== undefined && override !== '') return override.split(':').filter((f) => f !== '')
  const dirs = ['/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/etc/vulkan/icd.d']
  const home = process.env['HOME']
  if (home !== undefined) dirs.push(join(home, '.local/share/vulkan/icd.d'))
  const found: string[] = []
  for (const dir of dirs) {
    try {
      found.push(...(await readdir(dir)).filter((f) => f.endsWith('.json')).map((f) => join(dir, f)))
    } catch {
      // no such folder
    }
  }
  return found
}

// ---------------------------------------------------------------------------------------------------------
// The child process.

/**
 * The child's program (CommonJS run with `-e`; node-llama-cpp is ESM with top-level await, so it is imported).
 * It first loads the backend library itself (libggml-cuda.so…): when the dynamic loader refuses, its message
 * names the missing library and that is the verdict. Otherwise it asks node-llama-cpp for that GPU type with
 * `build: 'never'` (a missing binary fails fast instead of compiling) and reads the GPU names and VRAM.
 */
const CHILD_SOURCE = `
let text = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => { text += chunk })
process.stdin.on('end', async () => {
  const result = { supported: null, load: { ok: false, error: 'not attempted' }, loaderError: null, logs: [] }
  const done = () => process.stdout.write('\\n${PROBE_RESULT_MARKER}' + JSON.stringify(result) + '\\n', () => process.exit(0))
  const message = (error) => String(error && error.message ? error.message : error).replace(/\\s+/g, ' ').trim()
  try {
    const request = JSON.parse(text)
    if (request.backendLibrary) {
      // The loader names the first missing library; a backend that cannot even be loaded is not worth getLlama's
      // own binary test (another child process, seconds of CPU).
      try { process.dlopen({ exports: {} }, request.backendLibrary) } catch (error) {
        const text = message(error)
        if (/cannot open shared object|not found|could not be found|Library not loaded|image not found/i.test(text)) result.loaderError = text
      }
    }
    if (result.loaderError !== null) {
      result.load = { ok: false, error: 'the backend library could not be loaded' }
      return done()
    }
    const nlc = await import(request.entryUrl)
    try { result.supported = await nlc.getLlamaGpuTypes('supported') } catch (error) { result.logs.push('getLlamaGpuTypes: ' + message(error)) }
    try {
      const llama = await nlc.getLlama({
        gpu: request.gpu, build: 'never', skipDownload: true, progressLogs: false, vramPadding: 0,
        logLevel: nlc.LlamaLogLevel.warn,
        logger: (level, text) => { const line = String(text).trim(); if (line !== '' && result.logs.length < 20) result.logs.push(line) },
      })
      const vram = await llama.getVramState()
      result.load = { ok: true, gpu: llama.gpu, deviceNames: await llama.getGpuDeviceNames(), vramTotalBytes: vram.total, vramFreeBytes: vram.free }
      await llama.dispose()
    } catch (error) {
      const name = error && error.name && error.name !== 'Error' ? error.name : ''
      const text = message(error)
      result.load = { ok: false, error: name !== '' && text !== name ? name + ': ' + text : text }
    }
  } catch (error) {
    result.load = { ok: false, error: message(error) }
  }
  done()
})
`

export interface ProbeLlamaBackendsOptions {
  /** Each probe is killed after this long and reported unavailable. Defaults to `60_000`. */
  timeoutMs?: number
  signal?: AbortSignal
  /** Library search, injected by the caller (core/train/executionProviders.ts `findMissingLibraries`). */
  findMissing: (libraries: readonly { file: string; what: string; where: 'system' }[]) => Promise<{ missing: string[]; details: string[] }>
}

/** node-llama-cpp's platform names. */
function nlcPlatform(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'win' : platform === 'darwin' ? 'mac' : platform
}

/** node-llama-cpp's entry file, resolved from here so the child loads the same copy as the app. */
function nlcEntryPath(): string {
  return createRequire(import.meta.url).resolve('node-llama-cpp')
}

/** Where a backend's prebuilt binary package is and which library in it to test-load; `installed: false` when it is absent. */
async function binaryPackage(backend: Exclude<LlamaBackendName, 'cpu'>): Promise<{ name: string; installed: boolean; library: string | null }> {
  const folder = `${nlcPlatform(process.platform)}-${process.arch}-${backend}`
  const name = `@node-llama-cpp/${folder}`
  let entry: string
  try {
    entry = createRequire(nlcEntryPath()).resolve(name)
  } catch {
    return { name, installed: false, library: null }
  }
  // Native files are loaded from app.asar.unpacked in a packaged app (build/electron-builder.yml asarUnpack).
  const bins = join(dirname(dirname(entry)), 'bins', folder).replace(/app\.asar(?=[/\\]|$)/, 'app.asar.unpacked')
  let files: string[]
  try {
    files = await readdir(bins)
  } catch {
    return { name, installed: false, library: null }
  }
  const library = files.find((f) => new RegExp(`^(lib)?ggml-${backend}\\.(so|dll|dylib)$`).test(f))
  return { name, installed: true, library: library === undefined ? null : join(bins, library) }
}

/**
 * Probes every llama.cpp backend for real, each in its own child process (all at once): the CPU build, and each
 * GPU type node-llama-cpp offers on this platform. Backends node-llama-cpp does not offer here are reported
 * with that reason and no child. GPU names and VRAM come from llama.cpp itself.
 */
export async function probeLlamaBackends({ timeoutMs = 60_000, signal, findMissing }: ProbeLlamaBackendsOptions): Promise<LlamaBackendVerdict[]> {
  const entryUrl = pathToFileURL(nlcEntryPath()).href
  const { getLlamaGpuTypes } = await import('node-llama-cpp')
  const allValid = new Set<string | false>(await getLlamaGpuTypes('allValid'))
  const icds = process.platform === 'linux' ? await findVulkanIcds() : null
  return Promise.all(
    LLAMA_BACKENDS.map(async (backend): Promise<LlamaBackendVerdict> => {
      const validOnPlatform = backend === 'cpu' || allValid.has(backend)
      const pkg = backend === 'cpu' || !validOnPlatform || backend === 'metal' ? null : await binaryPackage(backend)
      const linuxLibraries = process.platform === 'linux' && (backend === 'cuda' || backend === 'vulkan') ? LLAMA_LINUX_LIBRARIES[backend] : []
      let child: LlamaBackendObservation['child'] = null
      let missing = { missing: [] as string[], details: [] as string[] }
      if (validOnPlatform && (pkg === null || pkg.installed)) {
        const outcome = await runProbeChild<LlamaChildResult>(
          CHILD_SOURCE,
          { entryUrl, gpu: backend === 'cpu' ? false : backend, backendLibrary: pkg?.library ?? null },
          { timeoutMs, signal, what: 'llama.cpp backend probe' },
        )
        const exit = outcome.exitSignal !== null ? `signal ${outcome.exitSignal}` : `exit code ${String(outcome.exitCode)}`
        child = { result: outcome.result, timedOut: outcome.timedOut, timeoutMs, exit }
        const loadedOk = outcome.result?.load.ok === true && (backend === 'cpu' || (outcome.result.load.ok && outcome.result.load.gpu === backend))
        if (!loadedOk && linuxLibraries.length > 0) missing = await findMissing(linuxLibraries)
      }
      return llamaBackendVerdict({
        backend,
        platform: process.platform,
        arch: process.arch,
        validOnPlatform,
        binaryPackage: pkg === null ? null : { name: pkg.name, installed: pkg.installed },
        child,
        missing,
        vulkanIcds: backend === 'vulkan' ? icds : null,
      })
    }),
  )
}
