import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { lowerToOnnx } from '../../../../src-main/core/autodiff/toOnnx.js'
import { type AdamWSettings, biasCorrections, buildOptimizerGraph, DEFAULT_ADAMW, OPTIMIZER_GRAPH, type OptimizerParam } from '../../../../src-main/core/train/optimizer.js'
import { learningRateAt, type LearningRateSchedule } from '../../../../src-main/core/train/schedule.js'

// Adapter-like parameters of several ranks, a scalar among them; names with dots, as HF names are.
const PARAMS: OptimizerParam[] = [
  { name: 'layers.0.self_attn.q_proj.lora_A', shape: [4, 3] },
  { name: 'layers.0.self_attn.q_proj.lora_B', shape: [3, 5] },
  { name: 'norm.bias', shape: [6] },
  { name: 'gate', shape: [] },
  { name: 'mora.M', shape: [2, 3, 2] },
]
const SCHEDULE: LearningRateSchedule = { kind: 'cosine', peak: 0.05, warmupSteps: 2, totalSteps: 8 }
const STEPS = 6

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)

function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
}

interface State {
  params: Float64Array[]
  m: Float64Array[]
  v: Float64Array[]
}

interface Scalars {
  lr: number
  biasCorrection1: number
  biasCorrection2: number
  gradScale: number
}

/**
 * Plain-JS AdamW with global-norm clipping, loop by loop as torch.nn.utils.clip_grad_norm_ and
 * torch.optim.AdamW (single-tensor path) state them, with the scalars as the graph receives them. Updates
 * `state` and returns the norm of the scaled gradients before clipping.
 */
function referenceStep(state: State, grads: Float64Array[], { lr, biasCorrection1: bc1, biasCorrection2: bc2, gradScale }: Scalars, settings: AdamWSettings): number {
  const { beta1, beta2, eps, weightDecay, maxGradNorm = 0 } = settings
  const scaled = grads.map((g) => g.map((x) => x * gradScale))
  let squareSum = 0
  for (const g of scaled) {
    let paramSum = 0
    for (const x of g) paramSum += x * x
    squareSum += paramSum
  }
  const norm = Math.sqrt(squareSum)
  const coefficient = maxGradNorm > 0 ? Math.min(1, maxGradNorm / (norm + 1e-6)) : 1
  scaled.forEach((g, k) => {
    const p = state.params[k]!
    const m = state.m[k]!
    const v = state.v[k]!
    for (let i = 0; i < g.length; i++) {
      const gi = g[i]! * coefficient
      p[i] = p[i]! * (1 - lr * weightDecay)
      m[i] = beta1 * m[i]! + (1 - beta1) * gi
      v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi
      p[i] = p[i]! - (lr / bc1) * (m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + eps))
    }
  })
  return norm
}

interface RunOptions {
  settings: AdamWSettings
  elementType: 'float32' | 'float64'
  /** Gradients are uniform in ±gradMagnitude, then multiplied by gradScale in the step. */
  gradMagnitude: number
  gradScale: number
}

interface RunResult {
  /** Worst over all steps and tensors of max|ORT − reference| (absolute) and of that over max|reference| (relative). */
  absolute: number
  relative: number
  gradNorms: { ort: number; reference: number }[]
  paramsMoved: number
}

/** Runs STEPS optimizer steps in ORT (state fed back from its own outputs) and in the reference, side by side. */
async function runSteps({ settings, elementType, gradMagnitude, gradScale }: RunOptions): Promise<RunResult> {
  const { graph, outputs } = buildOptimizerGraph(PARAMS, settings)
  const f32 = elementType === 'float32'
  // Inputs exactly representable in the ORT element type, so both sides start from the same numbers.
  const representable = (x: number): number => (f32 ? Math.fround(x) : x)
  const tensor = (data: ArrayLike<number>, shape: readonly number[]): ort.Tensor =>
    f32 ? new ort.Tensor('float32', Float32Array.from(data), [...shape]) : new ort.Tensor('float64', Float64Array.from(data), [...shape])
  const session = await ort.InferenceSession.create(lowerToOnnx(graph, outputs, { elementType }), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    // float64 needs 'basic': level 'all' may fuse into float-only kernels (specs/onnxruntime-node.md).
    graphOptimizationLevel: f32 ? 'all' : 'basic',
  })
  try {
    const random = seeded(7)
    const initial = PARAMS.map(({ shape }) => Float64Array.from({ length: size(shape) }, () => representable(2 * random() - 1)))
    const reference: State = { params: initial.map((p) => p.slice()), m: PARAMS.map(({ shape }) => new Float64Array(size(shape))), v: PARAMS.map(({ shape }) => new Float64Array(size(shape))) }
    let fed: Record<string, ort.Tensor> = {}
    PARAMS.forEach(({ name, shape }, k) => {
      fed[OPTIMIZER_GRAPH.param(name)] = tensor(initial[k]!, shape)
      fed[OPTIMIZER_GRAPH.firstMoment(name)] = tensor(new Float64Array(size(shape)), shape)
      fed[OPTIMIZER_GRAPH.secondMoment(name)] = tensor(new Float64Array(size(shape)), shape)
    })
    const result: RunResult = { absolute: 0, relative: 0, gradNorms: [], paramsMoved: 0 }
    for (let step = 1; step <= STEPS; step++) {
      const grads = PARAMS.map(({ shape }) => Float64Array.from({ length: size(shape) }, () => representable(gradMagnitude * (2 * random() - 1))))
      const lr = representable(learningRateAt(step - 1, SCHEDULE))
      const { biasCorrection1, biasCorrection2 } = biasCorrections(step, settings.beta1, settings.beta2)
      const scalars: Scalars = { lr, biasCorrection1: representable(biasCorrection1), biasCorrection2: representable(biasCorrection2), gradScale: representable(gradScale) }
      const feeds: Record<string, ort.Tensor> = {
        ...fed,
        [OPTIMIZER_GRAPH.lr]: tensor([scalars.lr], []),
        [OPTIMIZER_GRAPH.biasCorrection1]: tensor([scalars.biasCorrection1], []),
        [OPTIMIZER_GRAPH.biasCorrection2]: tensor([scalars.biasCorrection2], []),
        [OPTIMIZER_GRAPH.gradScale]: tensor([scalars.gradScale], []),
      }
      PARAMS.forEach(({ name, shape }, k) => (feeds[OPTIMIZER_GRAPH.grad(name)] = tensor(grads[k]!, shape)))
      const out = await session.run(feeds)
      // The reference takes the scalars as fed, so in float32 it differs from ORT by float32 arithmetic alone.
      const referenceNorm = referenceStep(reference, grads, scalars, settings)
      result.gradNorms.push({ ort: (out[OPTIMIZER_GRAPH.gradNorm]!.data as Float64Array | Float32Array)[0]!, reference: referenceNorm })

      fed = {}
      PARAMS.forEach(({ name }, k) => {
        const pairs: [string, Float64Array][] = [
          [OPTIMIZER_GRAPH.newParam(name), reference.params[k]!],
          [OPTIMIZER_GRAPH.newFirstMoment(name), reference.m[k]!],
          [OPTIMIZER_GRAPH.newSecondMoment(name), reference.v[k]!],
        ]
        for (const [outName, expected] of pairs) {
          const actual = out[outName]!
          expect(actual.dims, `${outName} shape`).toEqual(PARAMS[k]!.shape)
          const data = actual.data as Float64Array | Float32Array
          let worst = 0
          let scale = 0
          for (let i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(data[i]! - expected[i]!))
            scale = Math.max(scale, Math.abs(expected[i]!))
          }
          result.absolute = Math.max(result.absolute, worst)
          result.relative = Math.max(result.relative, worst / scale)
        }
        fed[OPTIMIZER_GRAPH.param(name)] = out[OPTIMIZER_GRAPH.newParam(name)]!
        fed[OPTIMIZER_GRAPH.firstMoment(name)] = out[OPTIMIZER_GRAPH.newFirstMoment(name)]!
        fed[OPTIMIZER_GRAPH.secondMoment(name)] = out[OPTIMIZER_GRAPH.newSecondMoment(name)]!
      })
    }
    PARAMS.forEach((_, k) => (result.paramsMoved = Math.max(result.paramsMoved, ...reference.params[k]!.map((p, i) => Math.abs(p - initial[k]![i]!)))))
    return result
  } finally {
    await session.release()
  }
}

const CLIPPING: AdamWSettings = { ...DEFAULT_ADAMW, weightDecay: 0.1, maxGradNorm: 1 }

describe('optimizer step graph (AdamW + global-norm clipping) vs a plain-JS reference', () => {
  it('float64: clipping triggers on every step, with weight decay and a gradient scale', async () => {
    // 46 gradient elements uniform in ±8, scaled by 1/8: a norm near √(46/3) ≈ 3.9, above maxGradNorm 1.
    const result = await runSteps({ settings: CLIPPING, elementType: 'float64', gradMagnitude: 8, gradScale: 1 / 8 })
    for (const { ort: n, reference } of result.gradNorms) {
      expect(n).toBeGreaterThan(CLIPPING.maxGradNorm! * 2)
      expect(Math.abs(n - reference)).toBeLessThanOrEqual(1e-12)
    }
    expect(result.paramsMoved).toBeGreaterThan(0.01)
    expect(result.absolute).toBeLessThanOrEqual(1e-12)
  })

  it('float64: clipping does not trigger below the threshold', async () => {
    const settings: AdamWSettings = { ...DEFAULT_ADAMW, weightDecay: 0.01, maxGradNorm: 10 }
    const result = await runSteps({ settings, elementType: 'float64', gradMagnitude: 1, gradScale: 1 / 3 })
    for (const { ort: n } of result.gradNorms) expect(n).toBeLessThan(settings.maxGradNorm!)
    expect(result.paramsMoved).toBeGreaterThan(0.01)
    expect(result.absolute).toBeLessThanOrEqual(1e-12)
  })

  it('float64: maxGradNorm 0 turns clipping off even for large gradients, and still reports the norm', async () => {
    const settings: AdamWSettings = { ...DEFAULT_ADAMW, maxGradNorm: 0 }
    const result = await runSteps({ settings, elementType: 'float64', gradMagnitude: 8, gradScale: 1 })
    for (const { ort: n, reference } of result.gradNorms) {
      expect(n).toBeGreaterThan(DEFAULT_ADAMW.maxGradNorm * 10)
      expect(Math.abs(n - reference)).toBeLessThanOrEqual(1e-12)
    }
    expect(result.absolute).toBeLessThanOrEqual(1e-12)
  })

  it('float32 at optimization level all stays close to the float64 reference', async () => {
    const result = await runSteps({ settings: CLIPPING, elementType: 'float32', gradMagnitude: 8, gradScale: 1 / 8 })
    for (const { ort: n, reference } of result.gradNorms) expect(Math.abs(n - reference) / reference).toBeLessThan(1e-6)
    expect(result.relative).toBeLessThan(1e-6)
  })
})

describe('optimizer graph interface', () => {
  it('has exactly the documented inputs and outputs', () => {
    const { graph, inputs, outputs } = buildOptimizerGraph(PARAMS, DEFAULT_ADAMW)
    const perParam = (roles: ((name: string) => string)[]): string[] => PARAMS.flatMap(({ name }) => roles.map((role) => role(name)))
    expect(new Set(graph.inputs.map((t) => t.name))).toEqual(
      new Set([...perParam([OPTIMIZER_GRAPH.param, OPTIMIZER_GRAPH.grad, OPTIMIZER_GRAPH.firstMoment, OPTIMIZER_GRAPH.secondMoment]), OPTIMIZER_GRAPH.lr, OPTIMIZER_GRAPH.biasCorrection1, OPTIMIZER_GRAPH.biasCorrection2, OPTIMIZER_GRAPH.gradScale]),
    )
    expect(new Set(Object.keys(outputs))).toEqual(new Set([...perParam([OPTIMIZER_GRAPH.newParam, OPTIMIZER_GRAPH.newFirstMoment, OPTIMIZER_GRAPH.newSecondMoment]), OPTIMIZER_GRAPH.gradNorm]))
    expect(inputs.params['mora.M']!.firstMoment.shape).toEqual([2, 3, 2])
    expect(inputs.lr.shape).toEqual([])
  })

  it('computes torch-style bias corrections from the 1-based step', () => {
    expect(biasCorrections(1, 0.9, 0.999)).toEqual({ biasCorrection1: 1 - 0.9, biasCorrection2: 1 - 0.999 })
    const { biasCorrection1, biasCorrection2 } = biasCorrections(10, 0.9, 0.999)
    expect(biasCorrection1).toBeCloseTo(1 - 0.3486784401, 12)
    expect(biasCorrection2).toBeCloseTo(1 - 0.990044880209748, 12)
    expect(() => biasCorrections(0, 0.9, 0.999)).toThrow(/integer ≥ 1/)
  })

  it('refuses settings and parameter lists it cannot run', () => {
    expect(() => buildOptimizerGraph(PARAMS, { ...DEFAULT_ADAMW, beta2: 1 })).toThrow(/beta2 must be in \[0, 1\), got 1/)
    expect(() => buildOptimizerGraph(PARAMS, { ...DEFAULT_ADAMW, eps: 0, maxGradNorm: -1 })).toThrow(/eps must be finite and > 0, got 0; maxGradNorm/)
    expect(() => buildOptimizerGraph([...PARAMS, { name: 'gate', shape: [2] }], DEFAULT_ADAMW)).toThrow(/gate is listed twice/)
    expect(() => buildOptimizerGraph([], DEFAULT_ADAMW)).toThrow(/at least one parameter/)
  })
})
