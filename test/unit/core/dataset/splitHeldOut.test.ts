import { describe, expect, it } from 'vitest'
import { splitHeldOut, withoutHeldOut } from '../../../../src-main/core/dataset/splitHeldOut.js'

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

describe('splitHeldOut', () => {
  it('holds out about the fraction asked for', () => {
    const heldOut = splitHeldOut(range(0, 4000), { fraction: 0.05, seed: 1 })
    expect(heldOut.size).toBeGreaterThan(150)
    expect(heldOut.size).toBeLessThan(250)
  })

  it('keeps each document on its side when the corpus grows or is reordered', () => {
    const before = splitHeldOut(range(0, 1000), { fraction: 0.1, seed: 5 })
    const after = splitHeldOut([...range(1000, 3000), ...range(0, 1000).reverse()], { fraction: 0.1, seed: 5 })
    for (const id of range(0, 1000)) expect(after.has(id)).toBe(before.has(id))
  })

  it('depends on the seed', () => {
    const a = splitHeldOut(range(0, 1000), { fraction: 0.1, seed: 1 })
    const b = splitHeldOut(range(0, 1000), { fraction: 0.1, seed: 2 })
    expect([...a].sort()).not.toEqual([...b].sort())
  })

  it('holds out at least one of two or more documents when the fraction is above 0, and never all of them', () => {
    for (let seed = 0; seed < 50; seed++) {
      expect(splitHeldOut([10, 20], { fraction: 0.001, seed }).size).toBe(1)
      expect(splitHeldOut([10, 20, 30], { fraction: 0.99, seed }).size).toBeLessThan(3)
    }
    expect(splitHeldOut([10], { fraction: 0.5, seed: 1 }).size).toBe(0)
    expect(splitHeldOut(range(0, 100), { fraction: 0, seed: 1 }).size).toBe(0)
  })

  it('refuses a fraction outside [0, 1)', () => {
    expect(() => splitHeldOut([1, 2], { fraction: 1, seed: 1 })).toThrow(/held-out fraction/)
    expect(() => splitHeldOut([1, 2], { fraction: -0.1, seed: 1 })).toThrow(/held-out fraction/)
  })

  it('removes held-out documents from clusters and drops emptied clusters', () => {
    expect(withoutHeldOut([[1, 2, 3], [4], [5, 6]], new Set([2, 4]))).toEqual([[1, 3], [5, 6]])
  })
})
