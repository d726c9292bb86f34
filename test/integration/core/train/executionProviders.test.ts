import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { OnnxGraphBuilder } from '../../../../src-main/core/autodiff/onnx/OnnxGraphBuilder.js'
import {
  chooseExecutionProvider,
  detectComputeThreads,
  findMissingCudaLibraries,
  probeExecutionProviders,
  sessionThreadOptions,
  type ExecutionProviderProbe,
} from '../../../../src-main/core/train/executionProviders.js'
import { measureFastestThreads, measureMatMulPeak } from '../../../../src-main/core/train/matmulPeak.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()
const PROBE_TIMEOUT_MS = 30_000

const ortBin = join(dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node'))), 'bin', 'napi-v6', process.platform, process.arch)
/** Our installs skip the CUDA download (ONNXRUNTIME_NODE_INSTALL=skip), so CUDA cannot work without these. */
const cudaProviderInstalled = existsSync(join(ortBin, 'libonnxruntime_providers_cuda.so'))

describe('probeExecutionProviders on this machine', () => {
  let probes: ExecutionProviderProbe[]
  let elapsedMs: number
  beforeAll(async () => {
    const start = performance.now()
    probes = await probeExecutionProviders({ timeoutMs: PROBE_TIMEOUT_MS })
    elapsedMs = performance.now() - start
    console.log(JSON.stringify(probes, null, 2), `\n(${elapsedMs.toFixed(0)} ms)`)
  }, 3 * PROBE_TIMEOUT_MS + 10_000)
  const probe = (name: string): ExecutionProviderProbe => probes.find((p) => p.provider === name)!

  it('reports cpu, webgpu and cuda, in that order, each either available or with a reason', () => {
    expect(probes.map((p) => p.provider)).toEqual(['cpu', 'webgpu', 'cuda'])
    for (const p of probes) {
      if (p.available) expect(p).toMatchObject({ reason: null, missingLibraries: [] })
      else expect(p.reason).toMatch(/^(CPU|WebGPU|CUDA) is not available: .{10,}/)
    }
  })

  it('finds the CPU available (a real session computed the known result)', () => {
    expect(probe('cpu')).toEqual({ provider: 'cpu', available: true, reason: null, missingLibraries: [] })
  })

  it.runIf(process.platform === 'linux' && process.arch === 'x64' && !cudaProviderInstalled)(
    "finds CUDA unavailable without onnxruntime-node's CUDA provider, and names every missing library in the reason",
    () => {
      const cuda = probe('cuda')
      expect(cuda.available).toBe(false)
      expect(cuda.missingLibraries).toEqual(expect.arrayContaining(['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']))
      for (const file of cuda.missingLibraries) expect(cuda.reason).toContain(file)
      expect(cuda.reason).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12')
    },
  )

  it('reports WebGPU without hanging: within the probe timeout, and with a reason when unavailable', () => {
    const webgpu = probe('webgpu')
    expect(elapsedMs).toBeLessThan(3 * PROBE_TIMEOUT_MS)
    if (!webgpu.available) {
      expect(webgpu.reason).toMatch(/^WebGPU is not available: /)
      for (const file of webgpu.missingLibraries) expect(webgpu.reason).toContain(file)
      expect(webgpu.missingLibraries.every((file) => file === 'libvulkan.so.1')).toBe(true)
    }
  })

  it("falls back from a requested but unusable provider to the CPU with a warning that names the cause", () => {
    for (const gpu of ['cuda', 'webgpu'] as const) {
      if (probe(gpu).available) continue
      const choice = chooseExecutionProvider(gpu, probes)
      expect(choice.provider).toBe('cpu')
      expect(choice.warning).toContain(gpu === 'cuda' ? 'CUDA was requested' : 'WebGPU was requested')
      expect(choice.warning).toContain(probe(gpu).reason)
      for (const file of probe(gpu).missingLibraries) expect(choice.warning).toContain(file)
    }
    expect(chooseExecutionProvider('cpu', probes)).toEqual({ provider: 'cpu', warning: null })
  })
})

describe('probeExecutionProviders edge cases', () => {
  it('stops a probe at its timeout and reports it, instead of waiting', async () => {
    const start = performance.now()
    const [cpu] = await probeExecutionProviders({ providers: ['cpu'], timeoutMs: 1 })
    expect(performance.now() - start).toBeLessThan(5_000)
    expect(cpu).toMatchObject({ provider: 'cpu', available: false })
    expect(cpu!.reason).toContain('did not finish within 1 ms')
  })

  it('refuses to start when already cancelled', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(probeExecutionProviders({ signal: controller.signal })).rejects.toMatchObject({ code: 'cancelled' })
  })
})

describe('chooseExecutionProvider', () => {
  const probe = (provider: 'cpu' | 'webgpu' | 'cuda', available: boolean): ExecutionProviderProbe => ({
    provider,
    available,
    reason: available ? null : `${provider} is not available: because`,
    missingLibraries: [],
  })

  it("takes CUDA, then WebGPU, then the CPU for 'auto'", () => {
    expect(chooseExecutionProvider('auto', [probe('cpu', true), probe('webgpu', true), probe('cuda', true)])).toEqual({ provider: 'cuda', warning: null })
    expect(chooseExecutionProvider('auto', [probe('cpu', true), probe('webgpu', true), probe('cuda', false)])).toEqual({ provider: 'webgpu', warning: null })
    const cpu = chooseExecutionProvider('auto', [probe('cpu', true), probe('webgpu', false), probe('cuda', false)])
    expect(cpu.provider).toBe('cpu')
    expect(cpu.warning).toContain('cuda is not available: because')
    expect(cpu.warning).toContain('webgpu is not available: because')
  })

  it('keeps a requested provider that works, and says so when one was never probed', () => {
    expect(chooseExecutionProvider('webgpu', [probe('cpu', true), probe('webgpu', true)])).toEqual({ provider: 'webgpu', warning: null })
    expect(chooseExecutionProvider('cuda', [probe('cpu', true)])).toEqual({
      provider: 'cpu',
      warning: 'CUDA was requested but cannot be used, training on the CPU instead. CUDA was not probed',
    })
  })
})

describe('findMissingCudaLibraries', () => {
  it.runIf(process.platform === 'linux')('finds a library in an extra search folder, and names another major version found there', async () => {
    const without = await findMissingCudaLibraries()
    const dir = await tempDir()
    await writeFile(join(dir, 'libcudnn.so.9'), '')
    await writeFile(join(dir, 'libcudart.so.11'), '')
    const withDir = await findMissingCudaLibraries({ extraSearchDirs: [dir] })
    expect(withDir.missing).not.toContain('libcudnn.so.9')
    expect(withDir.missing).toEqual(without.missing.filter((file) => file !== 'libcudnn.so.9'))
    if (withDir.missing.includes('libcudart.so.12')) {
      expect(withDir.details.find((d) => d.startsWith('libcudart.so.12'))).toContain(`libcudart.so.11 in ${dir}`)
    }
  })
})

describe('threads', () => {
  it('sessionThreadOptions gives ORT options it accepts, and spins only with more than one thread', async () => {
    const builder = new OnnxGraphBuilder('threads')
    builder.addInput('x', 'float32', [2])
    builder.addNode({ opType: 'Relu', inputs: ['x'], outputs: ['y'] })
    builder.addOutput('y', 'float32', [2])
    const session = await ort.InferenceSession.create(builder.toModelBytes(), sessionThreadOptions(2))
    const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.from([-1, 3]), [2]) })
    await session.release()
    expect(Array.from(y!.data as Float32Array)).toEqual([0, 3])
    expect(sessionThreadOptions(4)).toMatchObject({ intraOpNumThreads: 4, interOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: '1' } } } })
    expect(sessionThreadOptions(1)).toMatchObject({ extra: { session: { intra_op: { allow_spinning: '0' } } } })
    expect(sessionThreadOptions(4, { allowSpinning: false })).toMatchObject({ extra: { session: { intra_op: { allow_spinning: '0' } } } })
    expect(() => sessionThreadOptions(0)).toThrow(/positive integer/)
  })

  it('detectComputeThreads counts physical cores (as lscpu does on Linux) and never exceeds the logical count', async () => {
    const detected = await detectComputeThreads()
    console.log(detected)
    expect(detected.logicalCores).toBe(cpus().length)
    expect(detected.threads).toBeGreaterThanOrEqual(1)
    expect(detected.threads).toBeLessThanOrEqual(detected.logicalCores)
    if (process.platform !== 'linux') return
    expect(detected.source).toBe('linux-sysfs')
    const lscpu = await new Promise<string | null>((resolve) => execFile('lscpu', ['-p=CORE,SOCKET'], (error, stdout) => resolve(error === null ? stdout : null)))
    if (lscpu === null) return
    const cores = new Set(lscpu.split('\n').filter((line) => line !== '' && !line.startsWith('#')))
    expect(detected.physicalCores).toBe(cores.size)
  })
})

describe('measureMatMulPeak', () => {
  it('times a real MatMul and reports consistent GFLOP/s', async () => {
    const size = { m: 128, k: 512, n: 512 }
    const peak = await measureMatMulPeak({ threads: 1, size, seconds: 0.3 })
    expect(peak).toMatchObject({ shape: size, threads: 1, provider: 'cpu' })
    expect(peak.runs).toBeGreaterThanOrEqual(3)
    expect(peak.msPerRun).toBeGreaterThan(0)
    expect(peak.gflops).toBeCloseTo((2 * 128 * 512 * 512) / (peak.msPerRun * 1e6), 6)
    expect(peak.gflops).toBeGreaterThan(1) // MLAS on any x64/arm64 desktop is far above this
  })

  it('measures the default 512×2048×2048 shape for every thread count and picks the fastest', async () => {
    const candidates = [...new Set([1, Math.min(2, cpus().length)])]
    const { threads, peaks } = await measureFastestThreads(candidates, { seconds: 1 })
    for (const p of peaks) console.log(`MatMul 512×2048×2048, ${p.threads} thread(s): ${p.gflops.toFixed(0)} GFLOP/s (${p.msPerRun.toFixed(1)} ms, ${p.runs} runs)`)
    expect(peaks.map((p) => p.threads)).toEqual(candidates)
    expect(peaks.every((p) => p.shape.m === 512 && p.shape.k === 2048 && p.shape.n === 2048)).toBe(true)
    expect(threads).toBe(peaks.reduce((x, y) => (y.gflops > x.gflops ? y : x)).threads)
  })

  it('rejects a bad size', async () => {
    await expect(measureMatMulPeak({ threads: 1, size: { m: 0, k: 4, n: 4 } })).rejects.toThrow(/size m must be a positive integer/)
  })
})
