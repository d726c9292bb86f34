import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { gradients } from '../../../../src-main/core/autodiff/gradient.js'
import { Graph } from '../../../../src-main/core/autodiff/Graph.js'
import { lowerToOnnx } from '../../../../src-main/core/autodiff/toOnnx.js'
import type { TensorRef } from '../../../../src-main/core/autodiff/types.js'

async function run(g: Graph, outputs: Record<string, TensorRef>, feeds: Record<string, number[]>): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(lowerToOnnx(g, outputs, { elementType: 'float64' }), { graphOptimizationLevel: 'basic', intraOpNumThreads: 1 })
  const inputs = Object.fromEntries(g.inputs.map((t) => [t.name, new ort.Tensor('float64', Float64Array.from(feeds[t.name]!), [...t.shape])]))
  const result = await session.run(inputs)
  await session.release()
  return Object.fromEntries(Object.keys(outputs).map((name) => [name, [...(result[name]!.data as Float64Array)]]))
}

describe('gradient engine', () => {
  it('sums the gradients of a value used twice: d/dx Σ x·x = 2x', async () => {
    const g = new Graph()
    const x = g.input('x', [3])
    const [dx] = gradients(g, g.reduceSum(g.mul(x, x), [0]), [x])
    expect(await run(g, { dx: dx! }, { x: [1, -2, 3] })).toEqual({ dx: [2, -4, 6] })
  })

  it('gives zeros to a tensor that does not reach the loss, and emits no gradient into frozen tensors', async () => {
    const g = new Graph()
    const x = g.input('x', [2])
    const frozen = g.input('frozen', [2])
    const unused = g.input('unused', [2])
    const loss = g.reduceSum(g.mul(x, g.exp(frozen)), [0])
    const nodesBefore = g.nodes.length
    const [dx, dUnused] = gradients(g, loss, [x, unused])
    // No exp VJP: frozen's branch needs no gradient.
    expect(g.nodes.slice(nodesBefore).some((n) => n.op === 'exp')).toBe(false)
    expect(await run(g, { dx: dx!, dUnused: dUnused! }, { x: [1, 2], frozen: [0, Math.log(2)], unused: [5, 5] })).toEqual({ dx: [1, 2], dUnused: [0, 0] })
  })

  it('passes no gradient through stopGradient, and computes a detached max', async () => {
    const g = new Graph()
    const x = g.input('x', [2, 3])
    const max = g.stopGradient(g.reduceMax(x, [1], true))
    const shifted = g.sub(x, max)
    const [dx] = gradients(g, g.reduceSum(shifted, [0, 1]), [x])
    const result = await run(g, { max, dx: dx! }, { x: [1, 5, 2, -1, -3, -2] })
    expect(result['max']).toEqual([5, -1])
    // Only the direct path counts: d/dx Σ (x − const) = 1.
    expect(result['dx']).toEqual([1, 1, 1, 1, 1, 1])
  })

  it('refuses to differentiate through reduceMax without stopGradient', () => {
    const g = new Graph()
    const x = g.input('x', [3])
    expect(() => gradients(g, g.reduceMax(x, [0]), [x])).toThrow(/reduceMax has no gradient; use it through stopGradient/)
  })

  it('gathers embedding rows and scatters their gradients back, adding rows picked twice', async () => {
    const g = new Graph()
    const table = g.input('table', [4, 3])
    const ids = g.input('ids', [2, 2], 'int64')
    const picked = g.gather(table, ids) // (2, 2, 3)
    const weights = g.constant([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 3])
    const [dTable] = gradients(g, g.reduceSum(g.mul(picked, weights), [0, 1, 2]), [table])
    const session = await ort.InferenceSession.create(lowerToOnnx(g, { picked, dTable: dTable! }, { elementType: 'float64' }), { graphOptimizationLevel: 'basic' })
    const result = await session.run({
      table: new ort.Tensor('float64', Float64Array.from({ length: 12 }, (_, i) => i), [4, 3]),
      ids: new ort.Tensor('int64', BigInt64Array.from([2n, 0n, 2n, 3n]), [2, 2]),
    })
    await session.release()
    expect([...(result['picked']!.data as Float64Array)]).toEqual([6, 7, 8, 0, 1, 2, 6, 7, 8, 9, 10, 11])
    // Row 2 was picked twice: its gradient is the sum of both weight rows.
    expect([...(result['dTable']!.data as Float64Array)]).toEqual([4, 5, 6, 0, 0, 0, 1 + 7, 2 + 8, 3 + 9, 10, 11, 12])
  })

  it('keeps int64 tensors out of gradients and out of float ops', () => {
    const g = new Graph()
    const ids = g.input('ids', [3], 'int64')
    const x = g.input('x', [3])
    expect(() => gradients(g, g.reduceSum(x, [0]), [ids])).toThrow('ids is int64 and has no gradient')
    expect(() => g.add(x, ids)).toThrow(/int64 tensors go only where indices are expected/)
  })

  it('refuses a non-scalar loss and reports bad shapes with the op and operands', () => {
    const g = new Graph()
    const x = g.input('x', [2, 3])
    expect(() => gradients(g, x, [x])).toThrow('the loss must be a scalar, not [2, 3]')
    expect(() => g.matmul(x, x)).toThrow(/matmul on x \[2, 3\], x \[2, 3\]: matmul: inner dimensions 3 and 2 differ/)
    expect(() => g.add(x, g.input('y', [4]))).toThrow(/do not broadcast/)
  })
})
