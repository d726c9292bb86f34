import { availableParallelism, cpus, freemem, release, totalmem } from 'node:os'
import type { AppSettings, ExecutionProviderProbe, HardwareReport } from '../../shared/types/app.js'
import { detectComputeThreads, probeExecutionProviders, type ComputeThreads } from '../train/executionProviders.js'

/** 'auto' keeps one core free for the UI and the main process, and never goes below one thread. */
export function autoComputeThreads(logicalCores = availableParallelism()): number {
  return Math.max(1, logicalCores - 1)
}

export function resolveComputeThreads(setting: AppSettings['computeThreads']): number {
  return setting === 'auto' ? autoComputeThreads() : setting
}

let probed: Promise<{ cores: ComputeThreads; probes: ExecutionProviderProbe[] }> | undefined

/** Cores and execution providers, probed once per process: the probes spawn three short child processes (≈0.4 s). */
export function probeHardwareOnce(): Promise<{ cores: ComputeThreads; probes: ExecutionProviderProbe[] }> {
  probed ??= Promise.all([detectComputeThreads(), probeExecutionProviders()]).then(
    ([cores, probes]) => ({ cores, probes }),
    (error: unknown) => {
      probed = undefined
      throw error
    },
  )
  return probed
}

export async function hardwareReport(settings: AppSettings): Promise<HardwareReport> {
  const cpuList = cpus()
  const { cores, probes } = await probeHardwareOnce()
  const gpus = probes.filter((p) => p.provider !== 'cpu' && p.available)
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    logicalCores: availableParallelism(),
    physicalCores: cores.physicalCores,
    autoThreads: autoComputeThreads(),
    effectiveThreads: resolveComputeThreads(settings.computeThreads),
    totalMemoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    platform: process.platform,
    arch: process.arch,
    osRelease: release(),
    accelerators: gpus.map((p) => ({ name: p.provider === 'cuda' ? 'CUDA' : 'WebGPU', kind: p.provider, memoryBytes: null })),
    acceleratorNote:
      gpus.length > 0
        ? 'Training can run on the GPUs listed; onnxruntime-node cannot report their memory.'
        : ['Training runs on the CPU.', ...probes.flatMap((p) => (p.reason === null ? [] : [p.reason]))].join(' '),
    executionProviders: probes,
  }
}
