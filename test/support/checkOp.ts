import * as ort from 'onnxruntime-node'
import { expect } from 'vitest'
import { gradients } from '../../src-main/core/autodiff/gradient.js'
import { Graph } from '../../src-main/core/autodiff/Graph.js'
import type { NdArray } from '../../src-main/core/autodiff/ndarray.js'
import { OPS } from '../../src-main/core/autodiff/ops.js'
import type { OpAttrs, OpDef, OpName, TensorRef } from '../../src-main/core/autodiff/types.js'
import { float64Session, maxRelativeError, seeded, uniform } from './float64Checks.js'

export interface CheckOpOptions {
  /** Input values: 'signed' in [-1, 1), 'positive' in [0.5, 1.5). Defaults to `signed` for every input. */
  ranges?: ('signed' | 'positive')[]
  /** Max relative error of gradients against central differences. Defaults to `1e-6`. */
  gradTolerance?: number
  /** Max relative error of the forward pass against the reference. Defaults to `1e-12`. */
  forwardTolerance?: number
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
    const count = shape.reduce((a, b) => a * b, 1)
    return positive ? Float64Array.from({ length: count }, () => 0.5 + random()) : uniform(count, random)
  })
  const g = new Graph()
  const xs = inputShapes.map((shape, i) => g.input(`x${i}`, shape))
  const y = build(g, xs)
  const weights = uniform(y.shape.reduce((a, b) => a * b, 1), random)
  const loss = g.reduceSum(g.mul(y, g.constant(weights, y.shape)), y.shape.map((_, i) => i))
  const grads = gradients(g, loss, xs)
  const outputs: Record<string, TensorRef> = { y, loss }
  grads.forEach((grad, i) => (outputs[`grad${i}`] = grad))
  const session = await float64Session(g, outputs)
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
