import { z } from 'zod'

export interface AppInfo {
  name: string
  version: string
  /** 'electron' inside the desktop app, 'browser-bridge' in the development bridge, 'cli' in the terminal. */
  shell: 'electron' | 'browser-bridge' | 'cli'
  platform: string
  arch: string
  versions: Record<string, string>
}

export const settingsSchema = z
  .object({
    /** Compute threads per ORT session or llama.cpp context; 'auto' leaves one core for the UI. */
    computeThreads: z.union([z.literal('auto'), z.number().int().min(1).max(512)]),
    /**
     * The hard offline switch: when true no network path runs (model downloads, OpenAI-compatible endpoints).
     * On by default, so a privacy-first install never touches the network until the user says so; a settings file
     * from before the switch existed reads as offline.
     */
    offline: z.boolean().default(true),
    /** Colour theme of the window; absent means 'system' (follows prefers-color-scheme). */
    theme: z.enum(['system', 'light', 'dark']).optional(),
  })
  .strict()
export type AppSettings = z.output<typeof settingsSchema>
// Built without the defaults, so a patch that leaves `offline` out does not switch it back on.
export const settingsPatchSchema = z
  .object({ computeThreads: settingsSchema.shape.computeThreads, offline: z.boolean(), theme: z.enum(['system', 'light', 'dark']) })
  .partial()
  .strict()
export type SettingsPatch = z.output<typeof settingsPatchSchema>
export const DEFAULT_SETTINGS: AppSettings = { computeThreads: 'auto', offline: true }

/** What probing one training execution provider found (core/train/executionProviders.ts). */
export interface ExecutionProviderProbe {
  /** Training runs on cpu, webgpu or cuda; directml and coreml are probed for the hardware report. */
  provider: 'cpu' | 'webgpu' | 'cuda' | 'directml' | 'coreml'
  /** A real session ran on this provider alone and returned the right numbers. */
  available: boolean
  /** Why it is unavailable, in words a user can act on; `null` when available. */
  reason: string | null
  /** Shared libraries the provider needs that the loader cannot find (Linux). */
  missingLibraries: string[]
}

export interface HardwareReport {
  cpuModel: string
  logicalCores: number
  /** Physical cores, where the OS tells (sysfs, sysctl, CIM); `null` otherwise. */
  physicalCores: number | null
  /** Threads 'auto' resolves to on this machine. */
  autoThreads: number
  /** Threads in effect with the current settings. */
  effectiveThreads: number
  totalMemoryBytes: number
  freeMemoryBytes: number
  platform: string
  arch: string
  osRelease: string
  /** Accelerators found so far; GPU probing for training and inference is reported here. */
  accelerators: { name: string; kind: string; memoryBytes: number | null }[]
  acceleratorNote: string
  /** Every training execution provider, probed once per app run. */
  executionProviders: ExecutionProviderProbe[]
  /** Every compute path of both runtimes (llama.cpp and ONNX Runtime), with the reason and the fix when unusable. */
  computePaths: ComputePath[]
  /** The device each stage will use with automatic selection. */
  stages: StageDevice[]
  /** One line: "CPU only: …" or the GPUs in use. */
  summary: string
}

/** One backend of one runtime, tested for real in a child process (core/system/hardwareReport.ts). */
export interface ComputePath {
  runtime: 'llama.cpp' | 'onnxruntime'
  backend: 'cpu' | 'cuda' | 'vulkan' | 'metal' | 'webgpu' | 'directml' | 'coreml'
  /** "CUDA", "Vulkan", "WebGPU"… */
  label: string
  available: boolean
  /** Why it cannot be used; `null` when available. */
  reason: string | null
  /** What to install or change to make it usable; `null` when available or when nothing can be done on this machine. */
  install: string | null
  missingLibraries: string[]
  /** The GPUs this path sees, where the runtime reports them (llama.cpp does; ONNX Runtime does not). */
  devices: { name: string; vramTotalBytes: number | null }[]
}

export interface StageDevice {
  stage: 'generation' | 'embedding' | 'training'
  runtime: ComputePath['runtime']
  backend: ComputePath['backend']
  /** "CPU", or "CUDA (NVIDIA GeForce RTX 4090)". */
  device: string
}
