import { describe, expect, it } from 'vitest'
import { mixInstructions, parseMixRatio } from '../../../../src-main/core/dataset/mixInstructions.js'
import { randomStream } from '../../../../src-main/core/train/random.js'

describe('parseMixRatio', () => {
  it('parses domain:general', () => {
    expect(parseMixRatio('1:1')).toEqual({ domain: 1, general: 1 })
    expect(parseMixRatio(' 1 : 2 ')).toEqual({ domain: 1, general: 2 })
    expect(parseMixRatio('2:0.5')).toEqual({ domain: 2, general: 0.5 })
    expect(parseMixRatio('1:0')).toEqual({ domain: 1, general: 0 })
  })

  it.each(['', '1', '1:', 'a:b', '1:2:3', '-1:1', '0:1'])('refuses %j with a clear error', (text) => {
    expect(() => parseMixRatio(text)).toThrow(expect.objectContaining({ code: 'invalid_argument', message: expect.stringContaining(`Mixing ratio "${text}"`) }))
  })
})

describe('mixInstructions', () => {
  const random = randomStream(9)
  const pool = Array.from({ length: 500 }, () => 20 + Math.floor(random() * 300))
  const largest = Math.max(...pool)

  it.each([
    [{ domain: 1, general: 1 }, 40_000],
    [{ domain: 1, general: 2 }, 30_000],
    [{ domain: 2, general: 1 }, 50_000],
  ])('reaches the ratio %j within half an item', (ratio, domainTokens) => {
    const mix = mixInstructions(pool, domainTokens, ratio, randomStream(1))
    expect(mix.targetTokens).toBe((domainTokens * ratio.general) / ratio.domain)
    expect(Math.abs(mix.generalTokens - mix.targetTokens)).toBeLessThanOrEqual(largest / 2)
    expect(mix.generalTokens).toBe(mix.picks.reduce((sum, i) => sum + pool[i]!, 0))
    expect(mix.achievedGeneralPerDomain).toBeCloseTo(ratio.general / ratio.domain, 1)
  })

  it('does not repeat an item while the pool is large enough', () => {
    const mix = mixInstructions(pool, 10_000, { domain: 1, general: 1 }, randomStream(2))
    expect(new Set(mix.picks).size).toBe(mix.picks.length)
    expect(mix.passes).toBe(1)
  })

  it('cycles a small pool, using its items evenly', () => {
    const small = [100, 120, 80, 100]
    const mix = mixInstructions(small, 4_000, { domain: 1, general: 1 }, randomStream(3))
    expect(Math.abs(mix.generalTokens - 4_000)).toBeLessThanOrEqual(60)
    expect(mix.passes).toBeGreaterThanOrEqual(10)
    const uses = small.map((_, i) => mix.picks.filter((p) => p === i).length)
    expect(Math.max(...uses) - Math.min(...uses)).toBeLessThanOrEqual(1)
  })

  it('is deterministic for a seed and picks nothing for a zero general share or an empty pool', () => {
    expect(mixInstructions(pool, 5_000, { domain: 1, general: 1 }, randomStream(4))).toEqual(mixInstructions(pool, 5_000, { domain: 1, general: 1 }, randomStream(4)))
    expect(mixInstructions(pool, 5_000, { domain: 1, general: 0 }, randomStream(4)).picks).toEqual([])
    expect(mixInstructions([], 5_000, { domain: 1, general: 1 }, randomStream(4))).toMatchObject({ picks: [], generalTokens: 0, achievedGeneralPerDomain: 0 })
  })
})
