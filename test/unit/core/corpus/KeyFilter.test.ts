import { describe, expect, it } from 'vitest'
import { hashKey, KeyFilter } from '../../../../src-main/core/corpus/KeyFilter.js'
import { randomStream } from '../../../../src-main/core/train/random.js'

function randomKeys(seed: number, count: number): number[] {
  const random = randomStream(seed)
  return Array.from({ length: count }, () => Math.floor(random() * 2 ** 20) * 2 ** 32 + Math.floor(random() * 2 ** 32))
}

describe('KeyFilter', () => {
  it('never forgets a key it was given', () => {
    const filter = new KeyFilter(20)
    const keys = randomKeys(1, 50_000)
    for (const key of keys) filter.add(key)
    expect(keys.every((key) => filter.mightContain(key))).toBe(true)
  })

  it('answers "absent" for most keys it was not given, as a Bloom filter of its size should', () => {
    const filter = new KeyFilter(20) // 2^20 bits, 3 probes, 50k keys: about 0.2% false positives in theory
    for (const key of randomKeys(2, 50_000)) filter.add(key)
    const others = randomKeys(3, 50_000)
    const falsePositives = others.filter((key) => filter.mightContain(key)).length
    expect(falsePositives / others.length).toBeLessThan(0.01)
  })

  it('tells band keys of different bands apart (they differ only in their high bits)', () => {
    const filter = new KeyFilter(20)
    filter.add(0 * 2 ** 32 + 12345)
    expect(filter.mightContain(0 * 2 ** 32 + 12345)).toBe(true)
    expect([1, 2, 3, 4, 5].some((band) => filter.mightContain(band * 2 ** 32 + 12345))).toBe(false)
  })

  it('turns a chunk hash into a safe integer from its first six bytes', () => {
    const hash = Uint8Array.from([0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(hashKey(hash)).toBe(0xfbfa * 2 ** 32 + 0xfffefdfc)
    expect(Number.isSafeInteger(hashKey(hash))).toBe(true)
    expect(hashKey(Uint8Array.from({ length: 16 }, () => 0))).toBe(0)
  })
})
