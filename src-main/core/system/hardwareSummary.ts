import type { ComputePath, ExecutionProviderProbe, StageDevice } from '../../shared/types/app.js'
import type { LlamaBackendVerdict } from './llamaBackends.js'
import { LLAMA_BACKEND_LABELS } from './llamaBackends.js'

const ORT_LABELS: Record<ExecutionProviderProbe['provider'], string> = { cpu: 'CPU', webgpu: 'WebGPU', cuda: 'CUDA', directml: 'DirectML', coreml: 'CoreML' }

/** What to install for an ONNX Runtime provider that is not usable; `null` where nothing can make it work on this platform. */
export function ortInstallHint(provider: ExecutionProviderProbe['provider'], platform: string, arch: string): string | null {
  switch (provider) {
    case 'cpu':
      return null
    case 'cuda':
      return platform === 'linux' && arch === 'x64'
        ? "Install an NVIDIA driver, the CUDA 12 runtime with cuBLAS, cuFFT and cuRAND, and cuDNN 9 on the loader path, and onnxruntime-node's CUDA provider (reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12)."
        : null
    case 'webgpu':
      if (platform === 'linux') return 'Install the Vulkan loader (libvulkan1) and a Vulkan driver for your GPU (the NVIDIA driver, or Mesa 23 or newer for AMD/Intel).'
      return 'Install or update your GPU driver (WebGPU runs over Direct3D 12 on Windows and Metal on macOS).'
    case 'directml':
      return platform === 'win32' ? 'Install or update your GPU driver; DirectML needs a DirectX 12 GPU on Windows 10 or newer.' : null
    case 'coreml':
      return platform === 'darwin' && arch === 'arm64' ? 'CoreML is part of macOS; update macOS if it fails.' : null
  }
}

/** Both runtimes' probes as one list: llama.cpp backends first, then ONNX Runtime providers, in probing order. */
export function computePaths(llama: readonly LlamaBackendVerdict[], ort: readonly ExecutionProviderProbe[], platform: string, arch: string): ComputePath[] {
  return [
    ...llama.map(
      (v): ComputePath => ({
        runtime: 'llama.cpp',
        backend: v.backend,
        label: LLAMA_BACKEND_LABELS[v.backend],
        available: v.available,
        reason: v.reason,
        install: v.available ? null : v.install,
        missingLibraries: v.missingLibraries,
        devices: v.devices,
      }),
    ),
    ...ort.map(
      (p): ComputePath => ({
        runtime: 'onnxruntime',
        backend: p.provider,
        label: ORT_LABELS[p.provider],
        available: p.available,
        reason: p.reason,
        install: p.available ? null : ortInstallHint(p.provider, platform, arch),
        missingLibraries: p.missingLibraries,
        devices: [],
      }),
    ),
  ]
}

/** node-llama-cpp's `gpu: 'auto'` order, and the order training's 'auto' takes (core/train/executionProviders.ts). */
const LLAMA_PREFERENCE = ['metal', 'cuda', 'vulkan'] as const
const ORT_PREFERENCE = ['cuda', 'webgpu'] as const

function deviceName(path: ComputePath): string {
  const names = [...new Set(path.devices.map((d) => d.name))]
  return names.length > 0 ? `${path.label} (${names.join(', ')})` : path.label
}

/** The device each stage uses with automatic selection: generation and embedding on llama.cpp, training on ONNX Runtime. */
export function stageDevices(paths: readonly ComputePath[]): StageDevice[] {
  const pick = (runtime: ComputePath['runtime'], order: readonly ComputePath['backend'][]): ComputePath | undefined =>
    order.map((backend) => paths.find((p) => p.runtime === runtime && p.backend === backend && p.available)).find((p) => p !== undefined)
  const cpu = (runtime: ComputePath['runtime']): Omit<StageDevice, 'stage'> => ({ runtime, backend: 'cpu', device: 'CPU' })
  const llama = pick('llama.cpp', LLAMA_PREFERENCE)
  const ort = pick('onnxruntime', ORT_PREFERENCE)
  const llamaDevice = llama === undefined ? cpu('llama.cpp') : { runtime: 'llama.cpp' as const, backend: llama.backend, device: deviceName(llama) }
  const ortDevice = ort === undefined ? cpu('onnxruntime') : { runtime: 'onnxruntime' as const, backend: ort.backend, device: deviceName(ort) }
  return [
    { stage: 'generation', ...llamaDevice },
    { stage: 'embedding', ...llamaDevice },
    { stage: 'training', ...ortDevice },
  ]
}

/**
 * One line for the whole report. With no GPU path usable: "CPU only: no GPU path is usable (llama.cpp: CUDA,
 * Vulkan unavailable, Metal not on this platform; ONNX Runtime: …)". Otherwise which GPU each runtime uses.
 */
export function hardwareSummary(paths: readonly ComputePath[]): string {
  const gpus = paths.filter((p) => p.backend !== 'cpu' && p.available)
  const runtimeName = (runtime: ComputePath['runtime']): string => (runtime === 'llama.cpp' ? 'llama.cpp' : 'ONNX Runtime')
  const byRuntime = (runtime: ComputePath['runtime']): string => {
    const gpuPaths = paths.filter((p) => p.runtime === runtime && p.backend !== 'cpu')
    const usable = gpuPaths.filter((p) => p.available).map(deviceName)
    const notHere = gpuPaths.filter((p) => !p.available && p.reason?.includes('not available on ') === true).map((p) => p.label)
    const failed = gpuPaths.filter((p) => !p.available && !notHere.includes(p.label)).map((p) => p.label)
    const parts = [
      ...(usable.length > 0 ? [`uses ${usable.join(', ')}`] : []),
      ...(failed.length > 0 ? [`${failed.join(', ')} unusable`] : []),
      ...(notHere.length > 0 ? [`${notHere.join(', ')} not on this platform`] : []),
    ]
    return `${runtimeName(runtime)}: ${parts.join(', ')}`
  }
  const detail = `${byRuntime('llama.cpp')}; ${byRuntime('onnxruntime')}`
  if (gpus.length === 0) return `CPU only: no GPU path is usable (${detail}).`
  const stages = stageDevices(paths)
  const gen = stages.find((s) => s.stage === 'generation')!
  const train = stages.find((s) => s.stage === 'training')!
  return `Generation and embedding on ${gen.device}, training on ${train.device} (${detail}).`
}
