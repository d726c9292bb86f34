import { spawn } from 'node:child_process'
import { LecternError } from '../../shared/errors.js'

export interface ProbeChildOptions {
  /** The child is killed after this long and the outcome says `timedOut`. */
  timeoutMs: number
  signal?: AbortSignal | undefined
  /** Named in the error when the child cannot be started at all. */
  what: string
}

export interface ProbeChildOutcome<T> {
  /** The child's one marked JSON line; `null` when it died, hung or printed none. */
  result: T | null
  /** The last 16 KiB of its stderr. */
  stderr: string
  exitCode: number | null
  exitSignal: NodeJS.Signals | null
  timedOut: boolean
}

/** Printed by a probe child before its JSON result, so library chatter on stdout cannot be mistaken for it. */
export const PROBE_RESULT_MARKER = '@@lectern-probe@@'

/**
 * Runs `source` (a CommonJS program, as `node -e`) in a child process of this executable as plain Node, writes
 * `request` as JSON to its stdin and reads back the line it prints after `PROBE_RESULT_MARKER`.
 *
 * Native probes (a GPU session, a llama.cpp backend) run here and never in the app's process: they can hang in
 * a driver or abort the process, and only a process can be killed on a timeout or die without taking the app
 * with it. The source is passed inline, so the probe works the same from the sources under tsx and from the
 * electron-vite bundle in `out/`; what it loads is resolved by the parent and passed in `request`.
 */
export function runProbeChild<T>(source: string, request: unknown, { timeoutMs, signal, what }: ProbeChildOptions): Promise<ProbeChildOutcome<T>> {
  return new Promise((resolve, reject) => {
    // In Electron this executable is Electron itself; ELECTRON_RUN_AS_NODE makes it plain Node.
    const child = spawn(process.execPath, ['-e', source], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-16_384)))
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    const onAbort = (): void => void child.kill('SIGKILL')
    signal?.addEventListener('abort', onAbort, { once: true })
    child.on('error', (error) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      reject(new LecternError('internal', `Could not start the ${what} (${process.execPath}): ${error.message}`, { cause: error }))
    })
    child.on('close', (exitCode, exitSignal) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      const line = stdout.split('\n').find((l) => l.startsWith(PROBE_RESULT_MARKER))
      let result: T | null = null
      if (line !== undefined && !timedOut) {
        try {
          result = JSON.parse(line.slice(PROBE_RESULT_MARKER.length)) as T
        } catch {
          result = null
        }
      }
      resolve({ result, stderr, exitCode, exitSignal, timedOut })
    })
    child.stdin.on('error', () => {}) // the child may die before reading its request; 'close' reports that
    child.stdin.end(JSON.stringify(request))
  })
}

/** "30 s" / "500 ms". */
export function formatTimeout(timeoutMs: number): string {
  return timeoutMs < 1000 ? `${timeoutMs} ms` : `${timeoutMs / 1000} s`
}
