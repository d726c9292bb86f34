import { describe, expect, it } from 'vitest'
import { type KnapsackItem, packKnapsack } from '../../../../src-main/core/cluster/packKnapsack.js'
import { randomStream } from '../../../../src-main/core/train/random.js'

function bestValueByBruteForce(items: readonly KnapsackItem[], capacity: number): number {
  let best = 0
  for (let mask = 0; mask < 1 << items.length; mask++) {
    let tokens = 0
    let value = 0
    items.forEach((item, index) => {
      if (mask & (1 << index)) {
        tokens += item.tokens
        value += item.value ?? item.tokens
      }
    })
    if (tokens <= capacity && value > best) best = value
  }
  return best
}

describe('packKnapsack', () => {
  it('is optimal, fits the capacity and keeps items whole on random small instances', () => {
    const random = randomStream(42)
    const below = (n: number): number => Math.floor(random() * n)
    for (let trial = 0; trial < 300; trial++) {
      const itemCount = below(13)
      const withValues = trial % 2 === 1
      const items: KnapsackItem[] = Array.from({ length: itemCount }, () =>
        withValues ? { tokens: below(60), value: below(100) } : { tokens: below(60) },
      )
      const capacity = below(200)
      const choice = packKnapsack(items, capacity)

      expect(choice.chosen).toEqual([...new Set(choice.chosen)].sort((a, b) => a - b))
      const chosenItems = choice.chosen.map((index) => items[index])
      expect(chosenItems.every((item) => item !== undefined)).toBe(true)
      const tokens = chosenItems.reduce((sum, item) => sum + (item?.tokens ?? 0), 0)
      const value = chosenItems.reduce((sum, item) => sum + (item?.value ?? item?.tokens ?? 0), 0)
      expect(tokens).toBeLessThanOrEqual(capacity)
      expect(choice.totalTokens).toBe(tokens)
      expect(choice.totalValue).toBe(value)
      expect(value).toBe(bestValueByBruteForce(items, capacity))
    }
  })

  it('fills a context exactly when a subset sums to it, leaving the rest for the next sequence', () => {
    const choice = packKnapsack([{ tokens: 1500 }, { tokens: 900 }, { tokens: 700 }, { tokens: 548 }], 2048)
    expect(choice.chosen).toEqual([0, 3])
    expect(choice.totalTokens).toBe(2048)
  })

  it('chooses nothing when nothing fits', () => {
    expect(packKnapsack([{ tokens: 10 }, { tokens: 11 }], 9)).toEqual({ chosen: [], totalTokens: 0, totalValue: 0 })
    expect(packKnapsack([], 100).chosen).toEqual([])
  })

  it('rejects sizes that are not integers ≥ 0', () => {
    expect(() => packKnapsack([{ tokens: 1.5 }], 10)).toThrow(RangeError)
    expect(() => packKnapsack([{ tokens: -1 }], 10)).toThrow(RangeError)
    expect(() => packKnapsack([{ tokens: 1 }], 2.5)).toThrow(RangeError)
    expect(() => packKnapsack([{ tokens: 1 }], -1)).toThrow(RangeError)
    expect(() => packKnapsack([{ tokens: 1, value: Number.NaN }], 10)).toThrow(RangeError)
  })
})
