/**
 * What the benches (`npm run bench:*`) share: the scratch folder and stderr log of a run, the child process of a
 * phase, and the plain-text report formatting.
 */
import { fork } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ModelHyperparameters } from '../../src-main/core/model/hyperparameters.js'
import { RssSampler, type RssReport } from './RssSampler.js'

// ------------------------------------------------------------------------------------------------- the run

export interface BenchRun {
  /** A fresh folder under the OS temp folder, removed when the run ends. */
  dir: string
  /** Writes `[  12.3 s] line` to stderr, with the seconds since the run started. */
  log: (line: string) => void
  /** Seconds since the run started. */
  elapsedSeconds: () => number
}

/**
 * Runs `body` with a scratch folder named `<dirPrefix>XXXXXX` in the OS temp folder, and removes the folder
 * afterwards, also after an uncaught error or Ctrl-C.
 */
export async function withBenchRun(dirPrefix: string, body: (run: BenchRun) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), dirPrefix))
  // 'exit' also fires after an uncaught error, and on Ctrl-C through the handler below; only sync work runs there.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  process.once('SIGINT', () => process.exit(130))
  const started = performance.now()
  const elapsedSeconds = (): number => (performance.now() - started) / 1000
  const log = (line: string): void => {
    process.stderr.write(`[${elapsedSeconds().toFixed(1).padStart(6)} s] ${line}\n`)
  }
  try {
    await body({ dir, log, elapsedSeconds })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

// ------------------------------------------------------------------------------------------- phases

export interface ForkPhaseOptions {
  /** Node flags for the child besides the parent's own (which carry tsx's loader). Defaults to none. */
  nodeFlags?: string[]
}

/**
 * Runs one phase of a bench in a child process of its own, so that the child's `maxRSS` (the kernel's high-water
 * mark) and its sampled RSS belong to that phase alone. The child is the bench module `moduleUrl` itself, started
 * with `--phase <spec as JSON>`; `benchEntry` there runs the phase and sends back its result, a plain JSON value.
 */
export function forkPhase<Spec extends { kind: string }, Result>(moduleUrl: string, spec: Spec, { nodeFlags = [] }: ForkPhaseOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(moduleUrl), ['--phase', JSON.stringify(spec)], {
      execArgv: [...process.execArgv, ...nodeFlags],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let result: Result | undefined
    child.on('message', (message) => (result = message as Result))
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (code === 0 && result) resolve(result)
      else reject(new Error(`phase ${spec.kind} exited with ${signal ?? `code ${code}`}${result ? '' : ' and no result'}`))
    })
  })
}

/** What `measurePhase` measures of a phase, in its child process. */
export interface PhaseFigures {
  seconds: number
  /** CPU time of the phase's body (user + system). */
  cpuSeconds: number
  rss: RssReport
}

/** Runs a phase's `body` in this (child) process and adds its wall time, CPU time and sampled RSS to its result. */
export async function measurePhase<Partial extends object>(body: () => Promise<Partial>): Promise<Partial & PhaseFigures> {
  const sampler = await RssSampler.start(50)
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  const partial = await body()
  const seconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuStart)
  const rss = await sampler.stop()
  return { ...partial, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, rss }
}

/** Busy time of all CPUs of the machine, in ms, whoever used it. */
export function machineBusyMs(): number {
  return cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0)
}

/**
 * `forkPhase`, plus `othersCores`: CPU that other processes used while the child lived, in cores (machine busy time
 * from `os.cpus()` less the child's own CPU time, `cpuSeconds` of its result).
 */
export async function forkPhaseWithOthers<Spec extends { kind: string }, Result extends { cpuSeconds: number }>(
  moduleUrl: string,
  spec: Spec,
  options?: ForkPhaseOptions,
): Promise<Result & { othersCores: number }> {
  const busyBefore = machineBusyMs()
  const started = performance.now()
  const result = await forkPhase<Spec, Result>(moduleUrl, spec, options)
  const othersMs = machineBusyMs() - busyBefore - result.cpuSeconds * 1000
  return { ...result, othersCores: Math.max(0, othersMs / (performance.now() - started)) }
}

/**
 * The entry of a bench that forks its phases: in a child started by `forkPhase`, runs the phase named on the
 * command line and sends its result to the parent; otherwise runs the whole bench, `main`.
 */
export async function benchEntry<Spec>(main: () => Promise<void>, runPhase: (spec: Spec) => Promise<unknown>): Promise<void> {
  const phaseArg = process.argv.indexOf('--phase')
  if (phaseArg < 0) return main()
  const result = await runPhase(JSON.parse(process.argv[phaseArg + 1]!) as Spec)
  process.send!(result, () => process.disconnect())
}

// ------------------------------------------------------------------------------------------------- report

export const MB = 1e6

/** Bytes in MB (10^6 bytes), with `digits` decimals. */
export const mb = (bytes: number, digits = 1): string => (bytes / MB).toFixed(digits)

/** MB per second. */
export const rate = (bytes: number, seconds: number): string => (bytes / MB / seconds).toFixed(1)

/** `a / b` as `1.23×`. */
export const ratio = (a: number, b: number, digits = 2): string => `${(a / b).toFixed(digits)}×`

/** Max RSS in each tenth of the phase, in MB: flat means bounded memory, a staircase means something accumulates. */
export function rssTimeline(rss: RssReport): string {
  const last = rss.samples.at(-1)?.[0] ?? 0
  const buckets = Array.from({ length: 10 }, () => 0)
  for (const [ms, bytes] of rss.samples) {
    const i = Math.min(9, Math.floor((10 * ms) / Math.max(1, last)))
    buckets[i] = Math.max(buckets[i]!, bytes)
  }
  return buckets.map((b) => (b ? mb(b, 0) : '-').padStart(5)).join('')
}

/**
 * Rows as columns two spaces apart, each as wide as its widest cell (the first row sets the column count), with
 * trailing blanks trimmed. `rightAligned(i)` says which columns pad on the left; defaults to all but the first two.
 */
export function table(rows: (string | number)[][], rightAligned: (i: number) => boolean = (i) => i > 1): string {
  const cells = rows.map((row) => row.map(String))
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)))
  return cells.map((row) => row.map((cell, i) => (rightAligned(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n')
}

// ------------------------------------------------------------------------------------------- models

const llama = (e: number, f: number, blocks: number, heads: number, kvHeads: number, vocab: number): ModelHyperparameters => ({
  architecture: 'llama',
  vocabSize: vocab,
  contextLength: 2048,
  embeddingLength: e,
  blockCount: blocks,
  feedForwardLength: f,
  headCount: heads,
  headCountKv: kvHeads,
  headDim: e / heads,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  tiedEmbeddings: false,
})

/**
 * The Llama-shaped synthetic models of bench:model and bench:export. full: 268 M weights, 537 MB as F16 (at least
 * `minF16Bytes`). quick: 31 M weights, 63 MB as F16. Row lengths are multiples of 256 (K-quant blocks).
 */
export const LLAMA_PRESETS = {
  full: { hyperparameters: llama(1024, 2816, 18, 16, 4, 32000), minF16Bytes: 500 * MB },
  quick: { hyperparameters: llama(512, 1536, 8, 8, 4, 6000), minF16Bytes: 0 },
}
