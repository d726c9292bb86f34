import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { gradients } from '../../../../src-main/core/autodiff/gradient.js'
import { Graph } from '../../../../src-main/core/autodiff/Graph.js'
import { OPS } from '../../../../src-main/core/autodiff/ops.js'
import { lowerToOnnx } from '../../../../src-main/core/autodiff/toOnnx.js'
import { checkGraphFunction, checkOp } from '../../../support/checkOp.js'

describe('every op: ORT forward = float64 reference, ORT gradients = central differences', () => {
  it('add, with broadcasting both ways', () => checkOp('add', [[2, 3, 4], [3, 1]], {}))
  it('sub, with a scalar', () => checkOp('sub', [[4, 3], []], {}))
  it('mul, with broadcasting', () => checkOp('mul', [[2, 1, 4], [3, 4]], {}))
  it('div', () => checkOp('div', [[3, 4], [3, 4]], {}, { ranges: ['signed', 'positive'] }))
  // Seeded inputs in [-1, 1): no ties and no pair closer than the central-difference step.
  it('maximum, with broadcasting both ways', () => checkOp('maximum', [[2, 3, 4], [3, 1]], {}))
  it('maximum, with a scalar', () => checkOp('maximum', [[4, 3], []], {}))
  it('greaterOrEqual, with broadcasting (forward mask; no gradient)', () => checkOp('greaterOrEqual', [[2, 1, 4], [3, 4]], {}))
  it('neg', () => checkOp('neg', [[5]], {}))
  it('exp', () => checkOp('exp', [[2, 3]], {}))
  it('log', () => checkOp('log', [[2, 3]], {}, { ranges: ['positive'] }))
  it('matmul, 2-D', () => checkOp('matmul', [[3, 4], [4, 5]], {}))
  it('matmul, batched left and shared right (weights)', () => checkOp('matmul', [[2, 3, 4], [4, 5]], {}))
  it('matmul, batched both', () => checkOp('matmul', [[2, 3, 4], [2, 4, 2]], {}))
  it('transpose', () => checkOp('transpose', [[2, 3, 4]], { perm: [2, 0, 1] }))
  it('reshape', () => checkOp('reshape', [[2, 3, 4]], { shape: [6, 4] }))
  it('reduceSum, dropping axes', () => checkOp('reduceSum', [[2, 3, 4]], { axes: [0, 2], keepDims: false }))
  it('reduceSum, keeping axes', () => checkOp('reduceSum', [[2, 3, 4]], { axes: [1], keepDims: true }))
  it('expand', () => checkOp('expand', [[3, 1]], { shape: [2, 3, 4] }))
  it('sqrt', () => checkOp('sqrt', [[2, 3]], {}, { ranges: ['positive'] }))
  it('slice, inner axis', () => checkOp('slice', [[2, 6, 3]], { axis: 1, start: 1, end: 4 }))
  it('pad, last axis', () => checkOp('pad', [[2, 3]], { axis: 1, before: 2, after: 1 }))
  it('concat of three parts', () => checkOp('concat', [[2, 1, 3], [2, 2, 3], [2, 3, 3]], { axis: 1 }))
  it('gather (embedding rows, one picked twice), gradient to the table', () => {
    const ids = [4, 0, 4, 2]
    return checkGraphFunction(
      'gather',
      [[5, 3]],
      (g, [table]) => g.gather(table!, g.constant(ids, [2, 2], 'int64')),
      ([table]) => OPS.gather.reference([table!, { shape: [2, 2], data: Float64Array.from(ids) }]),
    )
  })
  it('scatterAddRows, gradient to the updates', () => {
    const ids = [1, 3, 1]
    return checkGraphFunction(
      'scatterAddRows',
      [[3, 2]],
      (g, [updates]) => g.scatterAddRows(g.constant(ids, [3], 'int64'), updates!, 4),
      ([updates]) => OPS.scatterAddRows.reference([{ shape: [3], data: Float64Array.from(ids) }, updates!], { rows: 4 }),
    )
  })
})

describe('maximum on ties', () => {
  it.each(['float64', 'float32'] as const)('sends the whole gradient to the first input, as its VJP states (central differences cannot check this), in %s', async (elementType) => {
    const g = new Graph()
    const a = g.input('a', [3])
    const b = g.input('b', [3])
    const y = g.maximum(a, b)
    const loss = g.reduceSum(g.mul(y, g.constant([1, 2, 3], [3])), [0])
    const [gradA, gradB] = gradients(g, loss, [a, b])
    const session = await ort.InferenceSession.create(lowerToOnnx(g, { y, gradA: gradA!, gradB: gradB! }, { elementType }), { graphOptimizationLevel: 'basic' })
    const tensor = (values: number[]): ort.Tensor => (elementType === 'float64' ? new ort.Tensor('float64', Float64Array.from(values), [3]) : new ort.Tensor('float32', Float32Array.from(values), [3]))
    try {
      // a > b, a = b, a < b
      const result = await session.run({ a: tensor([2, 5, -1]), b: tensor([1, 5, 0]) })
      expect(result['gradA']!.type).toBe(elementType)
      expect(Array.from(result['y']!.data as Float64Array)).toEqual([2, 5, 0])
      expect(Array.from(result['gradA']!.data as Float64Array)).toEqual([1, 2, 0])
      expect(Array.from(result['gradB']!.data as Float64Array)).toEqual([0, 0, 3])
    } finally {
      await session.release()
    }
  })
})
