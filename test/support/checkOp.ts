import * as ort from 'onnxruntime-node'
import { expect } from 'vitest'
import { gradients } from '../../src-main/core/autodiff/gradient.js'
import { Graph } from '../../src-main/core/autodiff/Graph.js'
import type { NdArray } from '../../src-main/core/autodiff/ndarray.js'
import { OPS } from '../../src-main/core/autodiff/ops.js'
import { lowerToOnnx } from '../../src-main/core/autodiff/toOnnx.js'
import type { OpAttrs, OpDef, OpName, TensorRef } from '../../src-main/core/autodiff/types.js'

// Level basic: 'all' fuses patterns into float-only kernels, which float64 checks cannot run (specs/onnxruntime-node.md).
const SESSION: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'basic' }

export interface CheckOpOptions {
  /** Input values: 'signed' in [-1, 1), 'positive' in [0.5, 1.5). Defaults to `signed` for every input. */
  ranges?: ('signed' | 'positive')[]
  /** Max relative error of gradients against central differences. Defaults to `1e-6`. */
  gradTolerance?: number
  /** Max relative error of the forward pass against the reference. Defaults to `1e-12`. */
  forwardTolerance?: number
}

function seeded(seed: number): () => number {
  let state = (seed * 2654435761) >>> 0 || 1
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
}

function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(1e-8, Math.abs(actual[i]!) + Math.abs(expected[i]!))
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / scale)
  }
  return worst
}

/**
 * Checks one op in float64 (tinygrad's helper_test_op, llm.c's check_tensor): the ORT forward against the op's
 * reference, and the ORT gradients of a weighted sum of its output against central finite differences of the
 * reference. A failure names the op, the pass, the input and the error.
 */
export function checkOp<K extends OpName>(op: K, inputShapes: number[][], attrs: OpAttrs[K], options: CheckOpOptions = {}): Promise<void> {
  const def = OPS[op] as unknown as OpDef<OpAttrs[K]>
  return checkGraphFunction(op, inputShapes, (g, xs) => g.apply(op, xs, attrs), (inputs) => def.reference(inputs, attrs), options)
}

/**
 * The same check for any function built from graph ops (a composite layer), against an independent float64
 * reference of it.
 */
export async function checkGraphFunction(
  name: string,
  inputShapes: number[][],
  build: (g: Graph, inputs: TensorRef[]) => TensorRef,
  reference: (inputs: NdArray[]) => NdArray,
  options: CheckOpOptions = {},
): Promise<void> {
  const random = seeded(inputShapes.flat().length + name.length)
  const values = inputShapes.map((shape, i) => {
    const positive = options.ranges?.[i] === 'positive'
    return Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (positive ? 0.5 + random() : 2 * random() - 1))
  })
  const g = new Graph()
  const xs = inputShapes.map((shape, i) => g.input(`x${i}`, shape))
  const y = build(g, xs)
  const weights = Float64Array.from({ length: y.shape.reduce((a, b) => a * b, 1) }, () => 2 * random() - 1)
  const loss = g.reduceSum(g.mul(y, g.constant(weights, y.shape)), y.shape.map((_, i) => i))
  const grads = gradients(g, loss, xs)
  const outputs: Record<string, TensorRef> = { y, loss }
  grads.forEach((grad, i) => (outputs[`grad${i}`] = grad))
  const session = await ort.InferenceSession.create(lowerToOnnx(g, outputs, { elementType: 'float64' }), SESSION)
  try {
    const feeds = Object.fromEntries(xs.map((x, i) => [x.name, new ort.Tensor('float64', values[i]!, [...x.shape])]))
    const result = await session.run(feeds)
    const asInputs = (data: Float64Array[]): NdArray[] => data.map((d, i) => ({ shape: inputShapes[i]!, data: d }))
    const referenceLoss = (inputs: Float64Array[]): number => reference(asInputs(inputs)).data.reduce((sum, v, i) => sum + v * weights[i]!, 0)
    const forward = reference(asInputs(values))
    expect(result['y']!.dims, `${name} forward shape`).toEqual(forward.shape)
    expect(maxRelativeError(result['y']!.data as Float64Array, forward.data), `${name} forward vs reference`).toBeLessThan(options.forwardTolerance ?? 1e-12)

    const eps = 1e-6
    values.forEach((_, i) => {
      const numeric = new Float64Array(values[i]!.length)
      for (let j = 0; j < numeric.length; j++) {
        const plus = values.map((v) => v.slice())
        const minus = values.map((v) => v.slice())
        plus[i]![j]! += eps
        minus[i]![j]! -= eps
        numeric[j] = (referenceLoss(plus) - referenceLoss(minus)) / (2 * eps)
      }
      const analytic = result[`grad${i}`]!.data as Float64Array
      expect(analytic.length, `${name} gradient of input ${i}: size`).toBe(numeric.length)
      expect(maxRelativeError(analytic, numeric), `${name} gradient of input ${i} vs central differences`).toBeLessThan(options.gradTolerance ?? 1e-6)
    })
  } finally {
    await session.release()
  }
}
