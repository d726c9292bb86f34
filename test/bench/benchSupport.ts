/**
 * What the benches (`npm run bench:*`) share: the scratch folder and stderr log of a run, the child process of a
 * phase, and the plain-text report formatting.
 */
import { fork } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

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

/**
 * Rows as columns two spaces apart, each as wide as its widest cell (the first row sets the column count), with
 * trailing blanks trimmed. `rightAligned(i)` says which columns pad on the left; defaults to all but the first two.
 */
export function table(rows: (string | number)[][], rightAligned: (i: number) => boolean = (i) => i > 1): string {
  const cells = rows.map((row) => row.map(String))
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)))
  return cells.map((row) => row.map((cell, i) => (rightAligned(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n')
}
