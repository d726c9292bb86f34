import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { hardwareReport, probeHardwareOnce } from '../../../../src-main/core/system/hardwareReport.js'
import type { HardwareReport } from '../../../../src-main/shared/types/app.js'

/** This VM has no GPU, no NVIDIA driver and no Vulkan loader: every GPU path must be reported unusable, each with its reason. */
const thisIsTheGpuLessVm = process.platform === 'linux' && process.arch === 'x64' && !existsSync('/dev/nvidia0') && !existsSync('/dev/dri')

describe('hardwareReport on this machine (real probes in child processes)', () => {
  let report: HardwareReport
  it('probes both runtimes once and caches the result', async () => {
    const start = performance.now()
    report = await hardwareReport({ computeThreads: 'auto', offline: true })
    const firstMs = performance.now() - start
    const again = performance.now()
    expect(await probeHardwareOnce()).toBe(await probeHardwareOnce())
    await hardwareReport({ computeThreads: 1, offline: true })
    expect(performance.now() - again).toBeLessThan(500)
    console.log(report.summary, `\n(first report ${firstMs.toFixed(0)} ms)`)
    for (const p of report.computePaths) console.log(`${p.runtime} ${p.label}: ${p.available ? 'available' : p.reason} ${p.install ?? ''}`)
    expect(report.computePaths.map((p) => `${p.runtime}:${p.backend}`)).toEqual([
      'llama.cpp:cpu', 'llama.cpp:cuda', 'llama.cpp:vulkan', 'llama.cpp:metal',
      'onnxruntime:cpu', 'onnxruntime:webgpu', 'onnxruntime:cuda', 'onnxruntime:directml', 'onnxruntime:coreml',
    ])
    for (const p of report.computePaths) {
      if (p.available) expect(p.reason).toBeNull()
      else expect(p.reason).toMatch(new RegExp(`^${p.label} is not available[ :].{10,}`))
    }
    expect(report.computePaths.filter((p) => p.backend === 'cpu').every((p) => p.available)).toBe(true)
  }, 180_000)

  it.runIf(thisIsTheGpuLessVm)('states CPU only, with the reason for each GPU path and what to install', () => {
    expect(report.summary).toMatch(/^CPU only: /)
    expect(report.stages.map((s) => `${s.stage}:${s.runtime}:${s.device}`)).toEqual(['generation:llama.cpp:CPU', 'embedding:llama.cpp:CPU', 'training:onnxruntime:CPU'])
    expect(report.accelerators).toEqual([])
    const path = (runtime: string, backend: string) => report.computePaths.find((p) => p.runtime === runtime && p.backend === backend)!
    for (const [runtime, backend] of [['llama.cpp', 'cuda'], ['llama.cpp', 'vulkan'], ['llama.cpp', 'metal'], ['onnxruntime', 'webgpu'], ['onnxruntime', 'cuda'], ['onnxruntime', 'directml'], ['onnxruntime', 'coreml']] as const) {
      expect(path(runtime, backend).available, `${runtime} ${backend}`).toBe(false)
      expect(path(runtime, backend).reason?.length ?? 0, `${runtime} ${backend}`).toBeGreaterThan(30)
    }
    // The causes this machine really has: no NVIDIA driver, no Vulkan loader, wrong platform for Metal/DirectML/CoreML.
    expect(path('llama.cpp', 'cuda').missingLibraries).toContain('libcuda.so.1')
    expect(path('llama.cpp', 'cuda').reason).toContain('libcuda.so.1 (the NVIDIA driver)')
    expect(path('llama.cpp', 'cuda').install).toMatch(/NVIDIA/)
    expect(path('llama.cpp', 'vulkan').reason).toContain('libvulkan.so.1 (the Vulkan loader)')
    expect(path('llama.cpp', 'vulkan').install).toContain('libvulkan1')
    expect(path('llama.cpp', 'metal').reason).toBe('Metal is not available on linux x64: llama.cpp uses Metal only on Macs with Apple silicon.')
    expect(path('onnxruntime', 'webgpu').missingLibraries).toContain('libvulkan.so.1')
    expect(path('onnxruntime', 'cuda').reason).toContain('libcudnn.so.9')
    expect(path('onnxruntime', 'directml').reason).toMatch(/^DirectML is not available on linux x64: .*Windows only/)
    expect(path('onnxruntime', 'coreml').reason).toMatch(/^CoreML is not available on linux x64: .*macOS/)
  })
})
