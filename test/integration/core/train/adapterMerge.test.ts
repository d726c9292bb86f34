import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { Graph } from '../../../../src-main/core/autodiff/Graph.js'
import type { TensorRef } from '../../../../src-main/core/autodiff/types.js'
import type { ModelHyperparameters } from '../../../../src-main/core/model/hyperparameters.js'
import { adapterProjection, adapterSite, moraLayout, planAdapters, type AdapterConfig, type AdapterSite } from '../../../../src-main/core/train/adapters.js'
import { baseProjection, decoderLogits } from '../../../../src-main/core/train/decoder.js'
import { adapterDeltaWeight, addDeltaRows, mergeWeights } from '../../../../src-main/core/train/mergeAdapters.js'
import { tinyHyperparameters } from '../../../fixtures/tinyWeights.js'
import { ADAPTER_METHODS, adapterConfig, constantWeights, randomAdapterValues, singleSitePlan, tinyWeightData, type AdapterMethod } from '../../../support/adapterCases.js'
import { float64Session, relativeError, seeded, transposed, uniform } from '../../../support/float64Checks.js'

/** x (N, k) · W (d, k)ᵀ → (N, d), in float64. */
function timesTransposed(x: Float64Array, w: ArrayLike<number>, d: number, k: number): Float64Array {
  const N = x.length / k
  const out = new Float64Array(N * d)
  for (let n = 0; n < N; n++) for (let i = 0; i < d; i++) {
    let sum = 0
    for (let c = 0; c < k; c++) sum += x[n * k + c]! * w[i * k + c]!
    out[n * d + i] = sum
  }
  return out
}

async function run(g: Graph, outputs: Record<string, TensorRef>, feeds: Record<string, ort.Tensor> = {}): Promise<Record<string, Float64Array>> {
  const session = await float64Session(g, outputs)
  try {
    const result = await session.run(feeds)
    return Object.fromEntries(Object.keys(outputs).map((name) => [name, result[name]!.data as Float64Array]))
  } finally {
    await session.release()
  }
}

/** The ORT forward of one adapted site against the merged weight, on x (2, 3, k). */
async function siteErrors(site: AdapterSite, c: AdapterConfig, seed: number): Promise<{ adapter: number; total: number }> {
  const random = seeded(seed)
  const { inFeatures: k, outFeatures: d } = site
  const plan = singleSitePlan(site)
  const values = randomAdapterValues(plan, random, 0.5)
  const w0 = uniform(d * k, random)
  const x = uniform(2 * 3 * k, random)
  const g = new Graph()
  const xT = g.input('x', [2, 3, k])
  const w0T = g.constant(transposed(w0, d, k), [k, d])
  const params = new Map(site.params.map((p) => [p.name, g.input(p.name, p.shape)]))
  const base = g.matmul(xT, w0T)
  const project = adapterProjection(g, plan, c, params, (graph, input) => graph.matmul(input, w0T))
  const y = project(g, xT, site.weightName)
  expect(y.shape).toEqual([2, 3, d])
  const feeds = Object.fromEntries([['x', new ort.Tensor('float64', x, [2, 3, k])], ...[...values].map(([name, data]) => [name, new ort.Tensor('float64', data, params.get(name)!.shape)])])
  const result = await run(g, { y, base }, feeds)
  const delta = adapterDeltaWeight(site, c, values)
  const adapterOnly = result['y']!.map((v, i) => v - result['base']![i]!)
  return {
    adapter: relativeError(adapterOnly, timesTransposed(x, delta, d, k)),
    total: relativeError(result['y']!, timesTransposed(x, mergeWeights64(w0, delta), d, k)),
  }
}

const mergeWeights64 = (w0: Float64Array, delta: Float64Array): Float64Array => w0.map((w, i) => w + delta[i]!)

// specs/mora.md §9: pad = 0 and pad > 0, d > k and d < k.
const SITE_CASES: [number, number, number][] = [
  [64, 64, 2],
  [40, 96, 3],
  [96, 40, 3],
  [100, 70, 4],
  [300, 130, 5],
]

describe('the adapter forward (ORT float64) equals x·(W0 + ΔW)ᵀ with ΔW from the closed forms', () => {
  describe.each(ADAPTER_METHODS)('%s', (_label, method) => {
    it.each(SITE_CASES)('k = %i → d = %i, r = %i', async (k, d, r) => {
      const c = adapterConfig(method, r)
      const site = adapterSite('model.layers.0.mlp.up_proj.weight', k, d, c)
      const errors = await siteErrors(site, c, k * 1000 + d)
      const shape = method.method === 'mora' ? `r̂ ${site.innerSize}, pad ${moraLayout(k, site.innerSize).pad}` : `r ${r}`
      console.log(`${_label} ${k}→${d} r=${r} (${shape}): adapter ${errors.adapter.toExponential(2)}, total ${errors.total.toExponential(2)}`)
      expect(errors.adapter).toBeLessThanOrEqual(1e-10)
      expect(errors.total).toBeLessThanOrEqual(1e-10)
    })
  })

  it.each([1, 6] as const)('MoRA type %i with a single chunk: r̂ = k (nb = 1, no pad) and r̂ > k (nb = 1, wrapped columns)', async (moraType) => {
    const c = adapterConfig({ method: 'mora', moraType }, 4)
    // 20 → 80 at r = 4: r̂ = √400 = 20 = k.
    const exact = adapterSite('model.layers.0.mlp.up_proj.weight', 20, 80, c)
    expect([exact.innerSize, moraLayout(20, exact.innerSize).chunks]).toEqual([20, 1])
    // planAdapters refuses r̂ > k, but the forward and merge handle pad ≤ k (§8.3): r̂ = 12 on k = 10 wraps x0, x1.
    const base = adapterSite('model.layers.0.mlp.up_proj.weight', 10, 40, { ...c, rank: 1 })
    const wrapped: AdapterSite = { ...base, innerSize: 12, params: [{ name: base.params[0]!.name, shape: [12, 12] }] }
    expect(moraLayout(10, 12)).toEqual({ pad: 2, length: 12, chunks: 1 })
    for (const site of [exact, wrapped]) {
      const errors = await siteErrors(site, c, site.innerSize)
      expect(errors.adapter, `r̂ = ${site.innerSize}`).toBeLessThanOrEqual(1e-10)
      expect(errors.total, `r̂ = ${site.innerSize}`).toBeLessThanOrEqual(1e-10)
    }
  })
})

describe('MoRA ΔW structure', () => {
  it('type 6 on 96 → 40 at r = 3 (r̂ = 20) adapts only input columns 0..39 (specs/mora.md §8.4)', () => {
    const c = adapterConfig({ method: 'mora', moraType: 6 }, 3)
    const site = adapterSite('model.layers.0.mlp.down_proj.weight', 96, 40, c)
    expect(site.innerSize).toBe(20)
    const delta = adapterDeltaWeight(site, c, randomAdapterValues(singleSitePlan(site), seeded(2), 1))
    const columnAdapted = Array.from({ length: 96 }, (_, col) => Array.from({ length: 40 }, (_, row) => delta[row * 96 + col]!).some((v) => v !== 0))
    expect(columnAdapted.slice(0, 40).every(Boolean)).toBe(true)
    expect(columnAdapted.slice(40).some(Boolean)).toBe(false)
  })

  it('type 1 has rank ≤ r̂, type 6 full rank (64 → 64, r = 2, r̂ = 16)', () => {
    const rankOf = (m: Float64Array, n: number): number => {
      const a = m.slice()
      let rank = 0
      for (let col = 0; col < n && rank < n; col++) {
        let pivot = rank
        for (let r = rank + 1; r < n; r++) if (Math.abs(a[r * n + col]!) > Math.abs(a[pivot * n + col]!)) pivot = r
        if (Math.abs(a[pivot * n + col]!) < 1e-9) continue
        for (let j = 0; j < n; j++) [a[rank * n + j], a[pivot * n + j]] = [a[pivot * n + j]!, a[rank * n + j]!]
        for (let r = rank + 1; r < n; r++) {
          const f = a[r * n + col]! / a[rank * n + col]!
          for (let j = col; j < n; j++) a[r * n + j]! -= f * a[rank * n + j]!
        }
        rank++
      }
      return rank
    }
    for (const moraType of [1, 6] as const) {
      const c = adapterConfig({ method: 'mora', moraType }, 2)
      const site = adapterSite('model.layers.0.self_attn.q_proj.weight', 64, 64, c)
      const delta = adapterDeltaWeight(site, c, randomAdapterValues(singleSitePlan(site), seeded(9), 1))
      expect(rankOf(delta, 64), `type ${moraType}`).toBe(moraType === 1 ? 16 : 64)
    }
  })
})

describe('a tiny decoder with adapters on all seven projections equals the decoder with merged weights', () => {
  // 64 → 64 (q, o), 64 → 32 (k, v), 64 → 128 (gate, up), 128 → 64 (down). At r = 3, r̂ = 20 (q, o), 17 or
  // type 6's 16 (k, v), 24 (gate, up, down): r̂ does not divide k anywhere but on type 6's k/v.
  const CASES: [string, ModelHyperparameters['architecture'], AdapterMethod][] = [
    ...ADAPTER_METHODS.map(([label, method]) => [label, 'llama', method] as [string, ModelHyperparameters['architecture'], AdapterMethod]),
    ['MoRA type 6 (qwen2: q/k/v biases)', 'qwen2', { method: 'mora', moraType: 6 }],
  ]
  it.each(CASES)('%s on %s', async (label, architecture, method) => {
    const h = tinyHyperparameters(architecture, 48)
    const c = adapterConfig(method, 3)
    const plan = planAdapters(h, c)
    expect(plan.sites.some((s) => s.inFeatures !== s.outFeatures)).toBe(true)
    if (method.method === 'mora') expect(plan.sites.filter((s) => moraLayout(s.inFeatures, s.innerSize).pad > 0).length).toBeGreaterThan(plan.sites.length / 2)
    const base = tinyWeightData(h, 5)
    const values = randomAdapterValues(plan, seeded(11), method.method === 'lora' ? 0.3 : 0.05)
    const merged64 = new Map<string, ArrayLike<number>>(base)
    const merged32 = new Map<string, ArrayLike<number>>(base)
    for (const site of plan.sites) {
      const delta = adapterDeltaWeight(site, c, values)
      merged64.set(site.weightName, mergeWeights64(Float64Array.from(base.get(site.weightName)!), delta))
      merged32.set(site.weightName, mergeWeights(base.get(site.weightName)!, delta))
    }
    const tokens = Array.from({ length: 10 }, (_, i) => (i * 19 + 3) % h.vocabSize)
    const g = new Graph()
    const ids = g.constant(tokens, [2, 5], 'int64')
    const baseWeights = constantWeights(g, h, base)
    const params = new Map([...values].map(([name, data]) => [name, g.constant(data, plan.sites.flatMap((s) => s.params).find((p) => p.name === name)!.shape)]))
    const project = adapterProjection(g, plan, c, params, baseProjection(h, baseWeights))
    const result = await run(g, {
      adapted: decoderLogits(g, h, baseWeights, ids, project),
      merged64: decoderLogits(g, h, constantWeights(g, h, merged64), ids),
      merged32: decoderLogits(g, h, constantWeights(g, h, merged32), ids),
      plain: decoderLogits(g, h, baseWeights, ids),
    })
    const exact = relativeError(result['adapted']!, result['merged64']!)
    const rounded = relativeError(result['adapted']!, result['merged32']!)
    const effect = relativeError(result['plain']!, result['adapted']!)
    console.log(`${label} on ${architecture}: adapted vs merged ${exact.toExponential(2)} (float64 ΔW), ${rounded.toExponential(2)} (float32 merged); the adapters move logits by ${effect.toExponential(2)}`)
    expect(exact).toBeLessThanOrEqual(1e-10)
    expect(rounded).toBeLessThanOrEqual(1e-5)
    // The adapters must matter, or equality would prove nothing.
    expect(effect).toBeGreaterThan(0.05)
  })
})

describe('ΔW by rows (what a streaming merge reads)', () => {
  it.each(ADAPTER_METHODS)('%s: any chunk of rows added onto a buffer equals that slice of the whole ΔW', (_label, method) => {
    const c = adapterConfig(method, 4)
    const site = adapterSite('model.layers.0.mlp.up_proj.weight', 100, 70, c)
    const values = randomAdapterValues(singleSitePlan(site), seeded(9), 0.5)
    const whole = adapterDeltaWeight(site, c, values)
    const k = site.inFeatures
    for (const [first, count] of [[0, 70], [0, 1], [13, 29], [69, 1]] as const) {
      const rows = new Float64Array(count * k).fill(0.25)
      addDeltaRows(site, c, values, first, count, rows)
      const expected = whole.subarray(first * k, (first + count) * k)
      // LoRA sums its rank terms onto the buffer's value rather than onto zero: equal up to rounding.
      expect(Math.max(...rows.map((v, i) => Math.abs(v - 0.25 - expected[i]!)))).toBeLessThanOrEqual(1e-12)
    }
    expect(() => addDeltaRows(site, c, values, 60, 20, new Float64Array(20 * k))).toThrow(/do not fit/)
  })
})
