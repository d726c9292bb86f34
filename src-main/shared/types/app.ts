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
  })
  .strict()
export type AppSettings = z.output<typeof settingsSchema>
export const settingsPatchSchema = settingsSchema.partial().strict()
export type SettingsPatch = z.output<typeof settingsPatchSchema>
export const DEFAULT_SETTINGS: AppSettings = { computeThreads: 'auto' }

/** What probing one training execution provider found (core/train/executionProviders.ts). */
export interface ExecutionProviderProbe {
  provider: 'cpu' | 'webgpu' | 'cuda'
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
}
