import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { gradients } from '../../../../src-main/core/autodiff/gradient.js'
import { Graph } from '../../../../src-main/core/autodiff/Graph.js'
import { logSoftmax } from '../../../../src-main/core/autodiff/layers.js'
import type { ModelHyperparameters } from '../../../../src-main/core/model/hyperparameters.js'
import { adapterProjection, adapterSite, planAdapters, type AdapterConfig, type AdapterPlan } from '../../../../src-main/core/train/adapters.js'
import { baseProjection, decoderLogits } from '../../../../src-main/core/train/decoder.js'
import { adapterDeltaWeight } from '../../../../src-main/core/train/mergeAdapters.js'
import { tinyHyperparameters } from '../../../fixtures/tinyWeights.js'
import { ADAPTER_METHODS, adapterConfig, constantWeights, randomAdapterValues, singleSitePlan, tinyWeightData, type AdapterMethod } from '../../../support/adapterCases.js'
import { FLOAT64_SESSION, float64Session, maxRelativeError, seeded, transposed, uniform } from '../../../support/float64Checks.js'

const DROPOUT = 0.25

const config = (method: AdapterMethod, rank: number): AdapterConfig => adapterConfig(method, rank, { loraAlpha: 3, rsLora: true, dropout: DROPOUT })

/** Inverted dropout: each entry 0 with probability p, else 1/(1 − p). */
const dropoutMask = (count: number, random: () => number): Float64Array => Float64Array.from({ length: count }, () => (random() < DROPOUT ? 0 : 1 / (1 - DROPOUT)))

describe('the adapter part of ∂L/∂x is mask ⊙ ΔWᵀ·gy (specs/mora.md §6)', () => {
  describe.each(ADAPTER_METHODS)('%s', (_label, method) => {
    it.each([
      [96, 40, 3],
      [100, 70, 4],
    ])('k = %i → d = %i, r = %i', async (k, d, r) => {
      const random = seeded(k + d)
      const c = config(method, r)
      const site = adapterSite('model.layers.0.mlp.down_proj.weight', k, d, c)
      const plan = singleSitePlan(site)
      const values = randomAdapterValues(plan, random, 0.5)
      const w0 = uniform(d * k, random)
      const mask = dropoutMask(6 * k, random)
      const gy = uniform(6 * d, random)
      const g = new Graph()
      const x = g.input('x', [2, 3, k])
      const w0T = g.constant(transposed(w0, d, k), [k, d])
      const params = new Map(site.params.map((p) => [p.name, g.constant(values.get(p.name)!, p.shape)]))
      const masks = new Map([[site.weightName, g.constant(mask, [2, 3, k])]])
      const project = adapterProjection(g, plan, c, params, (graph, input) => graph.matmul(input, w0T), masks)
      const y = project(g, x, site.weightName)
      const [gx] = gradients(g, g.reduceSum(g.mul(y, g.constant(gy, [2, 3, d])), [0, 1, 2]), [x])
      const s = await float64Session(g, { gx: gx! })
      const result = await s.run({ x: new ort.Tensor('float64', uniform(6 * k, random), [2, 3, k]) })
      await s.release()
      const delta = adapterDeltaWeight(site, c, values)
      const expected = new Float64Array(6 * k)
      for (let n = 0; n < 6; n++) {
        for (let col = 0; col < k; col++) {
          let base = 0
          let adapter = 0
          for (let i = 0; i < d; i++) {
            base += gy[n * d + i]! * w0[i * k + col]!
            adapter += gy[n * d + i]! * delta[i * k + col]!
          }
          expected[n * k + col] = base + mask[n * k + col]! * adapter
        }
      }
      expect(maxRelativeError(result['gx']!.data as Float64Array, expected)).toBeLessThanOrEqual(1e-10)
    })
  })
})

/**
 * A two-layer decoder small enough for central differences over every adapter parameter: 24 → 24 (q, o),
 * 24 → 8 (k, v), 24 → 40 (gate, up), 40 → 24 (down). At r = 2, r̂ = 10 (q, o), 8 (k, v), 11 or type 6's 10
 * (gate, up, down), so q, o, gate and up wrap their input, and type 1's down too.
 */
function tinyDecoder(): { h: ModelHyperparameters; weights: Map<string, Float32Array> } {
  const h = tinyHyperparameters('llama', 32, { embeddingLength: 24, feedForwardLength: 40, headCount: 3, headCountKv: 1, headDim: 8 })
  return { h, weights: tinyWeightData(h, 3) }
}

interface AdaptedDecoder {
  plan: AdapterPlan
  /** Loss, logits, the plain decoder's logits, and ∂loss/∂(each parameter). */
  full: ort.InferenceSession
  /** The loss alone: central differences run it twice per parameter entry. */
  forward: ort.InferenceSession
  /** Parameter feeds by name; their data is changed in place between runs. */
  feeds: Record<string, ort.Tensor>
  release(): Promise<void>
}

/**
 * The decoder with adapters on all seven targets and fixed dropout masks, L = Σ w ⊙ logSoftmax(logits) for
 * fixed random w (a weighted cross-entropy against soft targets), on tokens (2, 4). Parameters are inputs.
 */
async function adaptedDecoder(c: AdapterConfig, values: ReadonlyMap<string, Float64Array>, options: ort.InferenceSession.SessionOptions = FLOAT64_SESSION): Promise<AdaptedDecoder> {
  const { h, weights } = tinyDecoder()
  const plan = planAdapters(h, c)
  const random = seeded(17)
  const [B, T] = [2, 4]
  const g = new Graph()
  const ids = g.constant(Array.from({ length: B * T }, (_, i) => (i * 7 + 5) % h.vocabSize), [B, T], 'int64')
  const baseWeights = constantWeights(g, h, weights)
  const params = new Map(plan.sites.flatMap((s) => s.params.map((p) => [p.name, g.input(p.name, p.shape)] as const)))
  const masks = new Map(plan.sites.map((s) => [s.weightName, g.constant(dropoutMask(B * T * s.inFeatures, random), [B, T, s.inFeatures])]))
  const logits = decoderLogits(g, h, baseWeights, ids, adapterProjection(g, plan, c, params, baseProjection(h, baseWeights), masks))
  const plain = decoderLogits(g, h, baseWeights, ids)
  const loss = g.reduceSum(g.mul(logSoftmax(g, logits), g.constant(uniform(B * T * h.vocabSize, random), logits.shape)), [0, 1, 2])
  const names = [...params.keys()]
  const grads = gradients(g, loss, [...params.values()])
  const full = await float64Session(g, { loss, logits, plain, ...Object.fromEntries(names.map((name, i) => [`grad:${name}`, grads[i]!])) }, options)
  const forward = await float64Session(g, { loss }, options)
  const feeds = Object.fromEntries(names.map((name) => [name, new ort.Tensor('float64', values.get(name)!.slice(), [...params.get(name)!.shape])]))
  return { plan, full, forward, feeds, release: async () => void (await Promise.all([full.release(), forward.release()])) }
}

const lossOf = async (model: AdaptedDecoder): Promise<number> => ((await model.forward.run(model.feeds))['loss']!.data as Float64Array)[0]!

describe('gradients of a whole tiny decoder with adapters on all seven projections (float64 ORT, fixed dropout masks)', () => {
  it.each(ADAPTER_METHODS)('%s: ∂L/∂(every adapter parameter) matches central differences', async (label, method) => {
    const c = config(method, 2)
    const { h } = tinyDecoder()
    const plan = planAdapters(h, c)
    const random = seeded(method.moraType * 10 + (method.method === 'lora' ? 1 : 0))
    const values = randomAdapterValues(plan, random, method.method === 'lora' ? 0.3 : 0.05)
    const model = await adaptedDecoder(c, values)
    try {
      const result = await model.full.run(model.feeds)
      // The loss sums B·T·V = 256 terms, so each evaluation carries ~1e-13 of rounding: a 1e-6 step would turn
      // that into 1e-7 of noise, as large as the smallest gradients. Fourth-order central differences allow a
      // step of 1e-4 (truncation O(h⁴)), with 100× less noise.
      const h = 1e-4
      let worst = 0
      let count = 0
      for (const [name, feed] of Object.entries(model.feeds)) {
        const data = feed.data as Float64Array
        const numeric = new Float64Array(data.length)
        for (let j = 0; j < data.length; j++) {
          const saved = data[j]!
          const at = async (step: number): Promise<number> => {
            data[j] = saved + step
            return lossOf(model)
          }
          numeric[j] = (8 * ((await at(h)) - (await at(-h))) - ((await at(2 * h)) - (await at(-2 * h)))) / (12 * h)
          data[j] = saved
        }
        const error = maxRelativeError(result[`grad:${name}`]!.data as Float64Array, numeric)
        expect(error, `∂L/∂${name}`).toBeLessThanOrEqual(1e-5)
        worst = Math.max(worst, error)
        count += data.length
      }
      console.log(`${label}: ${count} parameters in ${model.plan.sites.length} sites, max relative error of ∂L/∂θ vs central differences ${worst.toExponential(2)}`)
    } finally {
      await model.release()
    }
  })

  it.each(ADAPTER_METHODS)('%s at its initial values: the output is exactly the base output, and training can start', async (_label, method) => {
    const c = config(method, 2)
    const { h } = tinyDecoder()
    const plan = planAdapters(h, c)
    const random = seeded(5)
    // MoRA: M = 0. LoRA as PEFT starts it: A random, B = 0.
    const values = new Map(plan.sites.flatMap((s) => s.params.map((p) => [p.name, p.name.endsWith('.lora_A.weight') ? uniform(p.shape[0] * p.shape[1], random, 0.3) : new Float64Array(p.shape[0] * p.shape[1])] as const)))
    // ORT's basic-level rewrites move even the plain decoder's float64 logits by ~7e-15, and the two branches'
    // graphs differ, so they are rewritten differently: without rewrites both run the same kernels in order.
    const model = await adaptedDecoder(c, values, { ...FLOAT64_SESSION, graphOptimizationLevel: 'disabled' })
    try {
      const result = await model.full.run(model.feeds)
      expect(result['logits']!.data).toEqual(result['plain']!.data)
      for (const site of plan.sites) {
        for (const p of site.params) {
          const grad = result[`grad:${p.name}`]!.data as Float64Array
          const largest = Math.max(...grad.map(Math.abs))
          // §6: ∂L/∂M = Σ gu·zᵀ ≠ 0 at M = 0. LoRA's A gets nothing until B moves.
          if (p.name.endsWith('.lora_A.weight')) expect(largest, p.name).toBe(0)
          else expect(largest, p.name).toBeGreaterThan(1e-4)
        }
      }
    } finally {
      await model.release()
    }
  })
})
