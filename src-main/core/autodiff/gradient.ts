import { LecternError } from '../../shared/errors.js'
import type { Graph } from './Graph.js'
import { OPS } from './ops.js'
import type { OpAttrs, OpDef, TensorRef } from './types.js'

/**
 * Reverse-mode gradients of a scalar `loss` with respect to `wrt`, appended to the same graph as ordinary ops.
 * The engine does the bookkeeping once, so no op has to: only nodes on a path from `wrt` to `loss` get
 * gradients; gradients of a value used several times are summed; a gradient in a broadcast shape is summed
 * back to its input's shape; each VJP must return one entry per input. A `wrt` that does not reach the loss
 * gets zeros.
 */
export function gradients(graph: Graph, loss: TensorRef, wrt: readonly TensorRef[]): TensorRef[] {
  if (loss.shape.length !== 0) throw new LecternError('invalid_argument', `the loss must be a scalar, not [${loss.shape.join(', ')}]`)
  const tape = [...graph.nodes]
  const notFloat = wrt.find((t) => t.dtype !== 'float')
  if (notFloat) throw new LecternError('invalid_argument', `${notFloat.name} is int64 and has no gradient`)
  const dependsOnWrt = new Set(wrt.map((t) => t.id))
  for (const node of tape) if (node.inputs.some((t) => dependsOnWrt.has(t.id))) dependsOnWrt.add(node.output.id)
  const grads = new Map<number, TensorRef>([[loss.id, graph.constant([1], [])]])

  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!
    const gradOut = grads.get(node.output.id)
    if (!gradOut || !dependsOnWrt.has(node.output.id)) continue
    const def = OPS[node.op] as unknown as OpDef<OpAttrs[typeof node.op]>
    const inputGrads = def.vjp(graph, gradOut, node.inputs, node.output, node.attrs)
    if (inputGrads.length !== node.inputs.length) {
      throw new LecternError('internal', `VJP of ${node.op} returned ${inputGrads.length} gradients for ${node.inputs.length} inputs`)
    }
    node.inputs.forEach((input, k) => {
      const grad = inputGrads[k]
      if (!grad || !dependsOnWrt.has(input.id)) return
      const shaped = sumToShape(graph, grad, input.shape)
      const earlier = grads.get(input.id)
      grads.set(input.id, earlier ? graph.add(earlier, shaped) : shaped)
    })
  }
  return wrt.map((t) => grads.get(t.id) ?? graph.constant(new Float64Array(t.shape.reduce((a, b) => a * b, 1)), t.shape))
}

/** Sums a gradient over the axes broadcasting added, so it has `shape` again (NumPy rules, right-aligned). */
export function sumToShape(graph: Graph, grad: TensorRef, shape: readonly number[]): TensorRef {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad
  const offset = grad.shape.length - shape.length
  const axes = grad.shape.map((_, i) => i).filter((i) => i < offset || (shape[i - offset] === 1 && grad.shape[i] !== 1))
  const summed = axes.length > 0 ? graph.reduceSum(grad, axes, true) : grad
  return graph.reshape(summed, shape)
}
