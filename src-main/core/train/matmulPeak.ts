import * as ort from 'onnxruntime-node'
import { LecternError } from '../../shared/errors.js'
import { OnnxGraphBuilder } from '../autodiff/onnx/OnnxGraphBuilder.js'
import { sessionThreadOptions, type ExecutionProviderName } from './executionProviders.js'

/** One fp32 MatMul (m, k) · (k, n). */
export interface MatMulShape {
  m: number
  k: number
  n: number
}

export interface MeasureMatMulPeakOptions {
  /** Intra-op threads, as the train step would use them. */
  threads: number
  /** Defaults to 512×2048×2048: a 512-token batch through a 2048-wide projection, as in specs/onnxruntime-node.md §4. */
  size?: MatMulShape
  /** Time spent in timed runs after the warm-up (at least 3 runs are timed). Defaults to `2`. */
  seconds?: number
  /** Defaults to `'cpu'`. */
  provider?: ExecutionProviderName
  signal?: AbortSignal
}

export interface MatMulPeak {
  /** 2·m·k·n floating-point operations per median run. */
  gflops: number
  shape: MatMulShape
  /** Median of the timed runs. */
  msPerRun: number
  threads: number
  runs: number
  provider: ExecutionProviderName
}

/**
 * The MatMul throughput ORT reaches on this machine: the "measured MatMul peak" a training benchmark is
 * compared against. The weight is an initializer, as frozen base weights are (ORT pre-packs it), the input
 * is fed each run. `run()` is synchronous native work on the calling thread (specs/onnxruntime-node.md §2,
 * Threading): call this from a worker, not from the main process's event loop.
 */
export async function measureMatMulPeak({ threads, size = DEFAULT_SIZE, seconds = 2, provider = 'cpu', signal }: MeasureMatMulPeakOptions): Promise<MatMulPeak> {
  checkOptions(size, seconds)
  const bench = await openBench(size, threads, provider)
  try {
    const times: number[] = []
    const start = performance.now()
    while (times.length < 3 || performance.now() - start < seconds * 1000) {
      throwIfAborted(signal)
      times.push(await bench.timeOneRun())
    }
    return peak(size, threads, provider, times)
  } finally {
    await bench.release()
  }
}

/**
 * Measures each thread count and returns the fastest. SMT siblings, CPU quotas and VMs can make more threads
 * slower (specs/onnxruntime-node.md §4: 1 thread beats 2 on the spec's VM), which the core count cannot tell.
 * The candidates take turns run by run, so a burst of load from elsewhere slows them all alike.
 */
export async function measureFastestThreads(
  candidates: readonly number[],
  { size = DEFAULT_SIZE, seconds = 2, provider = 'cpu', signal }: Omit<MeasureMatMulPeakOptions, 'threads'> = {},
): Promise<{ threads: number; peaks: MatMulPeak[] }> {
  if (candidates.length === 0) throw new LecternError('invalid_argument', 'No thread counts to measure')
  checkOptions(size, seconds)
  const benches: MatMulBench[] = []
  try {
    for (const threads of candidates) benches.push(await openBench(size, threads, provider))
    const times: number[][] = candidates.map(() => [])
    const start = performance.now()
    while (times[0]!.length < 3 || performance.now() - start < seconds * 1000 * candidates.length) {
      throwIfAborted(signal)
      for (const [i, bench] of benches.entries()) times[i]!.push(await bench.timeOneRun())
    }
    const peaks = candidates.map((threads, i) => peak(size, threads, provider, times[i]!))
    const best = peaks.reduce((x, y) => (y.gflops > x.gflops ? y : x))
    return { threads: best.threads, peaks }
  } finally {
    for (const bench of benches) await bench.release()
  }
}

const DEFAULT_SIZE: MatMulShape = { m: 512, k: 2048, n: 2048 }

interface MatMulBench {
  timeOneRun(): Promise<number>
  release(): Promise<void>
}

/** A session holding one MatMul, warmed up (the first run pre-packs the weight and sizes the arena) and checked. */
async function openBench(size: MatMulShape, threads: number, provider: ExecutionProviderName): Promise<MatMulBench> {
  const { m, k, n } = size
  const a = uniformValues(m * k, 1) // (m, k)
  const w = uniformValues(k * n, 2) // (k, n)
  const builder = new OnnxGraphBuilder('matmul_peak')
  builder.addInput('a', 'float32', [m, k])
  builder.addInitializer('w', { elementType: 'float32', dims: [k, n], data: w })
  builder.addNode({ opType: 'MatMul', inputs: ['a', 'w'], outputs: ['y'] })
  builder.addOutput('y', 'float32', [m, n])
  const session = await ort.InferenceSession.create(builder.toModelBytes(), {
    ...sessionThreadOptions(threads),
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(provider === 'cpu' ? {} : { extra: { session: { disable_cpu_ep_fallback: '1' } } }),
  })
  const feeds = { a: new ort.Tensor('float32', a, [m, k]) }
  try {
    checkCorners((await session.run(feeds))['y']!.data as Float32Array, a, w, size)
    await session.run(feeds)
  } catch (error) {
    await session.release()
    throw error
  }
  return {
    timeOneRun: async () => {
      const t0 = performance.now()
      await session.run(feeds)
      return performance.now() - t0
    },
    release: () => session.release(),
  }
}

function peak(shape: MatMulShape, threads: number, provider: ExecutionProviderName, times: number[]): MatMulPeak {
  const sorted = [...times].sort((x, y) => x - y)
  const msPerRun = sorted[Math.floor(sorted.length / 2)]!
  return { gflops: (2 * shape.m * shape.k * shape.n) / (msPerRun * 1e6), shape: { ...shape }, msPerRun, threads, runs: times.length, provider }
}

function checkOptions(size: MatMulShape, seconds: number): void {
  for (const [name, value] of Object.entries(size)) {
    if (!Number.isInteger(value) || value < 1) throw new LecternError('invalid_argument', `MatMul size ${name} must be a positive integer (got ${value})`)
  }
  if (!(seconds > 0)) throw new LecternError('invalid_argument', `seconds must be positive (got ${seconds})`)
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new LecternError('cancelled', 'MatMul measurement was cancelled')
}

/** Deterministic values in [-1, 1) (a 32-bit LCG), so runs are comparable and denormals never appear. */
function uniformValues(count: number, seed: number): Float32Array {
  const out = new Float32Array(count)
  let state = seed >>> 0
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    out[i] = state / 2 ** 31 - 1
  }
  return out
}

/** A provider that computes garbage fast must not report a peak: check the four corner outputs in float64. */
function checkCorners(y: Float32Array, a: Float32Array, w: Float32Array, { m, k, n }: MatMulShape): void {
  for (const [row, col] of [
    [0, 0],
    [0, n - 1],
    [m - 1, 0],
    [m - 1, n - 1],
  ] as const) {
    let expected = 0
    let scale = 0
    for (let i = 0; i < k; i++) {
      const term = a[row * k + i]! * w[i * n + col]!
      expected += term
      scale += Math.abs(term)
    }
    const got = y[row * n + col]!
    if (!(Math.abs(got - expected) <= 1e-4 * scale + 1e-6)) {
      throw new LecternError('internal', `MatMul measurement: output (${row}, ${col}) is ${got}, expected ${expected}`)
    }
  }
}
