import { execFile } from 'node:child_process'
import { access, readdir, readFile, realpath } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { availableParallelism, cpus } from 'node:os'
import { basename, delimiter, dirname, join } from 'node:path'
import type { InferenceSession } from 'onnxruntime-node'
import { LecternError } from '../../shared/errors.js'
import type { ExecutionProviderProbe } from '../../shared/types/app.js'
import { OnnxGraphBuilder } from '../autodiff/onnx/OnnxGraphBuilder.js'
import { formatTimeout, PROBE_RESULT_MARKER, runProbeChild, type ProbeChildOutcome } from '../system/probeChild.js'

/** The execution providers training can run on (specs/onnxruntime-node.md §3). */
export type ExecutionProviderName = 'cpu' | 'webgpu' | 'cuda'

/** Every provider the hardware report probes: the training ones, plus DirectML (Windows) and CoreML (macOS). */
export type OrtProviderName = ExecutionProviderProbe['provider']

export const EXECUTION_PROVIDERS: readonly ExecutionProviderName[] = ['cpu', 'webgpu', 'cuda']

export const REPORTED_EXECUTION_PROVIDERS: readonly OrtProviderName[] = ['cpu', 'webgpu', 'cuda', 'directml', 'coreml']

export type { ExecutionProviderProbe }

export interface ProbeExecutionProvidersOptions {
  /** Which providers to probe, in this order, one at a time. Defaults to `EXECUTION_PROVIDERS`. */
  providers?: readonly OrtProviderName[]
  /** Each probe is killed after this long and reported unavailable (a GPU driver can hang). Defaults to `30_000`. */
  timeoutMs?: number
  signal?: AbortSignal
}

export const EXECUTION_PROVIDER_LABELS: Record<OrtProviderName, string> = { cpu: 'CPU', webgpu: 'WebGPU', cuda: 'CUDA', directml: 'DirectML', coreml: 'CoreML' }
const LABELS = EXECUTION_PROVIDER_LABELS

/** Where onnxruntime-node 1.30 ships each provider (specs/onnxruntime-node.md §3, Packaging); `null`: everywhere it runs. */
const PROVIDER_PLATFORMS: Record<OrtProviderName, { platforms: readonly string[]; archs: readonly string[]; where: string } | null> = {
  cpu: null,
  webgpu: null,
  cuda: { platforms: ['linux'], archs: ['x64'], where: 'Linux x64' },
  directml: { platforms: ['win32'], archs: ['x64', 'arm64'], where: 'Windows' },
  coreml: { platforms: ['darwin'], archs: ['arm64'], where: 'macOS on Apple silicon' },
}

/** The name onnxruntime-node's `executionProviders` option takes for each provider. */
const ORT_EP_NAMES: Record<OrtProviderName, string> = { cpu: 'cpu', webgpu: 'webgpu', cuda: 'cuda', directml: 'dml', coreml: 'coreml' }

/**
 * Probes each provider by creating a real tiny ORT session with `executionProviders: [provider]` and running
 * it: y = x·W + b, compared with the numbers computed here. GPU sessions are created with CPU fallback disabled
 * (`session.disable_cpu_ep_fallback`), so a provider that would silently hand the nodes to the CPU fails
 * instead, and a provider that computes garbage fails the comparison.
 *
 * Each probe runs in a child process (this executable, as Node): session creation is synchronous native code
 * that can hang in a GPU driver or abort the process (specs/onnxruntime-node.md §3, WebGPU gotchas), and only
 * a process can be killed on a timeout or die without taking the app with it. Probes run one after another.
 */
export async function probeExecutionProviders({ providers = EXECUTION_PROVIDERS, timeoutMs = 30_000, signal }: ProbeExecutionProvidersOptions = {}): Promise<ExecutionProviderProbe[]> {
  const results: ExecutionProviderProbe[] = []
  for (const provider of providers) {
    throwIfAborted(signal)
    results.push(await probeOne(provider, timeoutMs, signal))
  }
  return results
}

/**
 * The provider to train on, given what the user asked for and what the probes found. A requested GPU that is
 * unavailable falls back to the CPU with a warning that says why; `'auto'` takes CUDA, then WebGPU, then the
 * CPU, and says why no GPU was used.
 */
export function chooseExecutionProvider(
  requested: ExecutionProviderName | 'auto',
  probes: readonly ExecutionProviderProbe[],
): { provider: ExecutionProviderName; warning: string | null } {
  const why = (provider: ExecutionProviderName): string => {
    const probe = probes.find((p) => p.provider === provider)
    if (probe === undefined) return `${LABELS[provider]} was not probed`
    return probe.reason ?? `${LABELS[provider]} is unavailable`
  }
  const usable = (provider: ExecutionProviderName): boolean => probes.some((p) => p.provider === provider && p.available)
  if (requested === 'cpu') {
    return { provider: 'cpu', warning: usable('cpu') || !probes.some((p) => p.provider === 'cpu') ? null : `The CPU probe failed, training may fail too: ${why('cpu')}` }
  }
  if (requested === 'auto') {
    for (const gpu of ['cuda', 'webgpu'] as const) if (usable(gpu)) return { provider: gpu, warning: null }
    return { provider: 'cpu', warning: `No GPU is usable, training on the CPU. ${why('cuda')} ${why('webgpu')}` }
  }
  if (usable(requested)) return { provider: requested, warning: null }
  return { provider: 'cpu', warning: `${LABELS[requested]} was requested but cannot be used, training on the CPU instead. ${why(requested)}` }
}

export interface SessionThreadOptions {
  /** Let idle intra-op threads spin for the next parallel section instead of sleeping. Defaults to `true`. */
  allowSpinning?: boolean
}

/**
 * The threading part of ORT SessionOptions for a train-step session. One fused graph runs its nodes in order
 * (`sequential`, one inter-op thread); parallelism is inside each op (intra-op). Spinning is ORT's default:
 * with many small ops between MatMuls it keeps the pool hot (≈30% faster per step on a 2-thread test graph)
 * at the cost of burning the idle threads' CPU time; pass `allowSpinning: false` where that matters more.
 */
export function sessionThreadOptions(threads: number, { allowSpinning = true }: SessionThreadOptions = {}): Pick<
  InferenceSession.SessionOptions,
  'intraOpNumThreads' | 'interOpNumThreads' | 'executionMode' | 'extra'
> {
  if (!Number.isInteger(threads) || threads < 1) throw new LecternError('invalid_argument', `Thread count must be a positive integer (got ${threads})`)
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: allowSpinning && threads > 1 ? '1' : '0' }, inter_op: { allow_spinning: '0' } } },
  }
}

export interface ComputeThreads {
  /** The default intra-op thread count: one per physical core this process may use. */
  threads: number
  physicalCores: number | null
  logicalCores: number
  /** Where `physicalCores` came from. */
  source: 'linux-sysfs' | 'macos-sysctl' | 'windows-cim' | 'none'
}

/**
 * One thread per physical core: SMT siblings share one core's FMA units, so a second thread per core only adds
 * contention to MLAS MatMuls (specs/onnxruntime-node.md §4). Node has no physical-core API, so this asks the OS
 * (sysfs thread siblings on Linux, sysctl on macOS, CIM on Windows) and caps by the CPUs this process may use
 * (affinity, and the cgroup quota on Linux). A VM can still present SMT siblings as separate cores, as the
 * spec's VM does; only a measurement (`measureMatMulPeak` per thread count) sees that.
 */
export async function detectComputeThreads(): Promise<ComputeThreads> {
  const logicalCores = cpus().length
  let physicalCores: number | null = null
  let source: ComputeThreads['source'] = 'none'
  if (process.platform === 'linux') {
    physicalCores = await linuxPhysicalCores()
    if (physicalCores !== null) source = 'linux-sysfs'
  } else if (process.platform === 'darwin') {
    physicalCores = positiveInt(await commandOutput('sysctl', ['-n', 'hw.physicalcpu']))
    if (physicalCores !== null) source = 'macos-sysctl'
  } else if (process.platform === 'win32') {
    const script = '(Get-CimInstance Win32_Processor | Measure-Object -Property NumberOfCores -Sum).Sum'
    physicalCores = positiveInt(await commandOutput('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', script]))
    if (physicalCores !== null) source = 'windows-cim'
  }
  const usable = Math.min(availableParallelism(), (await linuxCgroupCpuLimit()) ?? Infinity)
  const threads = Math.max(1, Math.min(physicalCores ?? logicalCores, usable))
  return { threads, physicalCores, logicalCores, source }
}

export interface RequiredLibrary {
  file: string
  /** Libraries with the same `what` are reported together. */
  what: string
  /** `ort`: must sit beside onnxruntime-node's own binaries; `system`: anywhere the loader looks. */
  where: 'ort' | 'system'
}

/** What the CUDA provider of onnxruntime-node 1.30 loads (specs/onnxruntime-node.md §3, Requirements). */
const CUDA_LIBRARIES: readonly RequiredLibrary[] = [
  { file: 'libonnxruntime_providers_shared.so', what: "onnxruntime-node's CUDA provider", where: 'ort' },
  { file: 'libonnxruntime_providers_cuda.so', what: "onnxruntime-node's CUDA provider", where: 'ort' },
  { file: 'libcuda.so.1', what: 'the NVIDIA driver', where: 'system' },
  { file: 'libcudart.so.12', what: 'CUDA 12 runtime', where: 'system' },
  { file: 'libcublas.so.12', what: 'cuBLAS, CUDA 12', where: 'system' },
  { file: 'libcublasLt.so.12', what: 'cuBLAS, CUDA 12', where: 'system' },
  { file: 'libcufft.so.11', what: 'cuFFT, CUDA 12', where: 'system' },
  { file: 'libcurand.so.10', what: 'cuRAND, CUDA 12', where: 'system' },
  { file: 'libcudnn.so.9', what: 'cuDNN 9', where: 'system' },
]

const WEBGPU_LIBRARIES: readonly RequiredLibrary[] = [{ file: 'libvulkan.so.1', what: 'the Vulkan loader that Dawn needs', where: 'system' }]

export interface FindMissingLibrariesOptions {
  /** Folders searched before the loader's own, as if on LD_LIBRARY_PATH. Defaults to none. */
  extraSearchDirs?: readonly string[]
}

export interface MissingLibraries {
  /** File names not found on the loader path. */
  missing: string[]
  /** One phrase per group of missing libraries: what they are, and any other version or off-path copy found. */
  details: string[]
}

/**
 * Which CUDA provider libraries are not where the dynamic loader will look: onnxruntime-node's own bin folder
 * (the provider .so files its postinstall downloads only with ONNXRUNTIME_NODE_INSTALL=cuda12), LD_LIBRARY_PATH,
 * the ld.so cache (`ldconfig -p`) and the default system folders. A copy found only in a CUDA install folder
 * that is not on the loader path still counts as missing, with the folder named.
 */
export async function findMissingCudaLibraries(options: FindMissingLibrariesOptions = {}): Promise<MissingLibraries> {
  return findMissingLibraries(CUDA_LIBRARIES, options)
}

/** The Vulkan loader WebGPU (Dawn) needs on Linux, searched like `findMissingCudaLibraries`. */
export async function findMissingWebGpuLibraries(options: FindMissingLibrariesOptions = {}): Promise<MissingLibraries> {
  return findMissingLibraries(WEBGPU_LIBRARIES, options)
}

// ---------------------------------------------------------------------------------------------------------
// The probe model and the child process that runs it.

const X_DIMS = [4, 8] as const // (N, K)
const W_DIMS = [8, 3] as const // (K, M)

/** Small exact binary fractions, so every product and sum is exact in fp32 (and in TF32 on CUDA). */
function probeValues(count: number, seed: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => (((i * 5 + seed) % 9) - 4) / 4)
}

interface ProbeModel {
  bytes: Uint8Array
  x: Float32Array
  expected: Float64Array
}

function probeModel(): ProbeModel {
  const [N, K] = X_DIMS
  const M = W_DIMS[1]
  const x = probeValues(N * K, 1)
  const w = probeValues(K * M, 3)
  const b = Float32Array.from([0.5, -1.25, 2])
  const builder = new OnnxGraphBuilder('execution_provider_probe')
  builder.addInput('x', 'float32', X_DIMS)
  builder.addInitializer('w', { elementType: 'float32', dims: W_DIMS, data: w })
  builder.addInitializer('b', { elementType: 'float32', dims: [M], data: b })
  builder.addNode({ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['xw'] })
  builder.addNode({ opType: 'Add', inputs: ['xw', 'b'], outputs: ['y'] })
  builder.addOutput('y', 'float32', [N, M])
  const expected = new Float64Array(N * M)
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      let sum = b[m]!
      for (let k = 0; k < K; k++) sum += x[n * K + k]! * w[k * M + m]!
      expected[n * M + m] = sum
    }
  }
  return { bytes: builder.toModelBytes(), x, expected }
}


/**
 * The child's whole program (CommonJS, run with `-e`): read one JSON request from stdin, create the session,
 * run it once, print one marked JSON line. Errors become `{ ok: false }`; a crash or hang is seen by the parent.
 */
const CHILD_SOURCE = `
let text = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => { text += chunk })
process.stdin.on('end', async () => {
  const done = (result) => process.stdout.write('\\n${PROBE_RESULT_MARKER}' + JSON.stringify(result) + '\\n', () => process.exit(0))
  try {
    const request = JSON.parse(text)
    const ort = require(request.ortEntry)
    ort.env.logLevel = 'error'
    const session = await ort.InferenceSession.create(Buffer.from(request.model, 'base64'), request.sessionOptions)
    const outputs = await session.run({ x: new ort.Tensor('float32', Float32Array.from(request.x), request.xDims) })
    const y = outputs.y
    const result = { ok: true, dims: Array.from(y.dims), data: Array.from(y.data) }
    await session.release()
    done(result)
  } catch (error) {
    done({ ok: false, error: String(error && error.message ? error.message : error) })
  }
})
`

type ChildResult = { ok: true; dims: number[]; data: number[] } | { ok: false; error: string }

type ChildOutcome = ProbeChildOutcome<ChildResult>

async function probeOne(provider: OrtProviderName, timeoutMs: number, signal: AbortSignal | undefined): Promise<ExecutionProviderProbe> {
  const label = LABELS[provider]
  const shipped = PROVIDER_PLATFORMS[provider]
  if (shipped !== null && !(shipped.platforms.includes(process.platform) && shipped.archs.includes(process.arch))) {
    const reason = `${label} is not available on ${process.platform} ${process.arch}: onnxruntime-node ships its ${label} provider for ${shipped.where} only.`
    return { provider, available: false, reason, missingLibraries: [] }
  }
  const model = probeModel()
  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: [ORT_EP_NAMES[provider]],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    // A GPU provider that cannot take a node would hand it to the CPU without a word; make that an error.
    ...(provider === 'cpu' ? {} : { extra: { session: { disable_cpu_ep_fallback: '1' } } }),
  }
  const outcome: ChildOutcome = await runProbeChild<ChildResult>(
    CHILD_SOURCE,
    { ortEntry: ortEntryPath(), model: Buffer.from(model.bytes).toString('base64'), sessionOptions, x: Array.from(model.x), xDims: X_DIMS },
    { timeoutMs, signal, what: 'execution provider probe' },
  )
  throwIfAborted(signal)
  if (outcome.result?.ok === true) {
    const { dims, data } = outcome.result
    const expectedDims = [X_DIMS[0], W_DIMS[1]]
    if (dims.join(',') !== expectedDims.join(',') || data.length !== model.expected.length) {
      return unavailable(provider, `the probe returned shape [${dims.join(', ')}] instead of [${expectedDims.join(', ')}]`)
    }
    let worst = 0
    data.forEach((value, i) => {
      const diff = Math.abs(value - model.expected[i]!)
      worst = Number.isNaN(diff) ? Infinity : Math.max(worst, diff)
    })
    if (worst > 1e-3) return unavailable(provider, `the probe ran but computed wrong numbers (max |difference| ${worst} on a MatMul+Add whose exact result is known)`)
    return { provider, available: true, reason: null, missingLibraries: [] }
  }
  const diagnostics = stderrDiagnostics(outcome.stderr)
  let cause: string
  if (outcome.timedOut) {
    cause = `the probe did not finish within ${formatTimeout(timeoutMs)} and was stopped (a driver may be hanging)`
  } else if (outcome.result === null) {
    cause = `the probe process died (${outcome.exitSignal !== null ? `signal ${outcome.exitSignal}` : `exit code ${String(outcome.exitCode)}`})`
  } else {
    cause = cleanOrtMessage(outcome.result.error)
  }
  const found = provider === 'cuda' ? await findMissingCudaLibraries() : provider === 'webgpu' && process.platform === 'linux' ? await findMissingWebGpuLibraries() : null
  const parts = [`${label} is not available: ${cause}.`]
  if (found !== null && found.missing.length > 0) parts.push(`Missing: ${found.details.join('; ')}.`)
  if (provider === 'cuda' && found !== null && found.missing.some((file) => file.startsWith('libonnxruntime_'))) {
    parts.push("onnxruntime-node's install downloads its CUDA provider only with ONNXRUNTIME_NODE_INSTALL=cuda12.")
  }
  const unexplained = diagnostics.filter((line) => !parts.some((part) => part.includes(line)) && !(found?.missing.some((file) => line.includes(file)) ?? false))
  if (unexplained.length > 0) parts.push(`Log: ${unexplained.join(' | ')}`)
  return { provider, available: false, reason: parts.join(' '), missingLibraries: found?.missing ?? [] }
}

function unavailable(provider: OrtProviderName, cause: string): ExecutionProviderProbe {
  return { provider, available: false, reason: `${LABELS[provider]} is not available: ${cause}.`, missingLibraries: [] }
}

/** onnxruntime-node's entry file, resolved from here so the child loads the same copy as the app. */
function ortEntryPath(): string {
  return createRequire(import.meta.url).resolve('onnxruntime-node')
}

/** The folder holding onnxruntime-node's native binaries; provider libraries are loaded from beside them. */
function ortBinaryFolder(): string {
  const packageRoot = dirname(dirname(ortEntryPath()))
  // Inside a packaged app, native files live in app.asar.unpacked (build/electron-builder.yml asarUnpack).
  return join(packageRoot.replace(/app\.asar(?=[/\\]|$)/, 'app.asar.unpacked'), 'bin', 'napi-v6', process.platform, process.arch)
}

/** ORT errors start with a source location and an assertion; the sentence after them is the useful part. */
function cleanOrtMessage(message: string): string {
  let text = message.trim().replace(/^Error:\s*/, '')
  const afterAssert = /\bwas false\.\s*(.+)$/s.exec(text) ?? /\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*(.+)$/s.exec(text)
  if (afterAssert !== null) text = afterAssert[1]!
  text = text.replace(/^\S+\.(?:cc|cpp|h):\d+\s+\S+\s+/, '')
  return text.replace(/\s+/g, ' ').replace(/[.\s]+$/, '')
}

/** The lines of a probe's stderr that explain a failure (library loads, Vulkan, CUDA), without ANSI codes or log prefixes. */
function stderrDiagnostics(stderr: string): string[] {
  const lines = stderr
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.replace(/^\d{4}-\d\d-\d\d [\d:.]+ \[[A-Z]:[^\]]*\]\s*/, '').replace(/^Warning:\s*/, '').trim())
    .filter((line) => /cannot open shared object|failed to load|couldn't load|cuda|vulkan|no such file/i.test(line) && !/^at /.test(line))
    .map((line) => cleanOrtMessage(line).slice(0, 300))
  return [...new Set(lines)].slice(0, 3)
}

// ---------------------------------------------------------------------------------------------------------
// Shared-library search (Linux).

/**
 * Which of `libraries` the dynamic loader will not find (Linux): see `findMissingCudaLibraries`. Each missing group
 * gets one phrase in `details`, naming any off-path copy or other major version found.
 */
export async function findMissingLibraries(libraries: readonly RequiredLibrary[], { extraSearchDirs = [] }: FindMissingLibrariesOptions = {}): Promise<MissingLibraries> {
  const ortBin = ortBinaryFolder()
  const envDirs = (process.env['LD_LIBRARY_PATH'] ?? '').split(delimiter).filter((d) => d !== '')
  const cache = await ldconfigCache()
  const defaultDirs = ['/lib64', '/usr/lib64', '/lib', '/usr/lib', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu']
  // Not on the loader path unless the user added them, but where CUDA, cuDNN and drivers usually sit.
  const offPathDirs = ['/usr/local/cuda/lib64', '/usr/local/cuda/targets/x86_64-linux/lib', '/usr/local/cuda/lib', '/usr/lib/wsl/lib']
  const missing: string[] = []
  const groups = new Map<string, { files: string[]; notes: string[] }>()
  for (const library of libraries) {
    const loaderDirs = library.where === 'ort' ? [ortBin] : [...extraSearchDirs, ...envDirs, ortBin, ...defaultDirs]
    if (library.where === 'system' && cache.has(library.file)) continue
    if ((await firstDirWith(loaderDirs, library.file)) !== null) continue
    missing.push(library.file)
    const group = groups.get(library.what) ?? { files: [], notes: [] }
    groups.set(library.what, group)
    group.files.push(library.file)
    if (library.where === 'ort') {
      group.notes.push(`not in ${ortBin}`)
      continue
    }
    const offPath = await firstDirWith(offPathDirs, library.file)
    if (offPath !== null) group.notes.push(`${library.file} is in ${offPath}, which is not on the loader path: add it to LD_LIBRARY_PATH`)
    const stem = library.file.replace(/\.so(\.\d+)*$/, '.so')
    const others = await otherVersions(stem, library.file, [...loaderDirs, ...offPathDirs], cache)
    if (others.length > 0) group.notes.push(`only another major version was found: ${others.join(', ')}`)
  }
  const details = [...groups].map(([what, { files, notes }]) => `${files.join(', ')} (${[what, ...new Set(notes)].join('; ')})`)
  return { missing, details }
}

/** `ldconfig -p`: file name → path, for this machine's architecture; empty where there is no ldconfig. */
async function ldconfigCache(): Promise<Map<string, string>> {
  const entries = new Map<string, string>()
  if (process.platform !== 'linux') return entries
  const abi = process.arch === 'x64' ? 'x86-64' : process.arch === 'arm64' ? 'AArch64' : null
  for (const command of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const output = await commandOutput(command, ['-p'])
    if (output === null) continue
    for (const line of output.split('\n')) {
      const match = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line)
      if (match !== null && (abi === null || match[2]!.includes(abi))) entries.set(match[1]!, match[3]!)
    }
    break
  }
  return entries
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

async function firstDirWith(dirs: readonly string[], file: string): Promise<string | null> {
  for (const dir of dirs) if (await exists(join(dir, file))) return dir
  return null
}

/** Files named `<stem>.<N>` other than `wanted` (libcudart.so.13 when libcudart.so.12 is wanted), once per real file. */
async function otherVersions(stem: string, wanted: string, dirs: readonly string[], cache: Map<string, string>): Promise<string[]> {
  const isOther = (name: string): boolean => name !== wanted && name.startsWith(stem + '.') && /^\d+$/.test(name.slice(stem.length + 1))
  const candidates = [...cache].filter(([name]) => isOther(name)).map(([, path]) => path)
  for (const dir of new Set(dirs)) {
    let names: string[]
    try {
      names = await readdir(dir)
    } catch {
      continue
    }
    candidates.push(...names.filter(isOther).map((name) => join(dir, name)))
  }
  const byRealPath = new Map<string, string>()
  for (const path of candidates) {
    const real = await realpath(path).catch(() => path)
    if (!byRealPath.has(real)) byRealPath.set(real, `${basename(path)} in ${dirname(real)}`)
  }
  return [...new Set(byRealPath.values())].sort()
}

// ---------------------------------------------------------------------------------------------------------
// Cores.

/** Physical cores = distinct thread-sibling sets among the CPUs that have a topology (online ones). */
async function linuxPhysicalCores(): Promise<number | null> {
  let names: string[]
  try {
    names = await readdir('/sys/devices/system/cpu')
  } catch {
    return null
  }
  const cores = new Set<string>()
  for (const name of names) {
    if (!/^cpu\d+$/.test(name)) continue
    try {
      cores.add((await readFile(`/sys/devices/system/cpu/${name}/topology/thread_siblings_list`, 'utf8')).trim())
    } catch {
      // offline CPUs have no topology
    }
  }
  return cores.size > 0 ? cores.size : null
}

/** cgroup v2 `cpu.max` ("<quota> <period>" or "max …"): the CPUs a container may use, rounded up. */
async function linuxCgroupCpuLimit(): Promise<number | null> {
  if (process.platform !== 'linux') return null
  try {
    const [quota, period] = (await readFile('/sys/fs/cgroup/cpu.max', 'utf8')).trim().split(/\s+/)
    const q = Number(quota)
    const p = Number(period)
    return Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? Math.max(1, Math.ceil(q / p)) : null
  } catch {
    return null
  }
}

function commandOutput(command: string, args: readonly string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 10_000, windowsHide: true, maxBuffer: 8 * 1024 * 1024 }, (error, stdout) => resolve(error === null ? stdout : null))
  })
}

function positiveInt(text: string | null): number | null {
  const value = text === null ? NaN : Number(text.trim())
  return Number.isInteger(value) && value > 0 ? value : null
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new LecternError('cancelled', 'Execution provider probing was cancelled')
}
