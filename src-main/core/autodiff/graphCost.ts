import { neededIds } from './toOnnx.js'
import type { Graph } from './Graph.js'
import type { OpName, TensorRef } from './types.js'

/** How each op's work is counted: see `GraphCost`. */
export type OpCostKind = 'matmul' | 'elementwise' | 'reduction' | 'movement' | 'free'

/** Which kind of work each op of the table does. */
export const OP_COST_KIND: Readonly<Record<OpName, OpCostKind>> = {
  matmul: 'matmul',
  add: 'elementwise',
  sub: 'elementwise',
  mul: 'elementwise',
  div: 'elementwise',
  maximum: 'elementwise',
  greaterOrEqual: 'elementwise',
  neg: 'elementwise',
  exp: 'elementwise',
  log: 'elementwise',
  sqrt: 'elementwise',
  reduceSum: 'reduction',
  reduceMax: 'reduction',
  transpose: 'movement',
  expand: 'movement',
  slice: 'movement',
  pad: 'movement',
  concat: 'movement',
  gather: 'movement',
  scatterAddRows: 'movement',
  // A Reshape is a view in ORT; stopGradient lowers to Identity, which ORT removes.
  reshape: 'free',
  stopGradient: 'free',
}

export interface OpCost {
  nodes: number
  /** matmul: FLOPs; elementwise and movement: output elements; reduction: input elements; free: 0. */
  work: number
}

/**
 * The work in the part of a graph some outputs need, counted from static shapes, before ORT fuses anything.
 * Only nodes on a path to the outputs count, as `lowerToOnnx` emits only those: the VJP of a MatMul builds
 * both operands' gradients, and the one into a frozen weight is dropped there and here.
 */
export interface GraphCost {
  /** Σ 2·m·n·k·batch over MatMul nodes, (…, m, k)·(…, k, n), where batch is the product of the output's broadcast leading axes. */
  matmulFlops: number
  matmulNodes: number
  /** Output elements of elementwise ops (add, mul, exp, …): about one floating-point operation each. */
  elementwiseOps: number
  /** Input elements read by reductions (ReduceSum, ReduceMax). */
  reducedElements: number
  /** Output elements written by data movement (Transpose, Expand, Slice, Pad, Concat, Gather, scatter). */
  movedElements: number
  /** Every counted node, free ones (Reshape, stopGradient) included. */
  nodes: number
  byOp: Partial<Record<OpName, OpCost>>
}

const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)

/** FLOPs of one MatMul (…, m, k)·(…, k, n) → (…, m, n): a multiply and an add per k, for every output element. */
export function matmulFlops(left: readonly number[], output: readonly number[]): number {
  return 2 * elementCount(output) * left.at(-1)!
}

export function graphCost(graph: Graph, outputs: readonly TensorRef[] | Readonly<Record<string, TensorRef>>): GraphCost {
  const needed = neededIds(graph, Array.isArray(outputs) ? outputs : Object.values(outputs))
  const cost: GraphCost = { matmulFlops: 0, matmulNodes: 0, elementwiseOps: 0, reducedElements: 0, movedElements: 0, nodes: 0, byOp: {} }
  for (const node of graph.nodes) {
    if (!needed.has(node.output.id)) continue
    const kind = OP_COST_KIND[node.op]
    let work = 0
    switch (kind) {
      case 'matmul':
        work = matmulFlops(node.inputs[0]!.shape, node.output.shape)
        cost.matmulFlops += work
        cost.matmulNodes++
        break
      case 'elementwise':
        work = elementCount(node.output.shape)
        cost.elementwiseOps += work
        break
      case 'reduction':
        work = elementCount(node.inputs[0]!.shape)
        cost.reducedElements += work
        break
      case 'movement':
        work = elementCount(node.output.shape)
        cost.movedElements += work
        break
      case 'free':
        break
    }
    cost.nodes++
    const entry = (cost.byOp[node.op] ??= { nodes: 0, work: 0 })
    entry.nodes++
    entry.work += work
  }
  return cost
}

