import { getPriority, setPriority } from 'node:os'

/**
 * Nice value of a job's threads on Linux. A nice-0 thread (the window's renderer, the main process) that wakes on a
 * core a job thread holds is put on it promptly, and gets about nine tenths of a contested core (kernel weights 1024
 * against 110).
 */
export const JOB_THREAD_NICE = 10

/**
 * Lowers the calling thread's scheduling priority to JOB_THREAD_NICE, before the job starts any compute, so that the
 * threads it starts later (ONNX Runtime's intra-op pool, helper workers) inherit it and the UI stays responsive
 * while every core is busy. node-llama-cpp is not reached: it evaluates on libuv's thread pool, which the whole
 * process shares. Returns a line to log when the priority could not be lowered; never throws, so a job never fails
 * over its priority.
 *
 * Only on Linux, where setpriority(PRIO_PROCESS, 0), which `os.setPriority(0, n)` calls, changes the calling thread
 * alone. On Windows libuv turns the same call into SetPriorityClass on the whole process, and on macOS PRIO_PROCESS
 * names the whole process too: there it would slow the window as much as the job, so nothing is changed.
 */
export function lowerJobThreadPriority(platform: NodeJS.Platform = process.platform): string | null {
  if (platform !== 'linux') return null
  try {
    // Already as low or lower (the app was started under `nice`): raising it back would need privileges.
    if (getPriority(0) >= JOB_THREAD_NICE) return null
    setPriority(0, JOB_THREAD_NICE)
    return null
  } catch (error) {
    return `Could not lower this job's CPU priority (it runs at the app's priority): ${(error as Error).message}`
  }
}
