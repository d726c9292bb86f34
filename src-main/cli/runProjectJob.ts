import type { z } from 'zod'
import type { Project } from '../core/project/Project.js'
import type { JobRequest } from '../shared/types/jobs.js'
import { parseIntegerOption, UsageError, type CliContext } from './CliContext.js'
import { runJobInForeground } from './runJobInForeground.js'

/** Checks CLI-built parameters against the job's schema; a problem names the option the user typed. */
export function validatedParams<S extends z.ZodType>(schema: S, input: Record<string, unknown>, optionNames: Record<string, string> = {}): z.output<S> {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)))
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const field = String(issue?.path[0] ?? '')
  const option = optionNames[field] ?? field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
  throw new UsageError(`--${option}: ${issue?.message ?? 'invalid value'}`)
}

/**
 * Runs one job in the foreground with the shared --threads and --json options, then prints its result with
 * `printResult` (unless --json, which prints the whole job). Returns the exit code.
 */
export async function runProjectJob<R>(
  project: Project,
  context: CliContext,
  values: Record<string, string | boolean | undefined>,
  request: JobRequest,
  printResult: (result: R) => void,
): Promise<number> {
  const json = values['json'] === true
  const threads = parseIntegerOption(values['threads'], 'threads', 1, 512)
  let jobId = ''
  const code = await runJobInForeground(project, context, { json, threads }, (queue) => {
    const job = queue.enqueue(request)
    jobId = job.id
    return job
  })
  const result = project.jobs.detail(jobId).result as R | null
  if (!json && code === 0 && result) printResult(result)
  return code
}
