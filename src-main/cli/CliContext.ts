import type { WorkerOptions } from '../core/app/Workspace.js'
import { Project, type OpenProjectOptions } from '../core/project/Project.js'

export interface CliContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  stderr: NodeJS.WritableStream
  /** How job workers are started (the built worker, or the .ts source under a TS loader in tests). */
  jobWorker: WorkerOptions
  /** The quantize worker entry, for `lectern model convert` on several threads. */
  quantizeWorker: Pick<WorkerOptions, 'workerScript' | 'workerExecArgv'>
  /** Registers a Ctrl-C handler for the duration of a command; returns its remover. */
  onInterrupt(handler: () => void): () => void
}

export interface CliCommand {
  name: string
  summary: string
  usage: string
  /** Option names this command accepts, with their kind, for node:util parseArgs. */
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>
  run(positionals: string[], values: Record<string, string | boolean | undefined>, context: CliContext): Promise<number>
}

/** A mistake in how the command was called: printed with the usage line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export function print(context: CliContext, text = ''): void {
  context.stdout.write(text + '\n')
}

export function printJson(context: CliContext, value: unknown): void {
  context.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

export function requireDir(positionals: string[], usage: string): string {
  const dir = positionals[0]
  if (dir === undefined || dir === '') throw new UsageError(`missing <dir>\nusage: ${usage}`)
  return dir
}

export function parseIntegerOption(value: string | boolean | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (typeof value !== 'string' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`)
  }
  return n
}

/** `<dir> <id>` positionals of the job commands. */
export function requireDirAndJobId(positionals: string[], usage: string): { dir: string; jobId: string } {
  const dir = requireDir(positionals, usage)
  const jobId = positionals[1]
  if (jobId === undefined || jobId === '') throw new UsageError(`missing <id>\nusage: ${usage}`)
  return { dir, jobId }
}

/** Opens the project for the length of `work` and always closes it. */
export async function withProject<T>(dir: string, work: (project: Project) => Promise<T>, options: OpenProjectOptions = {}): Promise<T> {
  const project = await Project.open(dir, options)
  try {
    return await work(project)
  } finally {
    project.close()
  }
}

export function parseNumberOption(value: string | boolean | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number`)
  return n
}

export function oneOf<T extends string>(value: string | boolean | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`)
  return value as T
}
