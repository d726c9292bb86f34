import { describe, expect, it } from 'vitest'
import type { ModelHyperparameters } from '../../../../src-main/core/model/hyperparameters.js'
import {
  ADAPTER_TARGETS,
  adapterScale,
  adapterSite,
  initialAdapterValues,
  moraLayout,
  moraRotationTables,
  moraSquareSize,
  peftTensorKeys,
  planAdapters,
  type AdapterConfig,
} from '../../../../src-main/core/train/adapters.js'
import { adapterDeltaWeight, mergeWeights } from '../../../../src-main/core/train/mergeAdapters.js'

const llama2_7b: ModelHyperparameters = {
  architecture: 'llama',
  vocabSize: 32000,
  contextLength: 4096,
  embeddingLength: 4096,
  blockCount: 32,
  feedForwardLength: 11008,
  headCount: 32,
  headCountKv: 32,
  headDim: 128,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  tiedEmbeddings: false,
}

/** The MoRA repo's 250M pretraining config (specs/mora.md §7). */
const llama250m: ModelHyperparameters = { ...llama2_7b, vocabSize: 32100, embeddingLength: 768, blockCount: 24, feedForwardLength: 2560, headCount: 16, headCountKv: 16, headDim: 48 }

/** Grouped-query attention, so k/v are narrower than q: 64 → 32. */
const tiny: ModelHyperparameters = { ...llama2_7b, vocabSize: 48, embeddingLength: 64, blockCount: 2, feedForwardLength: 128, headCount: 4, headCountKv: 2, headDim: 16 }

const config = (overrides: Partial<AdapterConfig> = {}): AdapterConfig => ({
  method: 'mora',
  rank: 8,
  moraType: 1,
  targets: [...ADAPTER_TARGETS],
  loraAlpha: 16,
  rsLora: false,
  dropout: 0,
  ...overrides,
})

function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
}

const randomValues = (count: number, random: () => number): Float64Array => Float64Array.from({ length: count }, () => 2 * random() - 1)

/** ΔW (d, k) times x (k). */
function apply(delta: Float64Array, d: number, x: Float64Array): Float64Array {
  const k = x.length
  return Float64Array.from({ length: d }, (_, i) => x.reduce((sum, xc, c) => sum + delta[i * k + c]! * xc, 0))
}

describe('moraSquareSize', () => {
  // specs/mora.md §1: rounded to nearest (the code), not floored (the paper); type 6 then rounds down to even.
  it.each([
    [4096, 4096, 8, 256, 256],
    [4096, 11008, 8, 348, 348],
    [11008, 4096, 8, 348, 348],
    [4096, 4096, 128, 1024, 1024],
    [4096, 11008, 128, 1390, 1390],
    [4096, 4096, 256, 1448, 1448],
    [4096, 11008, 256, 1966, 1966],
    [768, 768, 8, 111, 110],
    [768, 768, 128, 443, 442],
    [768, 768, 256, 627, 626],
    [768, 2560, 8, 163, 162],
    [768, 2560, 128, 653, 652],
    [768, 2560, 256, 923, 922],
  ])('%i → %i at r=%i: type 1 gives %i, type 6 gives %i', (k, d, r, type1, type6) => {
    expect(moraSquareSize(k, d, r, 1)).toBe(type1)
    expect(moraSquareSize(k, d, r, 6)).toBe(type6)
  })

  it('rounds halves up, where the paper would floor', () => {
    // (k + d)·r = 6: √6 = 2.449 → 2; 7: 2.646 → 3 (the paper: 2).
    expect(moraSquareSize(3, 3, 1, 1)).toBe(2)
    expect(moraSquareSize(3, 4, 1, 1)).toBe(3)
  })
})

describe('moraLayout', () => {
  it.each([
    [4096, 256, 0, 16],
    [4096, 348, 80, 12],
    [11008, 348, 128, 32],
    [4096, 1448, 248, 3],
    [4096, 1390, 74, 3],
    [11008, 1390, 112, 8],
    [4096, 1966, 1802, 3],
    [11008, 1966, 788, 6],
    [10, 4, 2, 3],
  ])('k=%i, R=%i: pad %i, nb %i', (k, R, pad, chunks) => {
    expect(moraLayout(k, R)).toEqual({ pad, length: k + pad, chunks })
  })
})

describe('planAdapters', () => {
  it('places one square M per targeted projection, layer by layer, under PEFT-mappable names', () => {
    const plan = planAdapters(tiny, config({ rank: 3, targets: ['down', 'q', 'k'] }))
    expect(plan.sites.map((s) => s.weightName)).toEqual([
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.self_attn.k_proj.weight',
      'model.layers.0.mlp.down_proj.weight',
      'model.layers.1.self_attn.q_proj.weight',
      'model.layers.1.self_attn.k_proj.weight',
      'model.layers.1.mlp.down_proj.weight',
    ])
    const [q, k, down] = plan.sites as [typeof plan.sites[0], typeof plan.sites[0], typeof plan.sites[0]]
    // q: 64 → 64, √384 = 19.6 → 20; k: 64 → 32, √288 = 16.97 → 17; down: 128 → 64, √576 = 24.
    expect([q.inFeatures, q.outFeatures, q.innerSize]).toEqual([64, 64, 20])
    expect([k.inFeatures, k.outFeatures, k.innerSize]).toEqual([64, 32, 17])
    expect([down.inFeatures, down.outFeatures, down.innerSize]).toEqual([128, 64, 24])
    expect(down.params).toEqual([{ name: 'model.layers.0.mlp.down_proj.mora_M.weight', shape: [24, 24] }])
    expect(down.target).toBe('down')
    expect(plan.trainableParameters).toBe(2 * (400 + 289 + 576))
    // The reference saves M under both of its alias keys.
    expect(peftTensorKeys(down.params[0]!.name)).toEqual([
      'base_model.model.model.layers.0.mlp.down_proj.lora_A.weight',
      'base_model.model.model.layers.0.mlp.down_proj.lora_B.weight',
    ])
  })

  it('gives LoRA A (r, k) and B (d, r) in PEFT layout', () => {
    const plan = planAdapters(tiny, config({ method: 'lora', rank: 4, targets: ['gate', 'v'] }))
    const [v, gate] = plan.sites as [typeof plan.sites[0], typeof plan.sites[0]]
    expect(v.params).toEqual([
      { name: 'model.layers.0.self_attn.v_proj.lora_A.weight', shape: [4, 64] },
      { name: 'model.layers.0.self_attn.v_proj.lora_B.weight', shape: [32, 4] },
    ])
    expect(gate.params.map((p) => p.shape)).toEqual([[4, 64], [128, 4]])
    expect(plan.trainableParameters).toBe(2 * (4 * (64 + 32) + 4 * (64 + 128)))
    expect(peftTensorKeys(v.params[1]!.name)).toEqual(['base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight'])
  })

  it('spends about what LoRA spends at the same rank (LLaMA-2 7B, all seven targets, r = 8)', () => {
    const lora = planAdapters(llama2_7b, config({ method: 'lora' })).trainableParameters
    const mora1 = planAdapters(llama2_7b, config({ moraType: 1 })).trainableParameters
    const mora6 = planAdapters(llama2_7b, config({ moraType: 6 })).trainableParameters
    // §1: per layer 4·256² + 3·348² = 625,456 against 4·8192·8 + 3·15104·8 = 624,640.
    expect(lora).toBe(32 * 624_640)
    expect(mora1).toBe(32 * 625_456)
    expect(mora6).toBe(mora1)
    expect(Math.abs(mora1 / lora - 1)).toBeLessThan(0.002)
  })

  it.each([1, 6] as const)('type %i: R² is (k + d)·r up to the rounding of R, per site and in total', (moraType) => {
    // |R − √((k+d)r)| ≤ ½ (type 1) or ≤ 1½ (type 6, then even), so |R² − (k+d)r| ≤ R + ¼ or 3R + 2¼.
    const slack = (R: number): number => (moraType === 1 ? R + 0.25 : 3 * R + 2.25)
    for (const [h, ranks] of [[llama250m, [8, 64, 128]], [tiny, [1, 2, 3, 4]], [llama2_7b, [8, 64, 256]]] as const) {
      for (const rank of ranks) {
        const plan = planAdapters(h, config({ rank, moraType }))
        for (const site of plan.sites.filter((s) => s.layer === 0)) {
          const budget = (site.inFeatures + site.outFeatures) * rank
          expect(Math.abs(site.innerSize ** 2 - budget), `${site.weightName} at r = ${rank}`).toBeLessThanOrEqual(slack(site.innerSize))
        }
        if (h !== tiny) {
          const lora = planAdapters(h, config({ method: 'lora', rank })).trainableParameters
          // Type 6 at r = 8 on the 250M model gives up 1.5% (110² vs 111², 162² vs 163²).
          expect(Math.abs(plan.trainableParameters / lora - 1), `r = ${rank}, E = ${h.embeddingLength}`).toBeLessThan(moraType === 1 ? 0.005 : 0.02)
        }
      }
    }
  })

  it('refuses bad ranks and targets, saying why', () => {
    const refused = (c: Partial<AdapterConfig>): unknown => {
      try {
        planAdapters(tiny, config(c))
      } catch (error) {
        return error
      }
      throw new Error('accepted')
    }
    expect(refused({ rank: 0 })).toMatchObject({ code: 'invalid_argument', message: 'adapter rank must be a positive integer, not 0' })
    expect(refused({ rank: 2.5 })).toMatchObject({ code: 'invalid_argument', message: 'adapter rank must be a positive integer, not 2.5' })
    expect(refused({ targets: [] })).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('adapter targets are empty; choose from q, k, v, o, gate, up, down') })
    expect(refused({ targets: ['q', 'lm_head' as never] })).toMatchObject({ message: expect.stringContaining('unknown adapter target "lm_head"') })
    expect(refused({ targets: ['q', 'q'] })).toMatchObject({ message: "adapter target 'q' is listed twice" })
    expect(refused({ dropout: 1 })).toMatchObject({ message: 'adapter dropout must be in [0, 1), not 1' })
    expect(refused({ moraType: 2 as never })).toMatchObject({ message: expect.stringContaining('MoRA type must be 1 (sharing) or 6 (rotation), not 2') })
    expect(refused({ method: 'lora', loraAlpha: 0 })).toMatchObject({ message: 'LoRA alpha must be a positive number, not 0' })
  })

  it('refuses a LoRA rank above min(k, d), naming the projection and the largest rank', () => {
    // k/v are 64 → 32 in the tiny model.
    expect(() => planAdapters(tiny, config({ method: 'lora', rank: 33, targets: ['q', 'v'] }))).toThrow(
      'LoRA rank 33 is too large for this model on v (64 → 32: rank 33 > min(in, out) = 32). The largest rank these targets allow is 32.',
    )
    expect(planAdapters(tiny, config({ method: 'lora', rank: 32, targets: ['q', 'v'] })).sites).toHaveLength(4)
  })

  it('refuses MoRA where r̂ > k, naming each projection, r̂, k and the largest rank (250M model, r = 256)', () => {
    // §1: gate/up are 768 → 2560 with r̂ = 923 > 768; √(3328·177) = 767.4998 → 767 fits, √(3328·178) = 769.7 does not.
    let message = ''
    try {
      planAdapters(llama250m, config({ rank: 256 }))
    } catch (error) {
      expect(error).toMatchObject({ code: 'invalid_argument' })
      message = (error as Error).message
    }
    expect(message).toContain('MoRA type 1 at rank 256 is too large for this model on gate (768 → 2560: r̂ 923 > 768 inputs), up (768 → 2560: r̂ 923 > 768 inputs)')
    expect(message).not.toContain('down')
    expect(message).toContain('The largest rank these targets allow is 177.')
    expect(moraSquareSize(768, 2560, 177, 1)).toBe(767)
    expect(moraSquareSize(768, 2560, 178, 1)).toBe(770)
    expect(planAdapters(llama250m, config({ rank: 177 })).sites).toHaveLength(24 * 7)
    // Without gate/up the attention projections allow up to √(1536·384) = 768.
    expect(() => planAdapters(llama250m, config({ rank: 385, targets: ['q', 'down'] }))).toThrow('The largest rank these targets allow is 384.')
  })

  it('says when MoRA cannot adapt a projection at any rank', () => {
    // 8 → 1000: already r = 1 gives r̂ = 32.
    expect(() => adapterSite('model.layers.0.mlp.up_proj.weight', 8, 1000, config({ rank: 1 }))).toThrow(/\(8 → 1000\): r̂ 32 > 8 inputs\. The largest rank allowed here is 0\./)
    expect(() => adapterSite('lm_head.weight', 8, 8, config({ rank: 1 }))).toThrow('lm_head.weight is not a projection adapters can wrap')
  })
})

describe('initialAdapterValues', () => {
  it('starts MoRA at M = 0', () => {
    const plan = planAdapters(tiny, config({ rank: 2 }))
    const values = initialAdapterValues(plan, config({ rank: 2 }), seeded(1))
    expect([...values.keys()]).toEqual(plan.sites.flatMap((s) => s.params.map((p) => p.name)))
    for (const data of values.values()) expect(data.every((v) => v === 0)).toBe(true)
  })

  it('draws LoRA A from U(−1/√k, 1/√k) (PEFT: kaiming-uniform, a = √5) and sets B = 0', () => {
    const c = config({ method: 'lora', rank: 8, targets: ['down', 'q'] })
    const plan = planAdapters(tiny, c)
    const values = initialAdapterValues(plan, c, seeded(7))
    for (const site of plan.sites) {
      const a = values.get(site.params[0]!.name)!
      const b = values.get(site.params[1]!.name)!
      const bound = 1 / Math.sqrt(site.inFeatures)
      expect(a).toHaveLength(8 * site.inFeatures)
      expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound)
      // Uniform on the interval: extremes near the bound, mean near 0, variance bound²/3.
      expect(Math.max(...a)).toBeGreaterThan(0.95 * bound)
      expect(Math.min(...a)).toBeLessThan(-0.95 * bound)
      const mean = a.reduce((s, v) => s + v, 0) / a.length
      const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length
      expect(Math.abs(mean)).toBeLessThan(0.1 * bound)
      expect(variance / (bound * bound / 3)).toBeGreaterThan(0.85)
      expect(variance / (bound * bound / 3)).toBeLessThan(1.15)
      expect(b.every((v) => v === 0)).toBe(true)
    }
    // The same random source gives the same values.
    expect(initialAdapterValues(plan, c, seeded(7))).toEqual(values)
  })
})

describe('adapterScale', () => {
  it('is alpha / r for LoRA, alpha / √r with rsLora, and 1 for MoRA whatever alpha says', () => {
    expect(adapterScale(config({ method: 'lora', rank: 4, loraAlpha: 16 }))).toBe(4)
    expect(adapterScale(config({ method: 'lora', rank: 4, loraAlpha: 16, rsLora: true }))).toBe(8)
    expect(adapterScale(config({ method: 'mora', rank: 4, loraAlpha: 16, rsLora: true }))).toBe(1)
  })
})

describe('moraRotationTables', () => {
  it('leaves chunk 0 alone and turns dims j and j + R/2 of chunk b by b·10000^(−2j/R)', () => {
    const R = 6
    const { cos, sin } = moraRotationTables(3, R)
    expect([...cos.subarray(0, R)]).toEqual([1, 1, 1, 1, 1, 1])
    expect([...sin.subarray(0, R)]).toEqual([0, 0, 0, 0, 0, 0])
    for (const b of [1, 2]) {
      for (let j = 0; j < 3; j++) {
        const angle = b / 10000 ** ((2 * j) / R)
        for (const column of [j, j + 3]) {
          expect(cos[b * R + column]).toBeCloseTo(Math.cos(angle), 15)
          expect(sin[b * R + column]).toBeCloseTo(Math.sin(angle), 15)
        }
      }
    }
  })
})

describe('adapterDeltaWeight', () => {
  // k = 10, d = 6, r = 1: r̂ = √16 = 4, pad 2 (the worked example of specs/mora.md §2).
  const x = Float64Array.from({ length: 10 }, (_, i) => Math.sin(i + 1))
  const M = randomValues(16, seeded(3))
  const Mv = (v: number[]): number[] => [0, 1, 2, 3].map((a) => v.reduce((s, vj, j) => s + M[a * 4 + j]! * vj, 0))

  it('type 1 is the worked example: z = [x0+x4+x8, x1+x5+x9, x2+x6+x0, x3+x7+x1], y = [u0, u1, u2, u3, u0, u1]', () => {
    const site = adapterSite('model.layers.0.mlp.up_proj.weight', 10, 6, config({ rank: 1 }))
    expect(site.innerSize).toBe(4)
    const z = [x[0]! + x[4]! + x[8]!, x[1]! + x[5]! + x[9]!, x[2]! + x[6]! + x[0]!, x[3]! + x[7]! + x[1]!]
    const u = Mv(z)
    const expected = [u[0]!, u[1]!, u[2]!, u[3]!, u[0]!, u[1]!]
    const y = apply(adapterDeltaWeight(site, config({ rank: 1 }), new Map([[site.params[0]!.name, M]])), 6, x)
    y.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 14))
  })

  it('type 6 rotates the chunks [x0..x3], [x4..x7], [x8, x9, x0, x1] and tiles o past L = 12 (d = 14)', () => {
    const c = config({ rank: 1, moraType: 6 })
    // 10 → 14: √24 = 4.9 → 5 → even 4.
    const site = adapterSite('model.layers.0.mlp.up_proj.weight', 10, 14, c)
    expect(site.innerSize).toBe(4)
    const xe = [...x, x[0]!, x[1]!]
    const o: number[] = []
    for (let b = 0; b < 3; b++) {
      const v = xe.slice(4 * b, 4 * b + 4)
      // θ_j = 10000^(−2j/4) for j < 2, angle b·θ_(j mod 2); rot(v) = v·cos + [−v2, −v3, v0, v1]·sin.
      const angle = (j: number): number => b * 10000 ** (-(j % 2) / 2)
      const rotated = v.map((vj, j) => vj * Math.cos(angle(j)) + (j < 2 ? -v[j + 2]! : v[j - 2]!) * Math.sin(angle(j)))
      o.push(...Mv(rotated))
    }
    const expected = Array.from({ length: 14 }, (_, i) => o[i % 12]!)
    const y = apply(adapterDeltaWeight(site, c, new Map([[site.params[0]!.name, M]])), 14, x)
    y.forEach((v, i) => expect(v, `y[${i}]`).toBeCloseTo(expected[i]!, 14))
  })

  it('LoRA is B·A·scale', () => {
    const c = config({ method: 'lora', rank: 2, loraAlpha: 3, rsLora: true })
    const site = adapterSite('model.layers.1.self_attn.o_proj.weight', 3, 2, c)
    const A = Float64Array.of(1, 2, 3, 4, 5, 6)
    const B = Float64Array.of(1, -1, 0, 2)
    const s = 3 / Math.SQRT2
    const expected = [(1 - 4) * s, (2 - 5) * s, (3 - 6) * s, 8 * s, 10 * s, 12 * s]
    const delta = adapterDeltaWeight(site, c, new Map([[site.params[0]!.name, A], [site.params[1]!.name, B]]))
    delta.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 14))
  })

  it('names a missing or misshapen parameter', () => {
    const site = adapterSite('model.layers.0.mlp.up_proj.weight', 10, 6, config({ rank: 1 }))
    expect(() => adapterDeltaWeight(site, config({ rank: 1 }), new Map())).toThrow('no values for adapter parameter model.layers.0.mlp.up_proj.mora_M.weight')
    expect(() => adapterDeltaWeight(site, config({ rank: 1 }), new Map([[site.params[0]!.name, new Float32Array(15)]]))).toThrow('has 15 values, its shape [4, 4] needs 16')
  })
})

describe('mergeWeights', () => {
  it('adds ΔW in float64 and rounds once to float32', () => {
    const w0 = Float32Array.of(1, 0.1, -2)
    const merged = mergeWeights(w0, Float64Array.of(1e-8, 0.2, 0.5))
    expect([...merged]).toEqual([Math.fround(1 + 1e-8), Math.fround(Math.fround(0.1) + 0.2), -1.5])
    expect(() => mergeWeights(w0, new Float64Array(2))).toThrow('cannot merge ΔW of 2 values into a weight of 3')
  })
})
