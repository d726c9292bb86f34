import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf'
import {
  AttributeProto_AttributeType,
  type AttributeProtoSchema,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  TensorProto_DataLocation,
  type TensorProto,
  TensorProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from 'onnx-buf'
import { LecternError } from '../../../shared/errors.js'
import { elementCount, ONNX_ELEMENT_TYPES, type OnnxElementType, type OnnxTypedArrays } from './onnxElementTypes.js'

/** A static size, or a symbolic name (`'B'`, `'T'`) that ORT binds at run time. */
export type OnnxDim = number | string

/** A constant tensor held in the proto (`raw_data`): small constants only, the proto is capped at 2 GB. */
export type OnnxInlineTensor = {
  [K in OnnxElementType]: { elementType: K; dims: readonly number[]; data: OnnxTypedArrays[K] }
}[OnnxElementType]

/** An initializer whose bytes live in an external data file (see `ExternalDataLayout`). */
export interface OnnxExternalTensor {
  elementType: OnnxElementType
  dims: readonly number[]
  /** Relative to the model file's folder. */
  location: string
  offsetBytes: number
  lengthBytes: number
}

/** Attribute values are tagged, so an int is never written as a float by accident: `{ axis: { int: -1 } }`. */
export type OnnxAttribute =
  | { int: number | bigint }
  | { float: number }
  | { ints: readonly (number | bigint)[] }
  | { floats: readonly number[] }
  | { string: string }
  | { tensor: OnnxInlineTensor }

export interface OnnxNodeSpec {
  opType: string
  /** `''` is the ONNX domain; e.g. `'com.microsoft'` for contrib ops. Defaults to `''`. */
  domain?: string
  /** Value names; `''` marks an omitted optional input. */
  inputs: readonly string[]
  outputs: readonly string[]
  attributes?: Record<string, OnnxAttribute>
  /** Unique node name, used in errors. Defaults to `<opType>_<index>`. */
  name?: string
}

export interface ToModelBytesOptions {
  /** Opset of the ONNX domain. Defaults to `21` (the opset measured with ORT 1.30 in specs/onnxruntime-node.md). */
  opset?: number
  /** Opsets of other domains used by nodes. Defaults to `1` for any domain not listed (com.microsoft is 1). */
  domainOpsets?: Record<string, number>
  /** Defaults to `'lectern'`. */
  producerName?: string
  /** Defaults to the IR version ONNX pairs with `opset` (10 up to opset 22, 11 for 23, 12 for 24, 13 from 25). */
  irVersion?: number
}

type ValueOrigin = 'graph input' | 'initializer' | `output of node '${string}'`

/**
 * Builds one ONNX graph and encodes it as a ModelProto. It checks as it goes, so errors name the node at fault:
 * every value name is defined once (graph inputs, initializers and node outputs share one namespace), every
 * node input is defined before the node (the node list is in topological order by construction), and graph
 * outputs are defined and unique.
 */
export class OnnxGraphBuilder {
  private readonly defined = new Map<string, ValueOrigin>()
  private readonly inputs: ValueInfoProto[] = []
  private readonly outputs: ValueInfoProto[] = []
  private readonly outputNames = new Set<string>()
  private readonly initializers: TensorProto[] = []
  private readonly nodes: NodeProto[] = []
  private readonly nodeNames = new Set<string>()
  private readonly domains = new Set<string>()

  constructor(private readonly graphName = 'lectern') {}

  /** Declares a graph input (fed at run time). */
  addInput(name: string, elementType: OnnxElementType, dims: readonly OnnxDim[]): this {
    this.define(name, 'graph input', `Graph input '${name}'`)
    this.inputs.push(valueInfo(name, elementType, dims))
    return this
  }

  /** A constant held in the proto. */
  addInitializer(name: string, tensor: OnnxInlineTensor): this {
    const what = `Initializer '${name}'`
    checkStaticDims(what, tensor.dims)
    if (tensor.data.length !== elementCount(tensor.dims)) {
      throw new LecternError('invalid_argument', `${what}: ${tensor.data.length} values for dims [${tensor.dims.join(', ')}] (${elementCount(tensor.dims)} expected)`)
    }
    this.define(name, 'initializer', what)
    this.initializers.push(inlineTensorProto(name, tensor))
    return this
  }

  /** An initializer whose bytes sit in an external data file; the proto holds only where. */
  addExternalInitializer(name: string, tensor: OnnxExternalTensor): this {
    const what = `External initializer '${name}'`
    checkStaticDims(what, tensor.dims)
    const expected = elementCount(tensor.dims) * ONNX_ELEMENT_TYPES[tensor.elementType].bytesPerElement
    if (tensor.lengthBytes !== expected) {
      throw new LecternError('invalid_argument', `${what}: length ${tensor.lengthBytes} bytes, but ${tensor.elementType} [${tensor.dims.join(', ')}] is ${expected} bytes`)
    }
    if (!Number.isSafeInteger(tensor.offsetBytes) || tensor.offsetBytes < 0) throw new LecternError('invalid_argument', `${what}: bad offset ${tensor.offsetBytes}`)
    if (tensor.location === '') throw new LecternError('invalid_argument', `${what}: empty location`)
    this.define(name, 'initializer', what)
    this.initializers.push(
      create(TensorProtoSchema, {
        name,
        dataType: ONNX_ELEMENT_TYPES[tensor.elementType].dataType,
        dims: tensor.dims.map(BigInt),
        dataLocation: TensorProto_DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: tensor.location },
          { key: 'offset', value: String(tensor.offsetBytes) },
          { key: 'length', value: String(tensor.lengthBytes) },
        ],
      }),
    )
    return this
  }

  /** Appends a node; its inputs must already be defined. Returns the node's name. */
  addNode(spec: OnnxNodeSpec): string {
    const name = spec.name ?? `${spec.opType}_${this.nodes.length}`
    const what = `Node '${name}' (${spec.opType})`
    if (this.nodeNames.has(name)) throw new LecternError('invalid_argument', `${what}: a node with this name already exists`)
    spec.inputs.forEach((input, i) => {
      if (input !== '' && !this.defined.has(input)) {
        throw new LecternError('invalid_argument', `${what}: input ${i} '${input}' is not defined before use (no graph input, initializer or earlier node output has that name)`)
      }
    })
    if (spec.outputs.length === 0) throw new LecternError('invalid_argument', `${what}: has no outputs`)
    const seen = new Set<string>()
    spec.outputs.forEach((output, i) => {
      if (output === '') throw new LecternError('invalid_argument', `${what}: output ${i} has an empty name`)
      if (seen.has(output)) throw new LecternError('invalid_argument', `${what}: output '${output}' is listed twice`)
      seen.add(output)
      const previous = this.defined.get(output)
      if (previous !== undefined) throw new LecternError('invalid_argument', `${what}: output '${output}' is already defined as ${previous}`)
    })
    for (const output of spec.outputs) this.defined.set(output, `output of node '${name}'`)
    this.nodeNames.add(name)
    const domain = spec.domain ?? ''
    if (domain !== '') this.domains.add(domain)
    this.nodes.push(
      create(NodeProtoSchema, {
        name,
        opType: spec.opType,
        domain,
        input: [...spec.inputs],
        output: [...spec.outputs],
        attribute: Object.entries(spec.attributes ?? {}).map(([key, value]) => attributeProto(key, value, what)),
      }),
    )
    return name
  }

  /** Declares a graph output; the value must already be defined. */
  addOutput(name: string, elementType: OnnxElementType, dims: readonly OnnxDim[]): this {
    if (this.outputNames.has(name)) throw new LecternError('invalid_argument', `Graph output '${name}' is declared twice`)
    if (!this.defined.has(name)) throw new LecternError('invalid_argument', `Graph output '${name}' is not defined by any graph input, initializer or node`)
    this.outputNames.add(name)
    this.outputs.push(valueInfo(name, elementType, dims))
    return this
  }

  /** Encodes the ModelProto. */
  toModelBytes({ opset = 21, domainOpsets = {}, producerName = 'lectern', irVersion = irVersionFor(opset) }: ToModelBytesOptions = {}): Uint8Array {
    if (this.outputs.length === 0) throw new LecternError('invalid_argument', `ONNX graph '${this.graphName}' has no outputs`)
    const opsetImport: MessageInitShape<typeof ModelProtoSchema>['opsetImport'] = [{ domain: '', version: BigInt(opset) }]
    for (const domain of [...this.domains].sort()) opsetImport.push({ domain, version: BigInt(domainOpsets[domain] ?? 1) })
    const model = create(ModelProtoSchema, {
      irVersion: BigInt(irVersion),
      producerName,
      opsetImport,
      graph: { name: this.graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    })
    return toBinary(ModelProtoSchema, model)
  }

  private define(name: string, origin: ValueOrigin, what: string): void {
    if (name === '') throw new LecternError('invalid_argument', `${what}: empty name`)
    const previous = this.defined.get(name)
    if (previous !== undefined) throw new LecternError('invalid_argument', `${what}: the name is already defined as ${previous}`)
    this.defined.set(name, origin)
  }
}

/** ONNX's own pairing of opset and IR version (onnx/helper.py VERSION_TABLE). */
function irVersionFor(opset: number): number {
  if (opset <= 22) return 10
  if (opset === 23) return 11
  if (opset === 24) return 12
  return 13
}

function checkStaticDims(what: string, dims: readonly number[]): void {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new LecternError('invalid_argument', `${what}: bad dim ${d} in [${dims.join(', ')}]`)
  }
}

function valueInfo(name: string, elementType: OnnxElementType, dims: readonly OnnxDim[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType: ONNX_ELEMENT_TYPES[elementType].dataType,
          shape: {
            dim: dims.map((d) => {
              if (typeof d === 'string') {
                if (d === '') throw new LecternError('invalid_argument', `Value '${name}': empty symbolic dim`)
                return { value: { case: 'dimParam' as const, value: d } }
              }
              if (!Number.isSafeInteger(d) || d < 0) throw new LecternError('invalid_argument', `Value '${name}': bad dim ${d} in [${dims.join(', ')}]`)
              return { value: { case: 'dimValue' as const, value: BigInt(d) } }
            }),
          },
        },
      },
    },
  })
}

/** `raw_data` is the elements' little-endian bytes; typed arrays are little-endian on every platform ORT ships for. */
function inlineTensorProto(name: string, tensor: OnnxInlineTensor): TensorProto {
  const { data } = tensor
  return create(TensorProtoSchema, {
    name,
    dataType: ONNX_ELEMENT_TYPES[tensor.elementType].dataType,
    dims: tensor.dims.map(BigInt),
    rawData: Uint8Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
  })
}

function attributeProto(name: string, value: OnnxAttribute, what: string): MessageInitShape<typeof AttributeProtoSchema> {
  if ('int' in value) return { name, type: AttributeProto_AttributeType.INT, i: toInt64(value.int, `${what} attribute '${name}'`) }
  if ('float' in value) return { name, type: AttributeProto_AttributeType.FLOAT, f: value.float }
  if ('ints' in value) return { name, type: AttributeProto_AttributeType.INTS, ints: value.ints.map((v) => toInt64(v, `${what} attribute '${name}'`)) }
  if ('floats' in value) return { name, type: AttributeProto_AttributeType.FLOATS, floats: [...value.floats] }
  if ('string' in value) return { name, type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(value.string) }
  const t = value.tensor
  if (t.data.length !== elementCount(t.dims)) {
    throw new LecternError('invalid_argument', `${what} attribute '${name}': ${t.data.length} values for dims [${t.dims.join(', ')}]`)
  }
  return { name, type: AttributeProto_AttributeType.TENSOR, t: inlineTensorProto('', t) }
}

function toInt64(v: number | bigint, what: string): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new LecternError('invalid_argument', `${what}: ${v} is not an integer`)
  return BigInt(v)
}
