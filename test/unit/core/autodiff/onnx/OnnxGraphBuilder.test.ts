import { fromBinary } from '@bufbuild/protobuf'
import { AttributeProto_AttributeType, ModelProtoSchema, TensorProto_DataLocation, TensorProto_DataType } from 'onnx-buf'
import { describe, expect, it } from 'vitest'
import { OnnxGraphBuilder } from '../../../../../src-main/core/autodiff/onnx/OnnxGraphBuilder.js'
import { LecternError } from '../../../../../src-main/shared/errors.js'

/** y = Relu(x·W + b): x (B, 3), W (3, 2), b (2). */
function tinyGraph(): OnnxGraphBuilder {
  return new OnnxGraphBuilder('tiny')
    .addInput('x', 'float32', ['B', 3])
    .addInitializer('W', { elementType: 'float32', dims: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) })
    .addInitializer('b', { elementType: 'float32', dims: [2], data: Float32Array.from([0.5, -100]) })
}

function expectInvalid(fn: () => unknown, message: RegExp): void {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(LecternError)
  expect((caught as LecternError).code).toBe('invalid_argument')
  expect((caught as LecternError).message).toMatch(message)
}

describe('OnnxGraphBuilder', () => {
  it('encodes MatMul → Add → Relu and decodes back field by field', () => {
    const g = tinyGraph()
    g.addNode({ opType: 'MatMul', inputs: ['x', 'W'], outputs: ['xW'] })
    g.addNode({ opType: 'Add', inputs: ['xW', 'b'], outputs: ['z'], name: 'bias' })
    g.addNode({ opType: 'Relu', inputs: ['z'], outputs: ['y'] })
    g.addOutput('y', 'float32', ['B', 2])
    const model = fromBinary(ModelProtoSchema, g.toModelBytes({ opset: 21, producerName: 'test' }))

    expect(model.irVersion).toBe(10n)
    expect(model.producerName).toBe('test')
    expect(model.opsetImport.map((o) => [o.domain, o.version])).toEqual([['', 21n]])
    const graph = model.graph!
    expect(graph.name).toBe('tiny')
    expect(graph.node.map((n) => [n.name, n.opType, n.domain, n.input, n.output])).toEqual([
      ['MatMul_0', 'MatMul', '', ['x', 'W'], ['xW']],
      ['bias', 'Add', '', ['xW', 'b'], ['z']],
      ['Relu_2', 'Relu', '', ['z'], ['y']],
    ])
    const [x] = graph.input
    expect(x?.name).toBe('x')
    expect(x?.type?.value.case).toBe('tensorType')
    const xType = x?.type?.value.value as { elemType: number; shape: { dim: { value: { case: string; value: unknown } }[] } }
    expect(xType.elemType).toBe(TensorProto_DataType.FLOAT)
    expect(xType.shape.dim.map((d) => d.value)).toEqual([
      { case: 'dimParam', value: 'B' },
      { case: 'dimValue', value: 3n },
    ])
    expect(graph.output.map((o) => o.name)).toEqual(['y'])
    const [W, b] = graph.initializer
    expect(W?.name).toBe('W')
    expect(W?.dims).toEqual([3n, 2n])
    expect(W?.dataType).toBe(TensorProto_DataType.FLOAT)
    expect(Array.from(new Float32Array(W!.rawData.slice().buffer))).toEqual([1, 2, 3, 4, 5, 6])
    expect(Array.from(new Float32Array(b!.rawData.slice().buffer))).toEqual([0.5, -100])
    expect(W?.dataLocation).toBe(TensorProto_DataLocation.DEFAULT)
  })

  it('writes external initializers as (location, offset, length) with no bytes', () => {
    const g = new OnnxGraphBuilder()
      .addInput('x', 'float64', [2, 3])
      .addExternalInitializer('W', { elementType: 'float64', dims: [3, 2], location: 'weights.data', offsetBytes: 65536, lengthBytes: 48 })
    g.addNode({ opType: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] })
    g.addOutput('y', 'float64', [2, 2])
    const [W] = fromBinary(ModelProtoSchema, g.toModelBytes()).graph!.initializer
    expect(W?.dataLocation).toBe(TensorProto_DataLocation.EXTERNAL)
    expect(W?.dataType).toBe(TensorProto_DataType.DOUBLE)
    expect(W?.rawData.length).toBe(0)
    expect(W?.externalData.map((e) => [e.key, e.value])).toEqual([
      ['location', 'weights.data'],
      ['offset', '65536'],
      ['length', '48'],
    ])
  })

  it('encodes every attribute kind exactly, and imports non-default domains', () => {
    const g = new OnnxGraphBuilder().addInput('x', 'float32', [4])
    g.addNode({
      opType: 'Custom',
      domain: 'com.microsoft',
      inputs: ['x', ''],
      outputs: ['y'],
      attributes: {
        axis: { int: -1 },
        big: { int: 2n ** 40n },
        alpha: { float: 0.25 },
        perm: { ints: [1, 0] },
        scales: { floats: [0.5, 2] },
        mode: { string: 'add' },
        value: { tensor: { elementType: 'int64', dims: [2], data: BigInt64Array.from([3n, -4n]) } },
      },
    })
    g.addOutput('y', 'float32', [4])
    const model = fromBinary(ModelProtoSchema, g.toModelBytes({ opset: 23, domainOpsets: { 'com.microsoft': 1 } }))
    expect(model.irVersion).toBe(11n)
    expect(model.opsetImport.map((o) => [o.domain, o.version])).toEqual([['', 23n], ['com.microsoft', 1n]])
    const node = model.graph!.node[0]!
    expect(node.domain).toBe('com.microsoft')
    expect(node.input).toEqual(['x', ''])
    const attr = Object.fromEntries(node.attribute.map((a) => [a.name, a]))
    expect([attr['axis']?.type, attr['axis']?.i]).toEqual([AttributeProto_AttributeType.INT, -1n])
    expect(attr['big']?.i).toBe(2n ** 40n)
    expect([attr['alpha']?.type, attr['alpha']?.f]).toEqual([AttributeProto_AttributeType.FLOAT, 0.25])
    expect([attr['perm']?.type, attr['perm']?.ints]).toEqual([AttributeProto_AttributeType.INTS, [1n, 0n]])
    expect([attr['scales']?.type, attr['scales']?.floats]).toEqual([AttributeProto_AttributeType.FLOATS, [0.5, 2]])
    expect(attr['mode']?.type).toBe(AttributeProto_AttributeType.STRING)
    expect(new TextDecoder().decode(attr['mode']?.s)).toBe('add')
    expect(attr['value']?.type).toBe(AttributeProto_AttributeType.TENSOR)
    expect(attr['value']?.t?.dataType).toBe(TensorProto_DataType.INT64)
    expect(Array.from(new BigInt64Array(attr['value']!.t!.rawData.slice().buffer))).toEqual([3n, -4n])
  })

  it('refuses a node input that is not defined before use, naming the node', () => {
    const g = tinyGraph()
    expectInvalid(() => g.addNode({ opType: 'Add', inputs: ['x', 'later'], outputs: ['z'], name: 'bias' }), /Node 'bias' \(Add\): input 1 'later' is not defined before use/)
  })

  it('refuses duplicate value names across inputs, initializers and node outputs', () => {
    expectInvalid(() => tinyGraph().addInput('W', 'float32', [1]), /Graph input 'W': the name is already defined as initializer/)
    expectInvalid(() => tinyGraph().addInitializer('x', { elementType: 'bool', dims: [], data: Uint8Array.from([1]) }), /Initializer 'x': the name is already defined as graph input/)
    const g = tinyGraph()
    g.addNode({ opType: 'MatMul', inputs: ['x', 'W'], outputs: ['xW'], name: 'mm' })
    expectInvalid(() => g.addNode({ opType: 'Relu', inputs: ['xW'], outputs: ['xW'] }), /Node 'Relu_1' \(Relu\): output 'xW' is already defined as output of node 'mm'/)
    expectInvalid(() => g.addNode({ opType: 'Relu', inputs: ['xW'], outputs: ['r'], name: 'mm' }), /Node 'mm' \(Relu\): a node with this name already exists/)
    expectInvalid(() => g.addNode({ opType: 'Split', inputs: ['xW'], outputs: ['s', 's'] }), /output 's' is listed twice/)
  })

  it('refuses graph outputs that are undefined or declared twice, and a graph with no outputs', () => {
    const g = tinyGraph()
    expectInvalid(() => g.toModelBytes(), /has no outputs/)
    expectInvalid(() => g.addOutput('nope', 'float32', [1]), /Graph output 'nope' is not defined/)
    g.addOutput('x', 'float32', ['B', 3])
    expectInvalid(() => g.addOutput('x', 'float32', ['B', 3]), /Graph output 'x' is declared twice/)
  })

  it('refuses initializers whose data or length does not match their dims', () => {
    expectInvalid(
      () => new OnnxGraphBuilder().addInitializer('w', { elementType: 'float64', dims: [2, 2], data: new Float64Array(3) }),
      /Initializer 'w': 3 values for dims \[2, 2\] \(4 expected\)/,
    )
    expectInvalid(
      () => new OnnxGraphBuilder().addExternalInitializer('w', { elementType: 'int32', dims: [5], location: 'a.data', offsetBytes: 0, lengthBytes: 16 }),
      /External initializer 'w': length 16 bytes, but int32 \[5\] is 20 bytes/,
    )
    expectInvalid(() => new OnnxGraphBuilder().addInput('x', 'float32', [1.5]), /bad dim 1.5/)
    expectInvalid(
      () => new OnnxGraphBuilder().addInput('x', 'float32', [1]).addNode({ opType: 'Relu', inputs: ['x'], outputs: ['y'], attributes: { n: { int: 0.5 } } }),
      /attribute 'n': 0.5 is not an integer/,
    )
  })
})
