// What the float64 checks (checkOp, the adapter tests) share: seeded inputs, float64 ORT sessions, error measures.
import * as ort from 'onnxruntime-node'
import type { Graph } from '../../src-main/core/autodiff/Graph.js'
import { lowerToOnnx } from '../../src-main/core/autodiff/toOnnx.js'
import type { TensorRef } from '../../src-main/core/autodiff/types.js'

/**
 * One thread, level basic: 'all' fuses patterns into float-only kernels, which float64 checks cannot run
 * (specs/onnxruntime-node.md).
 */
export const FLOAT64_SESSION: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'basic' }

/** An ORT session of `g` lowered in float64 with `outputs`. `options` defaults to `FLOAT64_SESSION`. */
export function float64Session(g: Graph, outputs: Record<string, TensorRef>, options: ort.InferenceSession.SessionOptions = FLOAT64_SESSION): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(lowerToOnnx(g, outputs, { elementType: 'float64' }), options)
}

/** A small LCG in [0, 1): the same numbers on every machine. */
export function seeded(seed: number): () => number {
  let state = (seed * 2654435761) >>> 0 || 1
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
}

/** `count` values uniform in [-scale, scale) drawn from `random`. */
export const uniform = (count: number, random: () => number, scale = 1): Float64Array => Float64Array.from({ length: count }, () => scale * (2 * random() - 1))

/** Per element |a − b| / max(1e-8, |a| + |b|), the largest: checkOp's measure. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(1e-8, Math.abs(actual[i]!) + Math.abs(expected[i]!))
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / scale)
  }
  return worst
}

/** max |a − b| / max |b|: the error relative to the size of the values compared. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0
  let size = 0
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!))
    size = Math.max(size, Math.abs(expected[i]!))
  }
  return diff / size
}

/**
 * (rows, cols) row-major → (cols, rows), in float64 so float64 data keeps its precision (baseWeights.ts has the
 * float32 one the app uses).
 */
export function transposed(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!
  return out
}
