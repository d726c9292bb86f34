import { LecternError } from '../../shared/errors.js'
import { OPS } from './ops.js'
import type { GraphOps, OpAttrs, OpName, TensorRef } from './types.js'

export interface GraphNode {
  op: OpName
  inputs: TensorRef[]
  attrs: OpAttrs[OpName]
  output: TensorRef
}

export interface GraphInput {
  tensor: TensorRef
  kind: 'input'
}

export interface GraphConstant {
  tensor: TensorRef
  values: Float64Array
}

/**
 * A tape of ops with static shapes, in the order they were applied (which is a topological order). Float
 * values are all of one element type, chosen when the graph is lowered to ONNX.
 */
export class Graph implements GraphOps {
  readonly inputs: TensorRef[] = []
  readonly constants: GraphConstant[] = []
  readonly nodes: GraphNode[] = []
  private readonly producers = new Map<number, GraphNode>()
  private nextId = 0

  input(name: string, shape: readonly number[], dtype: TensorRef['dtype'] = 'float'): TensorRef {
    const tensor = this.tensor(name, shape, dtype)
    this.inputs.push(tensor)
    return tensor
  }

  constant(values: ArrayLike<number>, shape: readonly number[], dtype: TensorRef['dtype'] = 'float'): TensorRef {
    const count = shape.reduce((a, b) => a * b, 1)
    if (values.length !== count) throw new LecternError('invalid_argument', `constant of shape [${shape.join(', ')}] needs ${count} values, got ${values.length}`)
    const tensor = this.tensor(`const_${this.nextId}`, shape, dtype)
    this.constants.push({ tensor, values: Float64Array.from(values) })
    return tensor
  }

  /** Records `op` on the tape; its output shape comes from the op's `shape` rule. */
  apply<K extends OpName>(op: K, inputs: TensorRef[], attrs: OpAttrs[K]): TensorRef {
    const def = OPS[op] as unknown as { arity: number; shape(shapes: readonly (readonly number[])[], attrs: OpAttrs[K]): number[] }
    if (def.arity >= 0 && inputs.length !== def.arity) throw new LecternError('invalid_argument', `${op} takes ${def.arity} inputs, got ${inputs.length}`)
    let shape: number[]
    try {
      shape = def.shape(inputs.map((t) => t.shape), attrs)
    } catch (error) {
      throw new LecternError('invalid_argument', `${op} on ${inputs.map((t) => `${t.name} [${t.shape.join(', ')}]`).join(', ')}: ${(error as Error).message}`)
    }
    const intInputs = inputs.filter((t) => t.dtype === 'int64').length
    if (intInputs !== (op === 'gather' || op === 'scatterAddRows' ? 1 : 0) || (op === 'gather' && inputs[1]!.dtype !== 'int64') || (op === 'scatterAddRows' && inputs[0]!.dtype !== 'int64')) {
      throw new LecternError('invalid_argument', `${op}: int64 tensors go only where indices are expected (${inputs.map((t) => `${t.name}: ${t.dtype}`).join(', ')})`)
    }
    const output = this.tensor(`${op}_${this.nextId}`, shape, 'float')
    const node: GraphNode = { op, inputs, attrs, output }
    this.nodes.push(node)
    this.producers.set(output.id, node)
    return output
  }

  producerOf(tensor: TensorRef): GraphNode | undefined {
    return this.producers.get(tensor.id)
  }

  add = (a: TensorRef, b: TensorRef): TensorRef => this.apply('add', [a, b], {})
  sub = (a: TensorRef, b: TensorRef): TensorRef => this.apply('sub', [a, b], {})
  mul = (a: TensorRef, b: TensorRef): TensorRef => this.apply('mul', [a, b], {})
  div = (a: TensorRef, b: TensorRef): TensorRef => this.apply('div', [a, b], {})
  maximum = (a: TensorRef, b: TensorRef): TensorRef => this.apply('maximum', [a, b], {})
  /** 1 where a ≥ b, else 0 (a float mask; no gradient flows through it). */
  greaterOrEqual = (a: TensorRef, b: TensorRef): TensorRef => this.apply('greaterOrEqual', [a, b], {})
  neg = (a: TensorRef): TensorRef => this.apply('neg', [a], {})
  exp = (a: TensorRef): TensorRef => this.apply('exp', [a], {})
  log = (a: TensorRef): TensorRef => this.apply('log', [a], {})
  matmul = (a: TensorRef, b: TensorRef): TensorRef => this.apply('matmul', [a, b], {})
  transpose = (a: TensorRef, perm: readonly number[]): TensorRef => this.apply('transpose', [a], { perm })
  reshape = (a: TensorRef, shape: readonly number[]): TensorRef => this.apply('reshape', [a], { shape })
  reduceSum = (a: TensorRef, axes: readonly number[], keepDims = false): TensorRef => this.apply('reduceSum', [a], { axes, keepDims })
  expand = (a: TensorRef, shape: readonly number[]): TensorRef => this.apply('expand', [a], { shape })
  sqrt = (a: TensorRef): TensorRef => this.apply('sqrt', [a], {})
  reduceMax = (a: TensorRef, axes: readonly number[], keepDims = false): TensorRef => this.apply('reduceMax', [a], { axes, keepDims })
  slice = (a: TensorRef, axis: number, start: number, end: number): TensorRef => this.apply('slice', [a], { axis, start, end })
  pad = (a: TensorRef, axis: number, before: number, after: number): TensorRef => this.apply('pad', [a], { axis, before, after })
  concat = (parts: TensorRef[], axis: number): TensorRef => this.apply('concat', parts, { axis })
  /** The same value, through which no gradient flows (e.g. the max subtracted inside softmax). */
  stopGradient = (a: TensorRef): TensorRef => this.apply('stopGradient', [a], {})
  gather = (data: TensorRef, indices: TensorRef): TensorRef => this.apply('gather', [data, indices], {})
  scatterAddRows = (indices: TensorRef, updates: TensorRef, rows: number): TensorRef => this.apply('scatterAddRows', [indices, updates], { rows })

  private tensor(name: string, shape: readonly number[], dtype: TensorRef['dtype']): TensorRef {
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new LecternError('invalid_argument', `${name}: invalid shape [${shape.join(', ')}]`)
    return { id: this.nextId++, name, shape: [...shape], dtype }
  }
}
