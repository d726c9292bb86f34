import { describe, expect, it } from 'vitest'
import { packDataset } from '../../../../src-main/core/dataset/packDataset.js'
import { randomStream } from '../../../../src-main/core/train/random.js'

/** Splits n tokens into pieces of at most max tokens. */
function splitEvenly(n: number, max: number): number[] {
  const pieces: number[] = []
  for (let left = n; left > 0; left -= max) pieces.push(Math.min(max, left))
  return pieces
}

describe('packDataset', () => {
  const random = randomStream(21)
  const seqLen = 512
  const items = Array.from({ length: 1200 }, () => {
    const r = random()
    return r < 0.05 ? 600 + Math.floor(random() * 1500) : r < 0.5 ? 1 + Math.floor(random() * 60) : Math.floor(random() * 400)
  })
  const splitItem = (item: number, max: number): number[] => splitEvenly(items[item]!, max)
  const packing = packDataset(items, { seqLen, splitItem, poolSize: 128 })

  it('never exceeds seqLen and counts one EOS per unit', () => {
    for (const sequence of packing.sequences) {
      expect(sequence.tokens).toBe(sequence.units.reduce((sum, u) => sum + u.tokens + 1, 0))
      expect(sequence.tokens).toBeLessThanOrEqual(seqLen)
      expect(sequence.units.length).toBeGreaterThan(0)
    }
  })

  it('places every item whole, or every piece of a split item, exactly once', () => {
    const seen = new Map<string, number>()
    for (const sequence of packing.sequences) {
      for (const unit of sequence.units) {
        const key = `${unit.item}/${unit.piece}`
        seen.set(key, (seen.get(key) ?? 0) + 1)
        if (unit.piece === null) expect(unit.tokens).toBe(items[unit.item])
      }
    }
    const expected: string[] = []
    items.forEach((tokens, item) => {
      if (tokens <= seqLen - 1) expected.push(`${item}/null`)
      else splitEvenly(tokens, seqLen - 1).forEach((_, piece) => expected.push(`${item}/${piece}`))
    })
    expect([...seen.keys()].sort()).toEqual(expected.sort())
    expect([...seen.values()].every((count) => count === 1)).toBe(true)
    expect([...packing.splitItems.keys()].sort((a, b) => a - b)).toEqual(items.flatMap((t, i) => (t > seqLen - 1 ? [i] : [])))
  })

  it('fills sequences well', () => {
    expect(packing.usedTokens).toBe(items.reduce((sum, t) => sum + t, 0) + packing.sequences.reduce((sum, s) => sum + s.units.length, 0))
    expect(packing.fillRatio).toBeGreaterThan(0.95)
  })

  it('is deterministic', () => {
    expect(packDataset(items, { seqLen, splitItem, poolSize: 128 })).toEqual(packing)
  })

  it('refuses a splitter whose pieces do not fit', () => {
    expect(() => packDataset([10], { seqLen: 8, splitItem: () => [8, 2] })).toThrow(/each piece must hold 0 to 7 tokens/)
    expect(() => packDataset([10], { seqLen: 8, splitItem: () => [] })).toThrow(/gave no pieces/)
  })

  it('handles an item of exactly seqLen − 1 tokens and empty input', () => {
    expect(packDataset([7, 7], { seqLen: 8, splitItem: () => [] }).sequences.map((s) => s.tokens)).toEqual([8, 8])
    expect(packDataset([], { seqLen: 8, splitItem: () => [] })).toMatchObject({ sequences: [], fillRatio: 0 })
  })
})
