import { broadcastShapes, broadcastTo, concat, elementwise, matmul, pad, reduceMax, reduceSum, sizeOf, slice, transpose, type NdArray } from './ndarray.js'
import { ONNX_ELEMENT_TYPES } from './onnx/onnxElementTypes.js'
import type { GraphOps, OpAttrs, OpDef, OpName, TensorRef } from './types.js'

type Unary = 'Neg' | 'Exp' | 'Log' | 'Sqrt'
type Binary = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Max'

function binary(onnx: Binary, f: (a: number, b: number) => number, vjp: OpDef<Record<string, never>>['vjp']): OpDef<Record<string, never>> {
  return {
    arity: 2,
    shape: ([a, b]) => broadcastShapes(a!, b!),
    emit: ({ builder }, inputs, output) => void builder.addNode({ opType: onnx, inputs, outputs: [output] }),
    vjp,
    reference: (inputs) => elementwise([...inputs], f),
  }
}

function unary(onnx: Unary, f: (x: number) => number, vjp: OpDef<Record<string, never>>['vjp']): OpDef<Record<string, never>> {
  return {
    arity: 1,
    shape: ([x]) => [...x!],
    emit: ({ builder }, inputs, output) => void builder.addNode({ opType: onnx, inputs, outputs: [output] }),
    vjp,
    reference: (inputs) => elementwise([...inputs], f),
  }
}

function reducedShape(x: readonly number[], { axes, keepDims }: { axes: readonly number[]; keepDims: boolean }): number[] {
  return keepDims ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i))
}

function emitReduce(opType: 'ReduceSum' | 'ReduceMax'): OpDef<{ axes: readonly number[]; keepDims: boolean }>['emit'] {
  return (context, [x], output, { axes, keepDims }) =>
    void context.builder.addNode({ opType, inputs: [x!, context.int64Constant(axes)], outputs: [output], attributes: { keepdims: { int: keepDims ? 1 : 0 } } })
}

/** Swaps the last two axes. */
function transposeLastTwo(g: GraphOps, x: TensorRef): TensorRef {
  const perm = x.shape.map((_, i) => i)
  perm.splice(-2, 2, x.shape.length - 1, x.shape.length - 2)
  return g.transpose(x, perm)
}

/**
 * THE op table. Composite layers (RMSNorm, softmax, SiLU, cross-entropy, MoRA compress/decompress) are built
 * from these in other files and have no VJP of their own.
 */
export const OPS = {
  add: binary('Add', (a, b) => a + b, (_g, gradOut) => [gradOut, gradOut]),
  sub: binary('Sub', (a, b) => a - b, (g, gradOut) => [gradOut, g.neg(gradOut)]),
  mul: binary('Mul', (a, b) => a * b, (g, gradOut, [a, b]) => [g.mul(gradOut, b!), g.mul(gradOut, a!)]),
  // d(a/b) = da/b − a·db/b²
  div: binary('Div', (a, b) => a / b, (g, gradOut, [, b], y) => [g.div(gradOut, b!), g.neg(g.div(g.mul(gradOut, y), b!))]),
  // The gradient goes to whichever input is the maximum, to `a` on ties: gradOut·[a≥b] and gradOut·(1−[a≥b]).
  // gradOut − gradOut·mask is gradOut·(1−mask) exactly, since the mask is 0 or 1.
  maximum: binary('Max', Math.max, (g, gradOut, [a, b]) => {
    const toA = g.mul(gradOut, g.greaterOrEqual(a!, b!))
    return [toA, g.sub(gradOut, toA)]
  }),
  greaterOrEqual: {
    arity: 2,
    shape: ([a, b]) => broadcastShapes(a!, b!),
    // ONNX comparisons give bool; Cast makes it a float mask (1/0) in the graph's float type.
    emit: (context, inputs, output) => {
      const mask = `${output}_bool`
      context.builder.addNode({ opType: 'GreaterOrEqual', inputs, outputs: [mask] })
      context.builder.addNode({ opType: 'Cast', inputs: [mask], outputs: [output], attributes: { to: { int: ONNX_ELEMENT_TYPES[context.floatType].dataType } } })
    },
    // A step function: zero derivative almost everywhere, undefined on ties. tinygrad's comparisons do the same.
    vjp: () => [null, null],
    reference: (inputs) => elementwise([...inputs], (a, b) => (a >= b ? 1 : 0)),
  } satisfies OpDef<OpAttrs['greaterOrEqual']>,
  neg: unary('Neg', (x) => -x, (g, gradOut) => [g.neg(gradOut)]),
  exp: unary('Exp', Math.exp, (g, gradOut, _inputs, y) => [g.mul(gradOut, y)]),
  log: unary('Log', Math.log, (g, gradOut, [x]) => [g.div(gradOut, x!)]),
  // d√x = 1/(2√x)
  sqrt: unary('Sqrt', Math.sqrt, (g, gradOut, _inputs, y) => [g.div(gradOut, g.add(y, y))]),
  matmul: {
    arity: 2,
    shape: ([a, b]) => {
      if (a!.length < 2 || b!.length < 2) throw new Error('matmul needs operands of rank 2 or more')
      if (a!.at(-1) !== b!.at(-2)) throw new Error(`matmul: inner dimensions ${a!.at(-1)} and ${b!.at(-2)} differ`)
      return [...broadcastShapes(a!.slice(0, -2), b!.slice(0, -2)), a!.at(-2)!, b!.at(-1)!]
    },
    emit: ({ builder }, inputs, output) => void builder.addNode({ opType: 'MatMul', inputs, outputs: [output] }),
    // (…, m, k)·(…, k, n): dA = G·Bᵀ, dB = Aᵀ·G; the engine sums broadcast batch axes.
    vjp: (g, gradOut, [a, b]) => [g.matmul(gradOut, transposeLastTwo(g, b!)), g.matmul(transposeLastTwo(g, a!), gradOut)],
    reference: ([a, b]) => matmul(a!, b!),
  } satisfies OpDef<OpAttrs['matmul']>,
  transpose: {
    arity: 1,
    shape: ([x], { perm }) => perm.map((p) => x![p]!),
    emit: ({ builder }, inputs, output, { perm }) => void builder.addNode({ opType: 'Transpose', inputs, outputs: [output], attributes: { perm: { ints: perm } } }),
    vjp: (g, gradOut, _inputs, _y, { perm }) => {
      const inverse = perm.map((_, i) => perm.indexOf(i))
      return [g.transpose(gradOut, inverse)]
    },
    reference: ([x], { perm }) => transpose(x!, perm),
  } satisfies OpDef<OpAttrs['transpose']>,
  reshape: {
    arity: 1,
    shape: ([x], { shape }) => {
      if (sizeOf(shape) !== sizeOf(x!)) throw new Error(`reshape: [${x!.join(', ')}] cannot become [${shape.join(', ')}]`)
      return [...shape]
    },
    emit: (context, [x], output, { shape }) =>
      void context.builder.addNode({ opType: 'Reshape', inputs: [x!, context.int64Constant(shape)], outputs: [output] }),
    vjp: (g, gradOut, [x]) => [g.reshape(gradOut, x!.shape)],
    reference: ([x], { shape }) => ({ shape: [...shape], data: x!.data.slice() }),
  } satisfies OpDef<OpAttrs['reshape']>,
  reduceSum: {
    arity: 1,
    shape: ([x], attrs) => reducedShape(x!, attrs),
    emit: emitReduce('ReduceSum'),
    // Every summed element gets the gradient of its sum: put the axes back as 1s, then expand.
    vjp: (g, gradOut, [x], _y, { axes }) => [g.expand(g.reshape(gradOut, x!.shape.map((d, i) => (axes.includes(i) ? 1 : d))), x!.shape)],
    reference: ([x], { axes, keepDims }) => reduceSum(x!, axes, keepDims),
  } satisfies OpDef<OpAttrs['reduceSum']>,
  expand: {
    arity: 1,
    shape: ([x], { shape }) => broadcastShapes(x!, shape),
    emit: (context, [x], output, { shape }) => void context.builder.addNode({ opType: 'Expand', inputs: [x!, context.int64Constant(shape)], outputs: [output] }),
    // The engine sums the output-shaped gradient back to the input's shape.
    vjp: (_g, gradOut) => [gradOut],
    reference: ([x], { shape }) => broadcastTo(x!, broadcastShapes(x!.shape, shape)),
  } satisfies OpDef<OpAttrs['expand']>,
  reduceMax: {
    arity: 1,
    shape: ([x], attrs) => reducedShape(x!, attrs),
    emit: emitReduce('ReduceMax'),
    // Its gradient (a one-hot on the argmax, split on ties) is never needed: the max is only used detached.
    vjp: () => {
      throw new Error('reduceMax has no gradient; use it through stopGradient (as softmax does)')
    },
    reference: ([x], { axes, keepDims }) => reduceMax(x!, axes, keepDims),
  } satisfies OpDef<OpAttrs['reduceMax']>,
  slice: {
    arity: 1,
    shape: ([x], { axis, start, end }) => {
      if (start < 0 || end > x![axis]! || start >= end) throw new Error(`slice [${start}, ${end}) is outside axis ${axis} of length ${x![axis]}`)
      return x!.map((d, i) => (i === axis ? end - start : d))
    },
    emit: (context, [x], output, { axis, start, end }) =>
      void context.builder.addNode({
        opType: 'Slice',
        inputs: [x!, context.int64Constant([start]), context.int64Constant([end]), context.int64Constant([axis])],
        outputs: [output],
      }),
    vjp: (g, gradOut, [x], _y, { axis, start, end }) => [g.pad(gradOut, axis, start, x!.shape[axis]! - end)],
    reference: ([x], { axis, start, end }) => slice(x!, axis, start, end),
  } satisfies OpDef<OpAttrs['slice']>,
  pad: {
    arity: 1,
    shape: ([x], { axis, before, after }) => x!.map((d, i) => (i === axis ? d + before + after : d)),
    emit: (context, [x], output, { axis, before, after }, [shape]) => {
      const rank = shape!.length
      const pads = [...Array.from({ length: rank }, (_, i) => (i === axis ? before : 0)), ...Array.from({ length: rank }, (_, i) => (i === axis ? after : 0))]
      context.builder.addNode({ opType: 'Pad', inputs: [x!, context.int64Constant(pads)], outputs: [output] })
    },
    vjp: (g, gradOut, [x], _y, { axis, before }) => [g.slice(gradOut, axis, before, before + x!.shape[axis]!)],
    reference: ([x], { axis, before, after }) => pad(x!, axis, before, after),
  } satisfies OpDef<OpAttrs['pad']>,
  concat: {
    arity: -1,
    shape: (parts, { axis }) => {
      const first = parts[0]!
      for (const p of parts) {
        if (p.length !== first.length || p.some((d, i) => i !== axis && d !== first[i])) throw new Error(`concat: parts differ outside axis ${axis}`)
      }
      return first.map((d, i) => (i === axis ? parts.reduce((sum, p) => sum + p[axis]!, 0) : d))
    },
    emit: ({ builder }, inputs, output, { axis }) => void builder.addNode({ opType: 'Concat', inputs, outputs: [output], attributes: { axis: { int: axis } } }),
    vjp: (g, gradOut, parts, _y, { axis }) => {
      let start = 0
      return parts.map((p) => {
        const piece = g.slice(gradOut, axis, start, start + p.shape[axis]!)
        start += p.shape[axis]!
        return piece
      })
    },
    reference: (parts, { axis }) => concat([...parts], axis),
  } satisfies OpDef<OpAttrs['concat']>,
  stopGradient: {
    arity: 1,
    shape: ([x]) => [...x!],
    emit: ({ builder }, inputs, output) => void builder.addNode({ opType: 'Identity', inputs, outputs: [output] }),
    vjp: () => [null],
    reference: ([x]) => ({ shape: [...x!.shape], data: x!.data.slice() }),
  } satisfies OpDef<OpAttrs['stopGradient']>,
  gather: {
    arity: 2,
    shape: ([data, indices]) => [...indices!, ...data!.slice(1)],
    emit: ({ builder }, inputs, output) => void builder.addNode({ opType: 'Gather', inputs, outputs: [output], attributes: { axis: { int: 0 } } }),
    // Each picked row sends its gradient back to the row it came from; rows picked twice add up.
    vjp: (g, gradOut, [data, indices]) => [g.scatterAddRows(indices!, gradOut, data!.shape[0]!), null],
    reference: ([data, indices]) => {
      const rowSize = sizeOf(data!.shape.slice(1))
      const out = new Float64Array(indices!.data.length * rowSize)
      indices!.data.forEach((row, i) => out.set(data!.data.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize))
      return { shape: [...indices!.shape, ...data!.shape.slice(1)], data: out }
    },
  } satisfies OpDef<OpAttrs['gather']>,
  scatterAddRows: {
    arity: 2,
    shape: ([indices, updates], { rows }) => [rows, ...updates!.slice(indices!.length)],
    emit: (context, [indices, updates], output, { rows }, [indexShape, updateShape]) => {
      const { builder } = context
      const zerosValue = context.floatType === 'float64' ? { elementType: 'float64' as const, dims: [1], data: Float64Array.of(0) } : { elementType: 'float32' as const, dims: [1], data: Float32Array.of(0) }
      const zeros = `${output}_zeros`
      const columnIndices = `${output}_rows`
      builder.addNode({
        opType: 'ConstantOfShape',
        inputs: [context.int64Constant([rows, ...updateShape!.slice(indexShape!.length)])],
        outputs: [zeros],
        attributes: { value: { tensor: zerosValue } },
      })
      builder.addNode({ opType: 'Unsqueeze', inputs: [indices!, context.int64Constant([-1])], outputs: [columnIndices] })
      builder.addNode({ opType: 'ScatterND', inputs: [zeros, columnIndices, updates!], outputs: [output], attributes: { reduction: { string: 'add' } } })
    },
    vjp: (g, gradOut, [indices]) => [null, g.gather(gradOut, indices!)],
    reference: ([indices, updates], { rows }): NdArray => {
      const rowSize = sizeOf(updates!.shape.slice(indices!.shape.length))
      const out = new Float64Array(rows * rowSize)
      indices!.data.forEach((row, i) => {
        for (let k = 0; k < rowSize; k++) out[row * rowSize + k]! += updates!.data[i * rowSize + k]!
      })
      return { shape: [rows, ...updates!.shape.slice(indices!.shape.length)], data: out }
    },
  } satisfies OpDef<OpAttrs['scatterAddRows']>,
} satisfies { [K in OpName]: OpDef<OpAttrs[K]> }
