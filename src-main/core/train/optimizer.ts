import { LecternError } from '../../shared/errors.js'
import { Graph } from '../autodiff/Graph.js'
import type { TensorRef } from '../autodiff/types.js'

/**
 * The optimizer step as a graph (specs/onnxruntime-node.md, "The probe": AdamW as ~15 elementwise nodes per
 * parameter, bias corrections fed as scalars), run by ORT like every other graph:
 *
 *   g ← grad · gradScale                                  (accumulation: gradScale = 1 / total weighted tokens)
 *   norm = √(Σ_params Σ g²);  g ← g · maxNorm / max(norm + 1e-6, maxNorm)
 *                                                         (torch.nn.utils.clip_grad_norm_; skipped for maxNorm 0)
 *   p ← p · (1 − lr·wd)                                   (torch.optim.AdamW, decoupled weight decay)
 *   m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / bc1) · m / (√v / √bc2 + eps)            bc1 = 1 − β1^t, bc2 = 1 − β2^t, t = 1 on the first step
 *
 * The last line is torch's own grouping of p − lr·(m/bc1) / (√(v/bc2) + eps): two scalar divisions instead of
 * two elementwise ones. Floats take the element type chosen at lowering (float64 for checks, float32 to train).
 */

/** AdamW and clipping settings. `DEFAULT_ADAMW` holds the Hugging Face Trainer's defaults. */
export interface AdamWSettings {
  /** Decay of the first moment. HF default `0.9`. */
  beta1: number
  /** Decay of the second moment. HF default `0.999`. */
  beta2: number
  /** Added to √v̂ in the denominator. HF default `1e-8`. */
  eps: number
  /** Decoupled weight decay, applied as p·(1 − lr·wd) before the update. HF default `0`. */
  weightDecay: number
  /** Global-norm gradient clipping threshold; `0` or absent: no clipping (the norm is still output). HF default `1`. */
  maxGradNorm?: number
}

/** The Hugging Face Trainer's defaults (adam_beta1, adam_beta2, adam_epsilon, weight_decay, max_grad_norm). */
export const DEFAULT_ADAMW: Readonly<Required<AdamWSettings>> = Object.freeze({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 })

/** clip_grad_norm_'s guard against a zero norm. */
const CLIP_EPS = 1e-6

/**
 * Input and output names of the optimizer graph, so that no caller spells them. Per-parameter names carry the
 * parameter's name after a `role:` prefix (any characters are fine in ONNX value names); the prefix keeps
 * them apart from the generated names (`t12`, `const_3`, `i64_0`).
 *
 * Inputs: `param:<name>`, `grad:<name>`, `m:<name>` (firstMoment), `v:<name>` (secondMoment), each in the
 * parameter's shape, and the scalars `lr`, `biasCorrection1`, `biasCorrection2`, `gradScale`.
 * Outputs: `newParam:<name>`, `newM:<name>` (newFirstMoment), `newV:<name>` (newSecondMoment), and the scalar
 * `gradNorm`: the global norm of the scaled gradients before clipping, as clip_grad_norm_ returns it.
 */
export const OPTIMIZER_GRAPH = {
  param: (name: string): string => `param:${name}`,
  grad: (name: string): string => `grad:${name}`,
  firstMoment: (name: string): string => `m:${name}`,
  secondMoment: (name: string): string => `v:${name}`,
  newParam: (name: string): string => `newParam:${name}`,
  newFirstMoment: (name: string): string => `newM:${name}`,
  newSecondMoment: (name: string): string => `newV:${name}`,
  lr: 'lr',
  biasCorrection1: 'biasCorrection1',
  biasCorrection2: 'biasCorrection2',
  gradScale: 'gradScale',
  gradNorm: 'gradNorm',
} as const

/** A trainable parameter as the optimizer sees it. */
export interface OptimizerParam {
  name: string
  shape: readonly number[]
}

/** The optimizer's graph inputs by role: scalars, and per parameter (by name) its value, gradient and moments. */
export interface OptimizerInputs {
  lr: TensorRef
  biasCorrection1: TensorRef
  biasCorrection2: TensorRef
  gradScale: TensorRef
  params: Record<string, { param: TensorRef; grad: TensorRef; firstMoment: TensorRef; secondMoment: TensorRef }>
}

export interface OptimizerGraph {
  graph: Graph
  inputs: OptimizerInputs
  /** Keyed by their `OPTIMIZER_GRAPH` output names: pass to `lowerToOnnx` as they are. */
  outputs: Record<string, TensorRef>
}

/** The AdamW bias corrections 1 − β^t for optimizer step `step` (1-based, as torch counts: 1 on the first update). */
export function biasCorrections(step: number, beta1: number, beta2: number): { biasCorrection1: number; biasCorrection2: number } {
  if (!Number.isInteger(step) || step < 1) throw new LecternError('invalid_argument', `AdamW step must be an integer ≥ 1 (torch counts from 1), got ${step}`)
  return { biasCorrection1: 1 - Math.pow(beta1, step), biasCorrection2: 1 - Math.pow(beta2, step) }
}

/**
 * A graph of one optimizer step over `params`: inputs and outputs named by `OPTIMIZER_GRAPH`. Feed `lr` from the
 * schedule, the bias corrections from `biasCorrections(step, …)` and `gradScale` (1 without accumulation);
 * feed the new params and moments back on the next step (moments start at zero).
 */
export function buildOptimizerGraph(params: readonly OptimizerParam[], settings: AdamWSettings): OptimizerGraph {
  checkNames(params.map((p) => p.name))
  const graph = new Graph()
  const tensors = params.map(({ name, shape }) => ({ name, param: graph.input(OPTIMIZER_GRAPH.param(name), shape), grad: graph.input(OPTIMIZER_GRAPH.grad(name), shape) }))
  return { graph, ...appendOptimizerStep(graph, tensors, settings) }
}

/**
 * Appends the optimizer step to an existing graph whose params and gradients are already there (a fused
 * train step: forward, backward and update in one run). Adds the moment and scalar inputs, named as in
 * `buildOptimizerGraph`.
 */
export function appendOptimizerStep(
  graph: Graph,
  params: readonly { name: string; param: TensorRef; grad: TensorRef }[],
  settings: AdamWSettings,
): Omit<OptimizerGraph, 'graph'> {
  const { beta1, beta2, eps, weightDecay, maxGradNorm = 0 } = checkSettings(settings)
  checkNames(params.map((p) => p.name))
  for (const { name, param, grad } of params) {
    if (param.dtype !== 'float' || grad.dtype !== 'float') throw new LecternError('invalid_argument', `optimizer parameter ${name}: params and gradients must be float tensors`)
    if (!sameShape(param.shape, grad.shape)) throw new LecternError('invalid_argument', `optimizer parameter ${name}: gradient shape [${grad.shape.join(', ')}] differs from the parameter's [${param.shape.join(', ')}]`)
  }
  const scalar = (value: number): TensorRef => graph.constant([value], [])
  const lr = graph.input(OPTIMIZER_GRAPH.lr, [])
  const biasCorrection1 = graph.input(OPTIMIZER_GRAPH.biasCorrection1, [])
  const biasCorrection2 = graph.input(OPTIMIZER_GRAPH.biasCorrection2, [])
  const gradScale = graph.input(OPTIMIZER_GRAPH.gradScale, [])
  const inputs: OptimizerInputs = { lr, biasCorrection1, biasCorrection2, gradScale, params: {} }
  const outputs: Record<string, TensorRef> = {}

  // Clipping: one global norm over every parameter's scaled gradient.
  const scaled = params.map(({ grad }) => graph.mul(grad, gradScale))
  const squareSums = scaled.map((g) => {
    const squares = graph.mul(g, g)
    return g.shape.length === 0 ? squares : graph.reduceSum(squares, g.shape.map((_, i) => i))
  })
  const gradNorm = graph.sqrt(squareSums.reduce((sum, s) => graph.add(sum, s)))
  outputs[OPTIMIZER_GRAPH.gradNorm] = gradNorm
  // min(1, maxNorm / (norm + 1e-6)), as a division that is exactly 1 when the norm is below the threshold.
  const clipCoefficient = maxGradNorm > 0 ? graph.div(scalar(maxGradNorm), graph.maximum(graph.add(gradNorm, scalar(CLIP_EPS)), scalar(maxGradNorm))) : undefined
  const clipped = clipCoefficient ? scaled.map((g) => graph.mul(g, clipCoefficient)) : scaled

  // AdamW's per-step scalars.
  const stepSize = graph.div(lr, biasCorrection1)
  const biasCorrection2Sqrt = graph.sqrt(biasCorrection2)
  const decay = weightDecay > 0 ? graph.sub(scalar(1), graph.mul(lr, scalar(weightDecay))) : undefined
  params.forEach(({ name, param, grad }, i) => {
    const g = clipped[i]!
    const m = graph.input(OPTIMIZER_GRAPH.firstMoment(name), param.shape)
    const v = graph.input(OPTIMIZER_GRAPH.secondMoment(name), param.shape)
    inputs.params[name] = { param, grad, firstMoment: m, secondMoment: v }
    const decayed = decay ? graph.mul(param, decay) : param
    const newM = graph.add(graph.mul(m, scalar(beta1)), graph.mul(g, scalar(1 - beta1)))
    const newV = graph.add(graph.mul(v, scalar(beta2)), graph.mul(graph.mul(g, g), scalar(1 - beta2)))
    const denominator = graph.add(graph.div(graph.sqrt(newV), biasCorrection2Sqrt), scalar(eps))
    outputs[OPTIMIZER_GRAPH.newParam(name)] = graph.sub(decayed, graph.mul(graph.div(newM, denominator), stepSize))
    outputs[OPTIMIZER_GRAPH.newFirstMoment(name)] = newM
    outputs[OPTIMIZER_GRAPH.newSecondMoment(name)] = newV
  })
  return { inputs, outputs }
}

function checkSettings(settings: AdamWSettings): AdamWSettings {
  const { beta1, beta2, eps, weightDecay, maxGradNorm = 0 } = settings
  const problems = [
    beta1 >= 0 && beta1 < 1 ? '' : `beta1 must be in [0, 1), got ${beta1}`,
    beta2 >= 0 && beta2 < 1 ? '' : `beta2 must be in [0, 1), got ${beta2}`,
    eps > 0 && Number.isFinite(eps) ? '' : `eps must be finite and > 0, got ${eps}`,
    weightDecay >= 0 && Number.isFinite(weightDecay) ? '' : `weightDecay must be finite and ≥ 0, got ${weightDecay}`,
    maxGradNorm >= 0 && Number.isFinite(maxGradNorm) ? '' : `maxGradNorm must be finite and ≥ 0 (0: no clipping), got ${maxGradNorm}`,
  ].filter(Boolean)
  if (problems.length > 0) throw new LecternError('invalid_argument', `AdamW settings: ${problems.join('; ')}`)
  return settings
}

function checkNames(names: readonly string[]): void {
  if (names.length === 0) throw new LecternError('invalid_argument', 'the optimizer needs at least one parameter')
  const seen = new Set<string>()
  for (const name of names) {
    if (name === '') throw new LecternError('invalid_argument', 'optimizer parameter names must not be empty')
    if (seen.has(name)) throw new LecternError('invalid_argument', `optimizer parameter ${name} is listed twice`)
    seen.add(name)
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}
