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

/**
 * σ(x) written with e = exp(−|x|) ≤ 1, so nothing overflows: 1/(1 + e) where x ≥ 0, e/(1 + e) where x < 0.
 * The direct 1/(1 + exp(−x)) is fine forward, but below x ≈ −88 (float32) exp(−x) is ∞ and its backward
 * computes 0·∞ = NaN, which poisons every gradient of a training step.
 */
export function sigmoid(g: Graph, x: TensorRef): TensorRef {
  const e = g.exp(g.neg(g.maximum(x, g.neg(x))))
  const positive = g.greaterOrEqual(x, scalar(g, 0))
  return g.div(g.add(positive, g.mul(g.sub(scalar(g, 1), positive), e)), g.add(scalar(g, 1), e))
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
 * Each row's negative log-likelihood of its target: logits (N, V), `flatTargets` int64 (N) holding n·V + the
 * target id of row n (see `flatTargetIndices`), so one gather over the flattened log-probabilities picks them
 * and no dense one-hot (N, V) input is needed. Returns (N).
 */
export function targetNll(g: Graph, logits: TensorRef, flatTargets: TensorRef): TensorRef {
  const [rows, vocab] = logits.shape as [number, number]
  const picked = g.gather(g.reshape(logSoftmax(g, logits), [rows * vocab, 1]), flatTargets) // (N, 1)
  return g.neg(g.reshape(picked, [rows]))
}

/** Row n's target t as the flat index n·vocab + t that `targetNll` gathers. */
export function flatTargetIndices(targets: ArrayLike<number>, vocab: number): BigInt64Array {
  return BigInt64Array.from({ length: targets.length }, (_, n) => BigInt(n * vocab + targets[n]!))
}

/**
 * Weighted mean cross-entropy. logits (N, V), flat targets int64 (N) as `targetNll` takes them, weights (N):
 * 1 for tokens that count, 0 for the rest (prompt tokens of instruction data, padding).
 */
export function crossEntropy(g: Graph, logits: TensorRef, flatTargets: TensorRef, weights: TensorRef): TensorRef {
  const total = g.reduceSum(g.mul(targetNll(g, logits, flatTargets), weights), [0])
  return g.div(total, g.reduceSum(weights, [0]))
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
