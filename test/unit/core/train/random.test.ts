import { describe, expect, it } from 'vitest'
import { derivedRandom, fillDropoutMask, randomFromState, randomStream, seededRandom, type RandomState } from '../../../../src-main/core/train/random.js'

/** xoshiro128** written independently in BigInt arithmetic (reference: xoshiro128starstar.c). */
function referenceXoshiro128(state: RandomState, count: number): number[] {
  const M = 0xffffffffn
  const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M
  const s = state.map(BigInt)
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    out.push(Number((rotl((s[1]! * 5n) & M, 7n) * 9n) & M))
    const t = (s[1]! << 9n) & M
    s[2]! ^= s[0]!
    s[3]! ^= s[1]!
    s[1]! ^= s[2]!
    s[0]! ^= s[3]!
    s[2]! ^= t
    s[3] = rotl(s[3]!, 11n)
  }
  return out
}

const draws = (next: () => number, n: number): number[] => Array.from({ length: n }, next)

describe('xoshiro128**', () => {
  it('matches the reference output for the state {1, 2, 3, 4}', () => {
    const r = randomFromState([1, 2, 3, 4])
    // The first values of xoshiro128starstar.c seeded with s = {1, 2, 3, 4}.
    expect(draws(r.nextUint32, 6)).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492])
  })

  it('matches an independent BigInt implementation over many draws and states', () => {
    for (const state of [[1, 2, 3, 4], [0xffffffff, 0, 0x80000000, 7], seededRandom(5).state()] as RandomState[]) {
      const r = randomFromState(state)
      expect(draws(r.nextUint32, 2000)).toEqual(referenceXoshiro128(state, 2000))
    }
  })
})

describe('seededRandom', () => {
  it('is deterministic per seed and differs between seeds (negative and large seeds too)', () => {
    for (const seed of [0, 1, -1, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
      expect(draws(seededRandom(seed).nextFloat, 20)).toEqual(draws(seededRandom(seed).nextFloat, 20))
    }
    const firsts = [0, 1, 2, -1, 2 ** 32, 2 ** 40 + 3].map((seed) => seededRandom(seed).nextUint32())
    expect(new Set(firsts).size).toBe(firsts.length)
  })

  it('refuses seeds that are not safe integers', () => {
    for (const seed of [0.5, Number.NaN, Infinity, 2 ** 60]) expect(() => seededRandom(seed)).toThrow(/safe integer/)
  })

  it('nextFloat can be passed around unbound', () => {
    const { nextFloat } = seededRandom(3)
    const other = seededRandom(3)
    expect(draws(nextFloat, 5)).toEqual(draws(other.nextFloat, 5))
  })

  it('saves and restores its state through JSON', () => {
    const r = seededRandom(77)
    draws(r.nextFloat, 13)
    const saved = JSON.parse(JSON.stringify(r.state())) as RandomState
    const expected = draws(r.nextFloat, 50)
    expect(draws(randomFromState(saved).nextFloat, 50)).toEqual(expected)
    // state() is a copy: drawing afterwards does not change what was saved.
    expect(draws(randomFromState(saved).nextFloat, 50)).toEqual(expected)
  })

  it('refuses states that are not four 32-bit words, or all zero', () => {
    for (const bad of [[0, 0, 0, 0], [1, 2, 3], [1, 2, 3, 2 ** 32], [1, 2, 3, -1], [1, 2, 3, 0.5]]) {
      expect(() => randomFromState(bad as unknown as RandomState)).toThrow(RangeError)
    }
  })

  it('gives uniform floats in [0, 1)', () => {
    const n = 100_000
    const buckets = new Array<number>(10).fill(0)
    let sum = 0
    let [min, max] = [1, 0]
    const r = seededRandom(2024)
    for (let i = 0; i < n; i++) {
      const x = r.nextFloat()
      min = Math.min(min, x)
      max = Math.max(max, x)
      sum += x
      buckets[Math.floor(x * 10)]!++
    }
    expect(min).toBeGreaterThanOrEqual(0)
    expect(max).toBeLessThan(1)
    expect(sum / n).toBeCloseTo(0.5, 2)
    // Chi-square with 9 degrees of freedom: 27.9 is the 0.999 quantile.
    const chi2 = buckets.reduce((acc, c) => acc + (c - n / 10) ** 2 / (n / 10), 0)
    expect(chi2).toBeLessThan(27.9)
  })

  it('nextBelow stays in range, covers it evenly, and refuses bad bounds', () => {
    const r = seededRandom(8)
    const counts = new Array<number>(7).fill(0)
    for (let i = 0; i < 70_000; i++) counts[r.nextBelow(7)]!++
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400)
    expect(draws(() => r.nextBelow(1), 10)).toEqual(new Array<number>(10).fill(0))
    expect(r.nextBelow(2 ** 32)).toBeLessThan(2 ** 32)
    for (const n of [0, -3, 2.5, 2 ** 32 + 1]) expect(() => r.nextBelow(n)).toThrow(RangeError)
  })
})

describe('randomStream', () => {
  it('regenerates the same stream from (seed, keys) without replaying anything', () => {
    const a = draws(randomStream(1, 10, 2, 3), 100)
    draws(randomStream(1, 10, 2, 4), 1000)
    draws(seededRandom(1).nextFloat, 1000)
    expect(draws(randomStream(1, 10, 2, 3), 100)).toEqual(a)
    expect(draws(derivedRandom(1, 10, 2, 3).nextFloat, 100)).toEqual(a)
  })

  it('gives unrelated streams for different seeds, keys, key order, key count and key types', () => {
    const variants: [number, ...(number | string)[]][] = [
      [1, 10, 2, 3],
      [2, 10, 2, 3],
      [1, 10, 2, 4],
      [1, 2, 10, 3],
      [1, 10, 2],
      [1, 10, 2, 3, 0],
      [1, 10, 2, '3'],
      [1, 'batchOrder', 0],
      [1, 'batchOrder', 1],
      [1],
    ]
    const firsts = variants.map(([seed, ...keys]) => draws(randomStream(seed, ...keys), 4).join(','))
    expect(new Set(firsts).size).toBe(variants.length)
  })

  it('with no keys equals seededRandom', () => {
    expect(draws(randomStream(42), 10)).toEqual(draws(seededRandom(42).nextFloat, 10))
  })

  it('adjacent steps give uncorrelated dropout masks', () => {
    const n = 20_000
    const p = 0.1
    const mask = (step: number): boolean[] => draws(randomStream(7, step, 0, 0), n).map((x) => x < p)
    const [a, b] = [mask(0), mask(1)]
    const dropped = a.filter(Boolean).length
    expect(Math.abs(dropped / n - p)).toBeLessThan(0.01)
    const both = a.filter((x, i) => x && b[i]).length
    // Independent masks share about p² of positions.
    expect(Math.abs(both / n - p * p)).toBeLessThan(0.005)
  })

  it('refuses keys that are not safe integers', () => {
    expect(() => randomStream(1, 0.5)).toThrow(/key 0/)
    expect(() => randomStream(1, 2, Number.NaN)).toThrow(/key 1/)
  })
})

describe('fillDropoutMask', () => {
  it('gives the mask a per-element randomStream comparison gives, bit for bit', () => {
    for (const p of [0, 0.05, 0.5, 0.9]) {
      const next = randomStream(42, 'dropout', 3, 0, 7)
      const expected = Float32Array.from({ length: 10_000 }, () => (next() < p ? 0 : 1 / (1 - p)))
      expect(fillDropoutMask(new Float32Array(10_000), p, 42, 'dropout', 3, 0, 7)).toEqual(expected)
    }
  })

  it('refuses a probability outside [0, 1)', () => {
    expect(() => fillDropoutMask(new Float32Array(1), 1, 42)).toThrow(RangeError)
  })
})
