import { LecternError } from '../../shared/errors.js'
import type { Graph } from './Graph.js'
import { OnnxGraphBuilder, type OnnxExternalTensor } from './onnx/OnnxGraphBuilder.js'
import { OPS } from './ops.js'
import type { EmitContext, OpAttrs, OpDef, TensorRef } from './types.js'

export interface LowerOptions {
  /** Element type of every float value. Defaults to `float32`. */
  elementType?: 'float32' | 'float64'
  opset?: number
  /**
   * Graph inputs that are not fed at run time but read from an external data file (frozen base weights): by
   * input name, where their bytes are. ORT memory-maps them when the model is loaded by path.
   */
  externalInitializers?: ReadonlyMap<string, OnnxExternalTensor>
}

/**
 * Lowers a graph to an ONNX model: its inputs become graph inputs, constants inline initializers, every node
 * its op's `emit`. Only what `outputs` need is emitted; ORT prunes nothing for us at level basic.
 */
export function lowerToOnnx(graph: Graph, outputs: Record<string, TensorRef>, options: LowerOptions = {}): Uint8Array {
  const { elementType = 'float32', opset = 21, externalInitializers = new Map<string, OnnxExternalTensor>() } = options
  const builder = new OnnxGraphBuilder()
  const needed = neededIds(graph, Object.values(outputs))
  const names = new Map<number, string>()
  const nameOf = (t: TensorRef): string => names.get(t.id) ?? `t${t.id}`
  let int64Count = 0
  const typeOf = (t: TensorRef): 'float32' | 'float64' | 'int64' => (t.dtype === 'int64' ? 'int64' : elementType)
  const context: EmitContext = {
    builder,
    floatType: elementType,
    int64Constant: (values) => {
      const name = `i64_${int64Count++}`
      builder.addInitializer(name, { elementType: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) })
      return name
    },
  }
  for (const input of graph.inputs) {
    names.set(input.id, input.name)
    const external = externalInitializers.get(input.name)
    if (!external) builder.addInput(input.name, typeOf(input), input.shape)
    else if (needed.has(input.id)) builder.addExternalInitializer(input.name, checkedExternal(input, external, typeOf(input)))
  }
  for (const name of externalInitializers.keys()) {
    if (!graph.inputs.some((input) => input.name === name)) throw new LecternError('invalid_argument', `External initializer '${name}' is not a graph input`)
  }
  for (const { tensor, values } of graph.constants) {
    if (!needed.has(tensor.id)) continue
    const dims = tensor.shape
    builder.addInitializer(
      nameOf(tensor),
      tensor.dtype === 'int64'
        ? { elementType: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(v)) }
        : elementType === 'float64'
          ? { elementType, dims, data: values }
          : { elementType, dims, data: Float32Array.from(values) },
    )
  }
  for (const node of graph.nodes) {
    if (!needed.has(node.output.id)) continue
    const def = OPS[node.op] as unknown as OpDef<OpAttrs[typeof node.op]>
    def.emit(context, node.inputs.map(nameOf), nameOf(node.output), node.attrs, node.inputs.map((t) => t.shape))
  }
  for (const [name, tensor] of Object.entries(outputs)) {
    builder.addNode({ opType: 'Identity', inputs: [nameOf(tensor)], outputs: [name] })
    builder.addOutput(name, typeOf(tensor), tensor.shape)
  }
  return builder.toModelBytes({ opset })
}

function checkedExternal(input: TensorRef, external: OnnxExternalTensor, elementType: string): OnnxExternalTensor {
  const sameDims = external.dims.length === input.shape.length && external.dims.every((d, i) => d === input.shape[i])
  if (!sameDims || external.elementType !== elementType) {
    throw new LecternError(
      'invalid_argument',
      `External initializer '${input.name}' is ${external.elementType} [${external.dims.join(', ')}], the graph wants ${elementType} [${input.shape.join(', ')}]`,
    )
  }
  return external
}

/** Ids of every tensor the outputs depend on: what lowering emits, and what cost estimates count. */
export function neededIds(graph: Graph, outputs: readonly TensorRef[]): Set<number> {
  const needed = new Set(outputs.map((t) => t.id))
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i]!
    if (needed.has(node.output.id)) for (const input of node.inputs) needed.add(input.id)
  }
  return needed
}
