import { availableParallelism, cpus, freemem, release, totalmem } from 'node:os'
import type { AppSettings, HardwareReport } from '../../shared/types/app.js'

/** 'auto' keeps one core free for the UI and the main process, and never goes below one thread. */
export function autoComputeThreads(logicalCores = availableParallelism()): number {
  return Math.max(1, logicalCores - 1)
}

export function resolveComputeThreads(setting: AppSettings['computeThreads']): number {
  return setting === 'auto' ? autoComputeThreads() : setting
}

export function hardwareReport(settings: AppSettings): HardwareReport {
  const cpuList = cpus()
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    logicalCores: availableParallelism(),
    autoThreads: autoComputeThreads(),
    effectiveThreads: resolveComputeThreads(settings.computeThreads),
    totalMemoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    platform: process.platform,
    arch: process.arch,
    osRelease: release(),
    accelerators: [],
    acceleratorNote: 'GPU probing (CUDA, WebGPU, Vulkan) arrives with the training engine; CPU is always available.',
  }
}
