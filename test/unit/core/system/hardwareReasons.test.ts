import { describe, expect, it } from 'vitest'
import { computePaths, hardwareSummary, ortInstallHint, stageDevices } from '../../../../src-main/core/system/hardwareSummary.js'
import { llamaBackendVerdict, type LlamaBackendObservation, type LlamaChildResult } from '../../../../src-main/core/system/llamaBackends.js'
import type { ExecutionProviderProbe } from '../../../../src-main/shared/types/app.js'

const loadFailed: LlamaChildResult = { supported: [false], load: { ok: false, error: 'NoBinaryFoundError' }, loaderError: null, logs: [] }

function observe(overrides: Partial<LlamaBackendObservation> = {}): LlamaBackendObservation {
  return {
    backend: 'cuda',
    platform: 'linux',
    arch: 'x64',
    validOnPlatform: true,
    binaryPackage: { name: '@node-llama-cpp/linux-x64-cuda', installed: true },
    child: { result: loadFailed, timedOut: false, timeoutMs: 60_000, exit: 'exit code 0' },
    missing: { missing: [], details: [] },
    vulkanIcds: null,
    ...overrides,
  }
}

describe('llamaBackendVerdict', () => {
  it('names the missing CUDA libraries and says to install the driver and the CUDA 13 runtime', () => {
    const v = llamaBackendVerdict(
      observe({
        missing: { missing: ['libcuda.so.1', 'libcublas.so.13'], details: ['libcuda.so.1 (the NVIDIA driver)', 'libcublas.so.13 (cuBLAS, CUDA 13)'] },
        child: { result: { ...loadFailed, loaderError: 'libcublas.so.13: cannot open shared object file: No such file or directory' }, timedOut: false, timeoutMs: 1, exit: '' },
      }),
    )
    expect(v).toMatchObject({ backend: 'cuda', available: false, missingLibraries: ['libcuda.so.1', 'libcublas.so.13'] })
    expect(v.reason).toBe('CUDA is not available: missing libcuda.so.1 (the NVIDIA driver); libcublas.so.13 (cuBLAS, CUDA 13).')
    expect(v.install).toMatch(/^CUDA needs an NVIDIA GPU\. Install its driver .* and the CUDA 13 runtime and cuBLAS/)
  })

  it("quotes the loader's message when the library search found nothing missing", () => {
    const v = llamaBackendVerdict(observe({ child: { result: { ...loadFailed, loaderError: 'libfoo.so.2: cannot open shared object file' }, timedOut: false, timeoutMs: 1, exit: '' } }))
    expect(v.reason).toBe('CUDA is not available: the loader says "libfoo.so.2: cannot open shared object file".')
  })

  it('says when Vulkan has a loader but no driver (ICD)', () => {
    const v = llamaBackendVerdict(observe({ backend: 'vulkan', binaryPackage: { name: '@node-llama-cpp/linux-x64-vulkan', installed: true }, vulkanIcds: [] }))
    expect(v.reason).toBe('Vulkan is not available: no Vulkan driver (ICD) is installed.')
    expect(v.install).toContain('libvulkan1')
  })

  it('reports a platform without the backend, with nothing to install', () => {
    const v = llamaBackendVerdict(observe({ backend: 'metal', validOnPlatform: false, binaryPackage: null, child: null }))
    expect(v).toMatchObject({ available: false, install: null, reason: 'Metal is not available on linux x64: llama.cpp uses Metal only on Macs with Apple silicon.' })
  })

  it('reports a missing prebuilt binary package', () => {
    const v = llamaBackendVerdict(observe({ binaryPackage: { name: '@node-llama-cpp/linux-x64-cuda', installed: false }, child: null }))
    expect(v.reason).toBe('CUDA is not available: its prebuilt binary package @node-llama-cpp/linux-x64-cuda is not installed.')
  })

  it('reports a hung or crashed probe', () => {
    expect(llamaBackendVerdict(observe({ child: { result: null, timedOut: true, timeoutMs: 60_000, exit: 'signal SIGKILL' } })).reason).toBe(
      'CUDA is not available: the probe did not finish within 60 s and was stopped (a driver may be hanging).',
    )
    expect(llamaBackendVerdict(observe({ child: { result: null, timedOut: false, timeoutMs: 60_000, exit: 'signal SIGSEGV' } })).reason).toBe(
      'CUDA is not available: the probe process died (signal SIGSEGV).',
    )
  })

  it("falls back to node-llama-cpp's own detection, then to the load error", () => {
    expect(llamaBackendVerdict(observe()).reason).toBe('CUDA is not available: node-llama-cpp found no CUDA driver or runtime on this machine.')
    expect(llamaBackendVerdict(observe({ child: { result: { ...loadFailed, supported: [false, 'cuda'] }, timedOut: false, timeoutMs: 1, exit: '' } })).reason).toBe(
      'CUDA is not available: the CUDA build failed to load (NoBinaryFoundError).',
    )
  })

  it('is available with the GPU names and VRAM llama.cpp reports, and says "no GPU found" without a device', () => {
    const loaded = (deviceNames: string[], vramTotalBytes: number): LlamaBackendObservation['child'] => ({
      result: { supported: ['cuda', false], load: { ok: true, gpu: 'cuda', deviceNames, vramTotalBytes, vramFreeBytes: 0 }, loaderError: null, logs: [] },
      timedOut: false,
      timeoutMs: 1,
      exit: '',
    })
    expect(llamaBackendVerdict(observe({ child: loaded(['NVIDIA GeForce RTX 4090'], 24e9) }))).toEqual({
      backend: 'cuda',
      available: true,
      reason: null,
      install: null,
      missingLibraries: [],
      devices: [{ name: 'NVIDIA GeForce RTX 4090', vramTotalBytes: 24e9 }],
    })
    expect(llamaBackendVerdict(observe({ child: loaded([], 0) })).reason).toBe('CUDA is not available: no GPU found: the CUDA build loaded but llama.cpp sees no CUDA device.')
  })
})

const ort = (provider: ExecutionProviderProbe['provider'], reason: string | null): ExecutionProviderProbe => ({ provider, available: reason === null, reason, missingLibraries: [] })

describe('computePaths, stageDevices and hardwareSummary', () => {
  const cpuOnlyLlama = [
    llamaBackendVerdict(observe({ backend: 'cpu', binaryPackage: null, child: { result: { ...loadFailed, load: { ok: true, gpu: false, deviceNames: [], vramTotalBytes: 0, vramFreeBytes: 0 } }, timedOut: false, timeoutMs: 1, exit: '' } })),
    llamaBackendVerdict(observe()),
    llamaBackendVerdict(observe({ backend: 'vulkan', vulkanIcds: [] })),
    llamaBackendVerdict(observe({ backend: 'metal', validOnPlatform: false, binaryPackage: null, child: null })),
  ]
  const cpuOnlyOrt = [
    ort('cpu', null),
    ort('webgpu', 'WebGPU is not available: No supported adapters.'),
    ort('cuda', 'CUDA is not available: Failed to load shared library.'),
    ort('directml', 'DirectML is not available on linux x64: onnxruntime-node ships its DirectML provider for Windows only.'),
    ort('coreml', 'CoreML is not available on linux x64: onnxruntime-node ships its CoreML provider for macOS on Apple silicon only.'),
  ]

  it('says CPU only, and which GPU paths are unusable and which are not on this platform', () => {
    const paths = computePaths(cpuOnlyLlama, cpuOnlyOrt, 'linux', 'x64')
    expect(paths.map((p) => `${p.runtime}:${p.backend}`)).toEqual([
      'llama.cpp:cpu', 'llama.cpp:cuda', 'llama.cpp:vulkan', 'llama.cpp:metal',
      'onnxruntime:cpu', 'onnxruntime:webgpu', 'onnxruntime:cuda', 'onnxruntime:directml', 'onnxruntime:coreml',
    ])
    expect(hardwareSummary(paths)).toBe(
      'CPU only: no GPU path is usable (llama.cpp: CUDA, Vulkan unusable, Metal not on this platform; ONNX Runtime: WebGPU, CUDA unusable, DirectML, CoreML not on this platform).',
    )
    expect(stageDevices(paths).map((s) => `${s.stage}:${s.runtime}:${s.device}`)).toEqual(['generation:llama.cpp:CPU', 'embedding:llama.cpp:CPU', 'training:onnxruntime:CPU'])
    expect(paths.find((p) => p.runtime === 'onnxruntime' && p.backend === 'cuda')?.install).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12')
    expect(paths.find((p) => p.backend === 'directml')?.install).toBeNull()
  })

  it('puts generation on the GPU llama.cpp found and training on the GPU ORT found', () => {
    const gpuLlama = cpuOnlyLlama.map((v) => (v.backend === 'cuda' ? { ...v, available: true, reason: null, install: null, devices: [{ name: 'RTX 4090', vramTotalBytes: 24e9 }] } : v))
    const gpuOrt = cpuOnlyOrt.map((p) => (p.provider === 'webgpu' ? ort('webgpu', null) : p))
    const paths = computePaths(gpuLlama, gpuOrt, 'linux', 'x64')
    expect(stageDevices(paths).map((s) => s.device)).toEqual(['CUDA (RTX 4090)', 'CUDA (RTX 4090)', 'WebGPU'])
    expect(hardwareSummary(paths)).toMatch(/^Generation and embedding on CUDA \(RTX 4090\), training on WebGPU \(llama\.cpp: uses CUDA \(RTX 4090\), Vulkan unusable/)
  })

  it('has install hints only where something can be installed', () => {
    expect(ortInstallHint('coreml', 'darwin', 'arm64')).toMatch(/macOS/)
    expect(ortInstallHint('coreml', 'linux', 'x64')).toBeNull()
    expect(ortInstallHint('cuda', 'darwin', 'arm64')).toBeNull()
    expect(ortInstallHint('webgpu', 'linux', 'x64')).toMatch(/Vulkan loader/)
  })
})
