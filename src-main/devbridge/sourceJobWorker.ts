import { fileURLToPath } from 'node:url'
import type { WorkerOptions } from '../core/app/Workspace.js'

/** Job workers straight from the TypeScript source, through tsx: for the dev bridge and tests, never shipped. */
export function sourceJobWorker(overrides: Partial<WorkerOptions> = {}): WorkerOptions {
  return { workerScript: fileURLToPath(new URL('./jobWorkerFromSource.mjs', import.meta.url)), ...overrides }
}

/** The quantize worker straight from the TypeScript source, through tsx. */
export function sourceQuantizeWorker(): Pick<WorkerOptions, 'workerScript'> {
  return { workerScript: fileURLToPath(new URL('./quantizeWorkerFromSource.mjs', import.meta.url)) }
}
