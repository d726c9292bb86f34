import { createHash } from 'node:crypto'
import { LecternError } from '../../../shared/errors.js'
import type { JobHandler } from '../JobContext.js'

interface DemoCheckpoint {
  step: number
  digest: string
}

export interface DemoResult {
  steps: number
  digest: string
  /** Step the last attempt started from: 0 on a clean run, the checkpointed step after a resume. */
  resumedFromStep: number
  hashesComputed: number
}

const SEED_DIGEST = createHash('sha256').update('lectern demo job').digest('hex')

/** The digest chain after `step` steps: each step hashes the previous digest with the step number. */
export function nextDemoDigest(previous: string, stepIndex: number): string {
  return createHash('sha256').update(`${previous}:${stepIndex}`).digest('hex')
}

export function demoDigestAfter(steps: number): string {
  let digest = SEED_DIGEST
  for (let i = 0; i < steps; i++) digest = nextDemoDigest(digest, i)
  return digest
}

/** Hashes a 64 KiB block until `ms` of CPU time has passed; real work for the worker, not a sleep. */
function spendCpu(ms: number): number {
  const block = Buffer.alloc(64 * 1024, 7)
  const until = performance.now() + ms
  let count = 0
  do {
    createHash('sha256').update(block).digest()
    count++
  } while (performance.now() < until)
  return count
}

function readCheckpoint(value: unknown, steps: number): DemoCheckpoint {
  if (value === null || value === undefined) return { step: 0, digest: SEED_DIGEST }
  const c = value as Partial<DemoCheckpoint>
  if (typeof c.step !== 'number' || typeof c.digest !== 'string' || c.step < 0 || c.step > steps) {
    throw new LecternError('invalid_argument', 'Demo job checkpoint is malformed; start a new job')
  }
  return { step: c.step, digest: c.digest }
}

/**
 * A checkpointed job that exercises the whole job machinery: a worker thread doing CPU work, progress,
 * logs, cancellation and resume. Its result digest is the same whether or not it was interrupted.
 */
export const runDemoJob: JobHandler<'demo'> = async (context) => {
  const { steps, stepMs } = context.params
  const start = readCheckpoint(context.checkpoint, steps)
  if (start.step > 0) context.log(`Resuming at step ${start.step} of ${steps}`)
  else context.log(`Starting ${steps} steps of ${stepMs} ms on ${context.threads} thread(s)`)
  const logEvery = Math.max(1, Math.round(steps / 10))
  let digest = start.digest
  let hashesComputed = 0
  for (let step = start.step; step < steps; step++) {
    context.signal.throwIfAborted()
    hashesComputed += spendCpu(stepMs)
    digest = nextDemoDigest(digest, step)
    context.saveCheckpoint({ step: step + 1, digest } satisfies DemoCheckpoint)
    context.progress(step + 1, steps, `Step ${step + 1} of ${steps}`)
    if ((step + 1) % logEvery === 0) context.log(`Finished step ${step + 1} of ${steps}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { steps, digest, resumedFromStep: start.step, hashesComputed } satisfies DemoResult
}
