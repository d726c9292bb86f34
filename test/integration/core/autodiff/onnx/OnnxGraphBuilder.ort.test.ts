import { mkdir, open, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { ExternalDataLayout } from '../../../../../src-main/core/autodiff/onnx/ExternalDataLayout.js'
import { OnnxGraphBuilder, type OnnxAttribute } from '../../../../../src-main/core/autodiff/onnx/OnnxGraphBuilder.js'
import type { OnnxElementType } from '../../../../../src-main/core/autodiff/onnx/onnxElementTypes.js'
import { useTempDirs } from '../../../../support/tempDir.js'

// 'basic': level 'all' fuses patterns into float-only contrib kernels, which breaks float64 graphs (specs/onnxruntime-node.md §2).
const SESSION: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'basic' }

const B = 2 // batch
const IN = 3
const OUT = 4
const X = Float32Array.from({ length: B * IN }, (_, i) => (i % 5) - 2) // (B, IN)
const W = Float32Array.from({ length: IN * OUT }, (_, i) => Math.sin(i + 1)) // (IN, OUT)
const BIAS = Float32Array.from({ length: OUT }, (_, i) => 0.3 * i - 0.5) // (OUT)

/** Relu(x·W + b) in float64, the reference. */
function referenceMlp(): number[] {
  const y: number[] = []
  for (let r = 0; r < B; r++) {
    for (let c = 0; c < OUT; c++) {
      let s = BIAS[c]!
      for (let k = 0; k < IN; k++) s += X[r * IN + k]! * W[k * OUT + c]!
      y.push(Math.max(0, s))
    }
  }
  return y
}

function mlpNodes(g: OnnxGraphBuilder): Uint8Array {
  g.addNode({ opType: 'MatMul', inputs: ['x', 'W'], outputs: ['xW'] })
  g.addNode({ opType: 'Add', inputs: ['xW', 'b'], outputs: ['z'] })
  g.addNode({ opType: 'Relu', inputs: ['z'], outputs: ['y'] })
  g.addOutput('y', 'float32', ['B', OUT])
  return g.toModelBytes({ opset: 21, producerName: 'lectern-test' })
}

async function runMlp(session: ort.InferenceSession): Promise<number[]> {
  const { y } = await session.run({ x: new ort.Tensor('float32', X, [B, IN]) })
  expect(y?.dims).toEqual([B, OUT])
  return Array.from(y!.data as Float32Array)
}

describe('OnnxGraphBuilder on onnxruntime-node', () => {
  const tempDir = useTempDirs()

  it('runs MatMul → Add → Relu with inline initializers and matches a JS computation', async () => {
    const g = new OnnxGraphBuilder()
      .addInput('x', 'float32', ['B', IN])
      .addInitializer('W', { elementType: 'float32', dims: [IN, OUT], data: W })
      .addInitializer('b', { elementType: 'float32', dims: [OUT], data: BIAS })
    const session = await ort.InferenceSession.create(mlpNodes(g), SESSION)
    try {
      const y = await runMlp(session)
      const ref = referenceMlp()
      y.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 5))
    } finally {
      await session.release()
    }
  })

  it('loads the same graph by path with its weights in an external data file laid out by ExternalDataLayout', async () => {
    const dir = await tempDir()
    // Alignments forced small/large so both paths (read and mmap-aligned) are exercised on tiny tensors.
    const layout = new ExternalDataLayout('weights/mlp.data', { largeTensorMinBytes: 48 })
    const entries = [
      { entry: layout.add({ name: 'W', elementType: 'float32', dims: [IN, OUT] }), data: W },
      { entry: layout.add({ name: 'b', elementType: 'float32', dims: [OUT] }), data: BIAS },
    ]
    expect(entries.map((e) => e.entry.offsetBytes)).toEqual([0, 64])
    const g = new OnnxGraphBuilder().addInput('x', 'float32', ['B', IN])
    for (const { entry } of entries) g.addExternalInitializer(entry.name, entry)
    const modelBytes = mlpNodes(g)
    expect(modelBytes.length).toBeLessThan(400) // no weight bytes in the proto

    // Stream the tensors in layout order, as a file sink would.
    await writeFile(join(dir, 'model.onnx'), modelBytes)
    await mkdir(join(dir, 'weights'))
    const file = await open(join(dir, 'weights/mlp.data'), 'w')
    try {
      for (const { entry, data } of entries) {
        await file.write(new Uint8Array(entry.paddingBeforeBytes))
        await file.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
      }
    } finally {
      await file.close()
    }
    expect((await stat(join(dir, 'weights/mlp.data'))).size).toBe(layout.totalBytes)

    // ORT resolves `location` against the model file's folder when the model is loaded by path.
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), SESSION)
    try {
      const inline = new OnnxGraphBuilder()
        .addInput('x', 'float32', ['B', IN])
        .addInitializer('W', { elementType: 'float32', dims: [IN, OUT], data: W })
        .addInitializer('b', { elementType: 'float32', dims: [OUT], data: BIAS })
      const inlineSession = await ort.InferenceSession.create(mlpNodes(inline), SESSION)
      try {
        expect(await runMlp(session)).toEqual(await runMlp(inlineSession))
      } finally {
        await inlineSession.release()
      }
    } finally {
      await session.release()
    }
  })

  it('runs a float64 graph exactly', async () => {
    const w = Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) // (3, 2)
    const g = new OnnxGraphBuilder().addInput('x', 'float64', [1, 3]).addInitializer('W', { elementType: 'float64', dims: [3, 2], data: w })
    g.addNode({ opType: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] })
    g.addOutput('y', 'float64', [1, 2])
    const session = await ort.InferenceSession.create(g.toModelBytes(), SESSION)
    try {
      const x = Float64Array.from([1e-9, 1, 3])
      const { y } = await session.run({ x: new ort.Tensor('float64', x, [1, 3]) })
      expect(y?.type).toBe('float64')
      // Each product is a float64 dot product; summation order may differ, so compare to float64 rounding.
      const ref = [x[0]! * w[0]! + x[1]! * w[2]! + x[2]! * w[4]!, x[0]! * w[1]! + x[1]! * w[3]! + x[2]! * w[5]!]
      Array.from(y!.data as Float64Array).forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-15))
    } finally {
      await session.release()
    }
  })

  it.each([21, 23, 24, 25])('accepts opset %i with its paired IR version', async (opset) => {
    const g = new OnnxGraphBuilder().addInput('x', 'float32', [2])
    g.addNode({ opType: 'Neg', inputs: ['x'], outputs: ['y'] })
    g.addOutput('y', 'float32', [2])
    const session = await ort.InferenceSession.create(g.toModelBytes({ opset }), SESSION)
    await session.release()
  })
})

// ---- float64 CPU kernels: one-node graphs. ----

interface OpCase {
  inputs: { name: string; type: OnnxElementType; dims: number[]; data: Float64Array | BigInt64Array | Uint8Array }[]
  attributes?: Record<string, OnnxAttribute>
  output: { type: OnnxElementType; dims: number[] }
}

const f64 = (dims: number[], offset = 0.5): { type: 'float64'; dims: number[]; data: Float64Array } => ({
  type: 'float64',
  dims,
  data: Float64Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => offset + 0.25 * i),
})
const i64 = (dims: number[], values: number[]): { type: 'int64'; dims: number[]; data: BigInt64Array } => ({ type: 'int64', dims, data: BigInt64Array.from(values.map(BigInt)) })
const named = <T extends object>(name: string, t: T): T & { name: string } => ({ name, ...t })
const unary = (): OpCase => ({ inputs: [named('a', f64([2, 3]))], output: { type: 'float64', dims: [2, 3] } })
const binary = (): OpCase => ({ inputs: [named('a', f64([2, 3])), named('b', f64([3], 1))], output: { type: 'float64', dims: [2, 3] } })
const compare = (): OpCase => ({ inputs: [named('a', f64([2, 3])), named('b', f64([2, 3], 1))], output: { type: 'bool', dims: [2, 3] } })

const FLOAT64_OPS: Record<string, OpCase> = {
  MatMul: { inputs: [named('a', f64([2, 3])), named('b', f64([3, 4]))], output: { type: 'float64', dims: [2, 4] } },
  Add: binary(),
  Mul: binary(),
  Sub: binary(),
  Div: binary(),
  Pow: binary(),
  Exp: unary(),
  Log: unary(),
  Sqrt: unary(),
  Reciprocal: unary(),
  Neg: unary(),
  Sigmoid: unary(),
  Tanh: unary(),
  Softmax: { ...unary(), attributes: { axis: { int: -1 } } },
  ReduceSum: { inputs: [named('a', f64([2, 3])), named('axes', i64([1], [1]))], attributes: { keepdims: { int: 1 } }, output: { type: 'float64', dims: [2, 1] } },
  ReduceMax: { inputs: [named('a', f64([2, 3])), named('axes', i64([1], [1]))], attributes: { keepdims: { int: 0 } }, output: { type: 'float64', dims: [2] } },
  Transpose: { inputs: [named('a', f64([2, 3]))], attributes: { perm: { ints: [1, 0] } }, output: { type: 'float64', dims: [3, 2] } },
  Reshape: { inputs: [named('a', f64([2, 3])), named('shape', i64([2], [3, -1]))], output: { type: 'float64', dims: [3, 2] } },
  Gather: { inputs: [named('a', f64([3, 2])), named('idx', i64([2], [2, 0]))], attributes: { axis: { int: 0 } }, output: { type: 'float64', dims: [2, 2] } },
  Where: {
    inputs: [named('c', { type: 'bool', dims: [2, 3], data: Uint8Array.from([1, 0, 1, 0, 1, 0]) }), named('a', f64([2, 3])), named('b', f64([2, 3], 9))],
    output: { type: 'float64', dims: [2, 3] },
  },
  Concat: { inputs: [named('a', f64([2, 3])), named('b', f64([1, 3]))], attributes: { axis: { int: 0 } }, output: { type: 'float64', dims: [3, 3] } },
  Slice: {
    inputs: [named('a', f64([2, 3])), named('starts', i64([1], [1])), named('ends', i64([1], [3])), named('axes', i64([1], [1]))],
    output: { type: 'float64', dims: [2, 2] },
  },
  Expand: { inputs: [named('a', f64([1, 3])), named('shape', i64([2], [4, 3]))], output: { type: 'float64', dims: [4, 3] } },
  Cast: { inputs: [named('a', f64([2, 3]))], attributes: { to: { int: 1 } }, output: { type: 'float32', dims: [2, 3] } },
  CastToFloat64: { inputs: [named('a', i64([2], [3, -4]))], attributes: { to: { int: 11 } }, output: { type: 'float64', dims: [2] } },
  Greater: compare(),
  Equal: compare(),
  Range: {
    inputs: [named('start', { type: 'float64', dims: [], data: Float64Array.of(0) }), named('limit', { type: 'float64', dims: [], data: Float64Array.of(2) }), named('delta', { type: 'float64', dims: [], data: Float64Array.of(0.5) })],
    output: { type: 'float64', dims: [4] },
  },
  Trilu: { inputs: [named('a', f64([3, 3]))], attributes: { upper: { int: 0 } }, output: { type: 'float64', dims: [3, 3] } },
  ScatterElements: {
    inputs: [named('a', f64([2, 3])), named('idx', i64([2, 1], [2, 0])), named('u', f64([2, 1], 10))],
    attributes: { axis: { int: 1 }, reduction: { string: 'add' } },
    output: { type: 'float64', dims: [2, 3] },
  },
}

/** Ops the issue-4 gradient checks rely on in float64 on CPU (ORT 1.30). */
const MUST_RUN_IN_FLOAT64 = Object.keys(FLOAT64_OPS)

async function runOneNode(opName: string, c: OpCase): Promise<ort.Tensor> {
  const g = new OnnxGraphBuilder(opName)
  for (const input of c.inputs) g.addInput(input.name, input.type, input.dims)
  g.addNode({ opType: opName === 'CastToFloat64' ? 'Cast' : opName, inputs: c.inputs.map((i) => i.name), outputs: ['y'], ...(c.attributes ? { attributes: c.attributes } : {}) })
  g.addOutput('y', c.output.type, c.output.dims)
  const session = await ort.InferenceSession.create(g.toModelBytes({ opset: 21 }), SESSION)
  try {
    const feeds = Object.fromEntries(c.inputs.map((i) => [i.name, new ort.Tensor(i.type, i.data, i.dims)]))
    const { y } = await session.run(feeds)
    return y!
  } finally {
    await session.release()
  }
}

describe('float64 CPU kernels in onnxruntime-node 1.30 (opset 21)', () => {
  it.each(MUST_RUN_IN_FLOAT64)('%s runs on float64 inputs', async (opName) => {
    const c = FLOAT64_OPS[opName]!
    const y = await runOneNode(opName, c)
    expect(y.type).toBe(c.output.type)
    expect(y.dims).toEqual(c.output.dims)
  })

  it('computes float64 results exactly (spot checks)', async () => {
    expect(Array.from((await runOneNode('Trilu', FLOAT64_OPS['Trilu']!)).data as Float64Array)).toEqual([0.5, 0, 0, 1.25, 1.5, 0, 2, 2.25, 2.5])
    expect(Array.from((await runOneNode('Range', FLOAT64_OPS['Range']!)).data as Float64Array)).toEqual([0, 0.5, 1, 1.5])
    expect(Array.from((await runOneNode('ScatterElements', FLOAT64_OPS['ScatterElements']!)).data as Float64Array)).toEqual([0.5, 0.75, 1 + 10, 1.25 + 10.25, 1.5, 1.75])
    const sub = Array.from((await runOneNode('Sub', FLOAT64_OPS['Sub']!)).data as Float64Array)
    expect(sub).toEqual([0.5 - 1, 0.75 - 1.25, 1 - 1.5, 1.25 - 1, 1.5 - 1.25, 1.75 - 1.5])
  })
})
