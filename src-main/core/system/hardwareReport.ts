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

/** The three probings of a hardware report, each a function so a test can hold one back. */
export interface HardwareProbers {
  detectCores(): Promise<ComputeThreads>
  probeExecutionProviders(): Promise<ExecutionProviderProbe[]>
  probeLlamaBackends(): Promise<LlamaBackendVerdict[]>
}

const MACHINE_PROBERS: HardwareProbers = {
  detectCores: detectComputeThreads,
  probeExecutionProviders: () => probeExecutionProviders({ providers: REPORTED_EXECUTION_PROVIDERS }),
  probeLlamaBackends: () => probeLlamaBackends({ findMissing: (libraries) => findMissingLibraries(libraries) }),
}

/**
 * Cores, ONNX Runtime providers and llama.cpp backends, each probed once and cached. Every native probe runs in a
 * child process (core/system/probeChild.ts): the ORT ones one after another, the llama.cpp ones side by side with
 * them (a few seconds in all). The ORT probes are kept as a promise of their own, so training can take them as
 * soon as they are done, without waiting for the llama.cpp ones. A failed probing is not cached, so the next call
 * tries it again.
 */
export class HardwareProbing {
  private readonly probers: HardwareProbers
  private cores: Promise<ComputeThreads> | undefined
  private executionProviders: Promise<ExecutionProviderProbe[]> | undefined
  private llama: Promise<LlamaBackendVerdict[]> | undefined
  private all: Promise<HardwareProbes> | undefined

  constructor(probers: HardwareProbers = MACHINE_PROBERS) {
    this.probers = probers
  }

  probe(): Promise<HardwareProbes> {
    this.cores ??= this.forgetOnFailure(this.probers.detectCores(), () => (this.cores = undefined))
    this.executionProviders ??= this.forgetOnFailure(this.probers.probeExecutionProviders(), () => (this.executionProviders = undefined))
    this.llama ??= this.forgetOnFailure(this.probers.probeLlamaBackends(), () => (this.llama = undefined))
    this.all ??= this.forgetOnFailure(
      Promise.all([this.cores, this.executionProviders, this.llama]).then(([cores, probes, llama]) => ({ cores, probes, llama })),
      () => (this.all = undefined),
    )
    return this.all
  }

  /**
   * The ONNX Runtime provider probes made or being made, so training can take them instead of probing again; null
   * when probing has not started (the CLI). The promise gives null when that probing fails.
   */
  knownExecutionProviders(): Promise<ExecutionProviderProbe[] | null> | null {
    return this.executionProviders?.catch(() => null) ?? null
  }

  private forgetOnFailure<T>(probing: Promise<T>, forget: () => void): Promise<T> {
    probing.catch(forget)
    return probing
  }
}

/** This process's probing, for the hardware report and the training jobs it starts. */
const machineProbing = new HardwareProbing()

/** This machine's cores, ONNX Runtime providers and llama.cpp backends, probed once per process (`HardwareProbing`). */
export function probeHardwareOnce(): Promise<HardwareProbes> {
  return machineProbing.probe()
}

/** The ONNX Runtime provider probes of this process's hardware report (`HardwareProbing.knownExecutionProviders`). */
export function knownExecutionProviderProbes(): Promise<ExecutionProviderProbe[] | null> | null {
  return machineProbing.knownExecutionProviders()
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
