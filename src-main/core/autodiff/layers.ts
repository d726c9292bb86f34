import type { Graph } from './Graph.js'
import type { TensorRef } from './types.js'

/**
 * Composite layers, built from the op table's primitives only: they have no VJP of their own, the engine
 * differentiates what they are made of. Shapes use B (batch), T (tokens), C (width), V (vocabulary), D (head
 * width).
 */

function scalar(g: Graph, value: number): TensorRef {
  return g.constant([value], [])
}

const lastAxis = (x: TensorRef): number => x.shape.length - 1

export function sigmoid(g: Graph, x: TensorRef): TensorRef {
  return g.div(scalar(g, 1), g.add(scalar(g, 1), g.exp(g.neg(x))))
}

/** SiLU (swish): x·σ(x), the gate activation of SwiGLU. */
export function silu(g: Graph, x: TensorRef): TensorRef {
  return g.mul(x, sigmoid(g, x))
}

/** RMSNorm over the last axis: x / √(mean(x²) + ε) · weight. x (…, C), weight (C). */
export function rmsNorm(g: Graph, x: TensorRef, weight: TensorRef, eps: number): TensorRef {
  const width = x.shape[lastAxis(x)]!
  const meanSquare = g.mul(g.reduceSum(g.mul(x, x), [lastAxis(x)], true), scalar(g, 1 / width))
  return g.mul(g.div(x, g.sqrt(g.add(meanSquare, scalar(g, eps)))), weight)
}

/** x minus its (detached) maximum along the last axis: softmax is unchanged, exp cannot overflow. */
function shiftByMax(g: Graph, x: TensorRef): TensorRef {
  return g.sub(x, g.stopGradient(g.reduceMax(x, [lastAxis(x)], true)))
}

export function softmax(g: Graph, x: TensorRef): TensorRef {
  const e = g.exp(shiftByMax(g, x))
  return g.div(e, g.reduceSum(e, [lastAxis(x)], true))
}

export function logSoftmax(g: Graph, x: TensorRef): TensorRef {
  const shifted = shiftByMax(g, x)
  return g.sub(shifted, g.log(g.reduceSum(g.exp(shifted), [lastAxis(x)], true)))
}

/**
 * Weighted mean cross-entropy. logits (N, V), targets one-hot (N, V), weights (N): 1 for tokens that count,
 * 0 for the rest (prompt tokens of instruction data, padding).
 */
export function crossEntropy(g: Graph, logits: TensorRef, targetsOneHot: TensorRef, weights: TensorRef): TensorRef {
  const logProbabilities = g.reduceSum(g.mul(logSoftmax(g, logits), targetsOneHot), [1]) // (N)
  const total = g.reduceSum(g.mul(logProbabilities, weights), [0])
  return g.neg(g.div(total, g.reduceSum(weights, [0])))
}

/**
 * Rotary position embedding, NeoX / Hugging Face layout: the pair (i, i + D/2) of each head turns by the
 * angle whose cos and sin are given. x (…, T, D), cos and sin (T, D/2). llama.cpp's `llama` rotates adjacent
 * pairs instead, on q/k rows permuted at conversion (architectures.ts), which is the same computation.
 */
export function ropeNeox(g: Graph, x: TensorRef, cos: TensorRef, sin: TensorRef): TensorRef {
  const axis = lastAxis(x)
  const half = x.shape[axis]! / 2
  const first = g.slice(x, axis, 0, half)
  const second = g.slice(x, axis, half, 2 * half)
  return g.concat([g.sub(g.mul(first, cos), g.mul(second, sin)), g.add(g.mul(second, cos), g.mul(first, sin))], axis)
}
