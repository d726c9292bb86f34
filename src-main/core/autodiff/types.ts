import type { NdArray } from './ndarray.js'
import type { OnnxGraphBuilder } from './onnx/OnnxGraphBuilder.js'

/** A value in a graph: graph input, constant or op output. Shapes are static. */
export interface TensorRef {
  readonly id: number
  readonly name: string
  readonly shape: readonly number[]
  /** Floats carry gradients; int64 values (token ids, positions) never do. */
  readonly dtype: 'float' | 'int64'
}

export type OpName =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'maximum'
  | 'greaterOrEqual'
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'matmul'
  | 'transpose'
  | 'reshape'
  | 'reduceSum'
  | 'reduceMax'
  | 'expand'
  | 'slice'
  | 'pad'
  | 'concat'
  | 'stopGradient'
  | 'gather'
  | 'scatterAddRows'

export interface OpAttrs {
  add: Record<string, never>
  sub: Record<string, never>
  mul: Record<string, never>
  div: Record<string, never>
  maximum: Record<string, never>
  /** 1 where a ≥ b, else 0, in the float type: a mask, through which no gradient flows. */
  greaterOrEqual: Record<string, never>
  neg: Record<string, never>
  exp: Record<string, never>
  log: Record<string, never>
  matmul: Record<string, never>
  transpose: { perm: readonly number[] }
  reshape: { shape: readonly number[] }
  reduceSum: { axes: readonly number[]; keepDims: boolean }
  expand: { shape: readonly number[] }
  sqrt: Record<string, never>
  reduceMax: { axes: readonly number[]; keepDims: boolean }
  /** Elements [start, end) along `axis`. */
  slice: { axis: number; start: number; end: number }
  /** Zeros added along `axis`: `before` in front, `after` behind. */
  pad: { axis: number; before: number; after: number }
  concat: { axis: number }
  stopGradient: Record<string, never>
  /** Rows of `data` (axis 0) picked by int64 `indices`: embedding lookup. */
  gather: Record<string, never>
  /** A zero tensor of `rows` rows with `updates` added at the rows `indices` name (repeats add up). */
  scatterAddRows: { rows: number }
}

/** The graph operations a VJP may use to state its gradient: backward is just more graph. */
export interface GraphOps {
  constant(values: ArrayLike<number>, shape: readonly number[]): TensorRef
  add(a: TensorRef, b: TensorRef): TensorRef
  sub(a: TensorRef, b: TensorRef): TensorRef
  mul(a: TensorRef, b: TensorRef): TensorRef
  div(a: TensorRef, b: TensorRef): TensorRef
  maximum(a: TensorRef, b: TensorRef): TensorRef
  greaterOrEqual(a: TensorRef, b: TensorRef): TensorRef
  neg(a: TensorRef): TensorRef
  exp(a: TensorRef): TensorRef
  log(a: TensorRef): TensorRef
  matmul(a: TensorRef, b: TensorRef): TensorRef
  transpose(a: TensorRef, perm: readonly number[]): TensorRef
  reshape(a: TensorRef, shape: readonly number[]): TensorRef
  reduceSum(a: TensorRef, axes: readonly number[], keepDims?: boolean): TensorRef
  expand(a: TensorRef, shape: readonly number[]): TensorRef
  sqrt(a: TensorRef): TensorRef
  slice(a: TensorRef, axis: number, start: number, end: number): TensorRef
  pad(a: TensorRef, axis: number, before: number, after: number): TensorRef
  gather(data: TensorRef, indices: TensorRef): TensorRef
  scatterAddRows(indices: TensorRef, updates: TensorRef, rows: number): TensorRef
}

/** What lowering to ONNX gives an op: the builder, and a way to add int64 constants (shapes, axes). */
export interface EmitContext {
  builder: OnnxGraphBuilder
  /** The element type floats are lowered to. */
  floatType: 'float32' | 'float64'
  int64Constant(values: readonly number[]): string
}

/**
 * One op, stated once: its output shape, its ONNX nodes, its vector-Jacobian product (with graph ops, one
 * gradient or null per input, in the output's shape where the op broadcasts: the engine sums it back down),
 * and a float64 reference for tests.
 */
export interface OpDef<A> {
  arity: number
  shape(inputs: readonly (readonly number[])[], attrs: A): number[]
  emit(context: EmitContext, inputs: readonly string[], output: string, attrs: A, inputShapes: readonly (readonly number[])[]): void
  vjp(g: GraphOps, gradOut: TensorRef, inputs: readonly TensorRef[], output: TensorRef, attrs: A): (TensorRef | null)[]
  reference(inputs: readonly NdArray[], attrs: A): NdArray
}
