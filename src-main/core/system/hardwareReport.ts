import { availableParallelism, cpus, freemem, release, totalmem } from 'node:os'
import type { AppSettings, ExecutionProviderProbe, HardwareReport } from '../../shared/types/app.js'
import {
  detectComputeThreads,
  findMissingLibraries,
  probeExecutionProviders,
  REPORTED_EXECUTION_PROVIDERS,
  type ComputeThreads,
} from '../train/executionProviders.js'
import { computePaths, hardwareSummary, stageDevices } from './hardwareSummary.js'
import { probeLlamaBackends, type LlamaBackendVerdict } from './llamaBackends.js'

/**
 * The one rule for jobs' compute threads when the user has not set a number ('auto'; the CLI without --threads
 * too): one core is left free for the UI and the main process, never below one thread. Job threads also run at a
 * lower priority (core/jobs/jobThreadPriority.ts), but a job's compute threads wait for one another at each
 * operation, so one of them losing its core stalls the rest: on a busy 2-core machine a tiny MoRA run made about
 * twice as many steps a second on 1 thread as on 2. A number the user set is used as it is.
 */
export function autoComputeThreads(logicalCores = availableParallelism()): number {
  return Math.max(1, logicalCores - 1)
}

export function resolveComputeThreads(setting: AppSettings['computeThreads']): number {
  return setting === 'auto' ? autoComputeThreads() : setting
}

export interface HardwareProbes {
  cores: ComputeThreads
  /** ONNX Runtime providers (training): cpu, webgpu, cuda, directml, coreml. */
  probes: ExecutionProviderProbe[]
  /** llama.cpp backends (generation, embedding): cpu, cuda, vulkan, metal. */
  llama: LlamaBackendVerdict[]
}

let probed: Promise<HardwareProbes> | undefined

/**
 * Cores, ONNX Runtime providers and llama.cpp backends, probed once per process and cached. Every native probe
 * runs in a child process (core/system/probeChild.ts): the ORT ones one after another, the llama.cpp ones side
 * by side with them (a few seconds in all). A failed probing is not cached, so the next call tries again.
 */
export function probeHardwareOnce(): Promise<HardwareProbes> {
  probed ??= Promise.all([
    detectComputeThreads(),
    probeExecutionProviders({ providers: REPORTED_EXECUTION_PROVIDERS }),
    probeLlamaBackends({ findMissing: (libraries) => findMissingLibraries(libraries) }),
  ]).then(
    ([cores, probes, llama]) => ({ cores, probes, llama }),
    (error: unknown) => {
      probed = undefined
      throw error
    },
  )
  return probed
}

/**
 * The ONNX Runtime provider probes this process has made or is making for its hardware report, so training can
 * take them instead of probing again; null when it has not started probing (the CLI). The promise gives null
 * when that probing fails.
 */
export function knownExecutionProviderProbes(): Promise<ExecutionProviderProbe[] | null> | null {
  return probed?.then(({ probes }) => probes, () => null) ?? null
}

export async function hardwareReport(settings: AppSettings): Promise<HardwareReport> {
  const cpuList = cpus()
  const { cores, probes, llama } = await probeHardwareOnce()
  const paths = computePaths(llama, probes, process.platform, process.arch)
  const gpus = paths.filter((p) => p.backend !== 'cpu' && p.available)
  const ortGpus = probes.filter((p) => p.provider !== 'cpu' && p.available)
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
    accelerators: gpus.flatMap((p) =>
      p.devices.length > 0
        ? p.devices.map((d) => ({ name: `${d.name} · ${p.runtime === 'llama.cpp' ? 'llama.cpp' : 'ONNX Runtime'}`, kind: p.backend, memoryBytes: d.vramTotalBytes }))
        : [{ name: `${p.label} · ${p.runtime === 'llama.cpp' ? 'llama.cpp' : 'ONNX Runtime'}`, kind: p.backend, memoryBytes: null }],
    ),
    acceleratorNote:
      ortGpus.length > 0
        ? 'Training can run on the GPUs listed; onnxruntime-node cannot report their memory.'
        : ['Training runs on the CPU.', ...probes.flatMap((p) => (p.reason === null ? [] : [p.reason]))].join(' '),
    executionProviders: probes,
    computePaths: paths,
    stages: stageDevices(paths),
    summary: hardwareSummary(paths),
  }
}
