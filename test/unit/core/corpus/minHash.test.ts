import { describe, expect, it } from 'vitest'
import { estimateJaccard, lshBandingFor, lshBandKeys, MINHASH_SIZE, minHashSignature, SHINGLE_WORDS } from '../../../../src-main/core/corpus/minHash.js'
import { randomStream } from '../../../../src-main/core/train/random.js'


function randomWords(random: () => number, count: number): string[] {
  const words: string[] = []
  for (let i = 0; i < count; i++) {
    const length = 4 + Math.floor(random() * 6)
    let word = ''
    for (let j = 0; j < length; j++) word += String.fromCharCode(97 + Math.floor(random() * 26))
    words.push(word)
  }
  return words
}

function shingles(words: readonly string[]): Set<string> {
  const set = new Set<string>()
  for (let i = 0; i + SHINGLE_WORDS <= words.length; i++) set.add(words.slice(i, i + SHINGLE_WORDS).join(' '))
  return set
}

function trueJaccard(a: readonly string[], b: readonly string[]): number {
  const sa = shingles(a)
  const sb = shingles(b)
  let shared = 0
  for (const s of sa) if (sb.has(s)) shared++
  return shared / (sa.size + sb.size - shared)
}

function signature(words: readonly string[]): Uint32Array {
  const result = minHashSignature(words.join(' '))
  if (result === null) throw new Error('expected a signature')
  return result
}

/** Two 300-word texts sharing a prefix, its length chosen to bring their shingle Jaccard closest to `target`. */
function pairWithJaccard(random: () => number, target: number): { a: string[]; b: string[]; jaccard: number } {
  const total = 300
  const shared = randomWords(random, total)
  const tailA = randomWords(random, total)
  const tailB = randomWords(random, total)
  let best = { a: [] as string[], b: [] as string[], jaccard: -1 }
  for (let prefix = SHINGLE_WORDS; prefix <= total; prefix++) {
    const a = [...shared.slice(0, prefix), ...tailA.slice(0, total - prefix)]
    const b = [...shared.slice(0, prefix), ...tailB.slice(0, total - prefix)]
    const jaccard = trueJaccard(a, b)
    if (Math.abs(jaccard - target) < Math.abs(best.jaccard - target)) best = { a, b, jaccard }
  }
  return best
}

describe('minHashSignature and estimateJaccard', () => {
  it('gives identical texts identical signatures', () => {
    const words = randomWords(randomStream(1), 200)
    const a = signature(words)
    const b = signature([...words])
    expect(a).toBeInstanceOf(Uint32Array)
    expect(a.length).toBe(MINHASH_SIZE)
    expect(Array.from(b)).toEqual(Array.from(a))
    expect(estimateJaccard(a, b)).toBe(1)
  })

  it('gives unrelated texts a similarity near 0', () => {
    const random = randomStream(2)
    for (let trial = 0; trial < 5; trial++) {
      expect(estimateJaccard(signature(randomWords(random, 300)), signature(randomWords(random, 300)))).toBeLessThan(0.1)
    }
  })

  // With 128 bins the estimate's standard error is about 0.04 at these levels, so a single pair can land just
  // past ±0.12 (about 3σ; one of the seeded pairs here does): most pairs must be within 0.12, all within 0.16,
  // and the mean error (standard error about 0.018) within 0.05, which a biased estimator would miss.
  it.each([0.3, 0.6, 0.9])('estimates a true shingle Jaccard of %d within 0.12', (target) => {
    const random = randomStream(Math.round(target * 1000))
    const errors: number[] = []
    for (let trial = 0; trial < 5; trial++) {
      const { a, b, jaccard } = pairWithJaccard(random, target)
      expect(Math.abs(jaccard - target)).toBeLessThan(0.02)
      const estimate = estimateJaccard(signature(a), signature(b))
      expect(Math.abs(estimate - jaccard), `estimate ${estimate} for true ${jaccard}`).toBeLessThanOrEqual(0.16)
      errors.push(estimate - jaccard)
    }
    expect(errors.filter((e) => Math.abs(e) <= 0.12).length).toBeGreaterThanOrEqual(4)
    expect(Math.abs(errors.reduce((sum, e) => sum + e, 0) / errors.length)).toBeLessThanOrEqual(0.05)
  })

  it('ranks pairs by similarity', () => {
    const random = randomStream(11)
    const estimates = [0.2, 0.5, 0.8, 1].map((target) => {
      const { a, b } = target === 1 ? { a: randomWords(random, 300), b: [] } : pairWithJaccard(random, target)
      return estimateJaccard(signature(a), signature(b.length > 0 ? b : a))
    })
    expect([...estimates].sort((x, y) => x - y)).toEqual(estimates)
  })

  it('ignores ASCII case, punctuation and spacing', () => {
    const text = 'The Quick Brown Fox jumps over the Lazy Dog, near the River Bank; 42 times.'
    const reference = minHashSignature(text)
    expect(reference).not.toBeNull()
    expect(Array.from(minHashSignature(text.toUpperCase()) ?? [])).toEqual(Array.from(reference ?? []))
    expect(Array.from(minHashSignature(text.toLowerCase()) ?? [])).toEqual(Array.from(reference ?? []))
    const respaced = 'the quick brown fox jumps   over the lazy dog\nnear the river bank — 42 times'
    expect(Array.from(minHashSignature(respaced) ?? [])).toEqual(Array.from(reference ?? []))
  })

  it('tells different words apart', () => {
    const a = minHashSignature('the quick brown fox jumps over the lazy dog')
    const b = minHashSignature('the quick brown fox jumps over the lazy cat')
    expect(a).not.toBeNull()
    expect(b).not.toBeNull()
    expect(estimateJaccard(a as Uint32Array, b as Uint32Array)).toBeLessThan(1)
  })

  it.each(['', '   \n\t ', '!!! ... --- ???', '— … —', '\u3000\u00A0'])('returns null for text without words: %j', (text) => {
    expect(minHashSignature(text)).toBeNull()
  })

  it('gives texts shorter than one shingle a signature of their own', () => {
    const short = minHashSignature('hello world')
    expect(short).not.toBeNull()
    expect((short as Uint32Array).length).toBe(MINHASH_SIZE)
    expect(estimateJaccard(short as Uint32Array, minHashSignature('Hello, WORLD!') as Uint32Array)).toBe(1)
    expect(estimateJaccard(short as Uint32Array, minHashSignature('hello there') as Uint32Array)).toBeLessThan(0.1)
    expect(minHashSignature('word')).not.toBeNull()
    expect(minHashSignature('one two three four')).not.toBeNull()
  })

  it('does not let one text change the signature of the next', () => {
    const words = randomWords(randomStream(3), 50)
    const before = Array.from(signature(words))
    signature(randomWords(randomStream(4), 10_000)) // grows the shared word buffer
    expect(Array.from(signature(words))).toEqual(before)
  })
})

describe('lshBandingFor', () => {
  const thresholds = [0.1, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99]

  it.each(thresholds)('fits bands × rows for threshold %d into the signature', (threshold) => {
    const { bands, rowsPerBand } = lshBandingFor(threshold)
    expect(Number.isInteger(bands) && Number.isInteger(rowsPerBand)).toBe(true)
    expect(bands).toBeGreaterThanOrEqual(1)
    expect(rowsPerBand).toBeGreaterThanOrEqual(1)
    expect(bands * rowsPerBand).toBeLessThanOrEqual(MINHASH_SIZE)
    // The S-curve's midpoint (1/b)^(1/r) sits near the threshold.
    expect(Math.abs((1 / bands) ** (1 / rowsPerBand) - threshold)).toBeLessThan(0.1)
  })

  it('uses more bands for lower thresholds', () => {
    const bands = thresholds.map((t) => lshBandingFor(t).bands)
    for (let i = 1; i < bands.length; i++) expect(bands[i]).toBeLessThanOrEqual(bands[i - 1] as number)
    expect(lshBandingFor(0.5).bands).toBeGreaterThan(lshBandingFor(0.9).bands)
    expect(lshBandingFor(0.3).bands).toBeGreaterThan(lshBandingFor(0.7).bands)
  })

  it('respects a smaller signature size', () => {
    const { bands, rowsPerBand } = lshBandingFor(0.8, 32)
    expect(bands * rowsPerBand).toBeLessThanOrEqual(32)
  })

  it.each([0, 1, -0.5, 1.5, Number.NaN])('throws RangeError for threshold %d', (threshold) => {
    expect(() => lshBandingFor(threshold)).toThrow(RangeError)
  })
})

describe('lshBandKeys', () => {
  const banding = lshBandingFor(0.85)

  it('gives one safe-integer key per band, with the band number in the high part', () => {
    const keys = lshBandKeys(signature(randomWords(randomStream(5), 100)), banding)
    expect(keys.length).toBe(banding.bands)
    keys.forEach((key, band) => {
      expect(Number.isSafeInteger(key)).toBe(true)
      expect(key).toBeGreaterThanOrEqual(0)
      expect(Math.floor(key / 2 ** 32)).toBe(band)
    })
  })

  it('gives equal signatures equal keys and unrelated ones none in common', () => {
    const random = randomStream(6)
    const a = signature(randomWords(random, 200))
    expect(lshBandKeys(new Uint32Array(a), banding)).toEqual(lshBandKeys(a, banding))
    const other = lshBandKeys(signature(randomWords(random, 200)), banding)
    const keys = new Set(lshBandKeys(a, banding))
    expect(other.filter((k) => keys.has(k))).toEqual([])
  })

  it('makes near-duplicates (Jaccard ≥ 0.9) share a key at threshold 0.85 in most trials', () => {
    const random = randomStream(85)
    let found = 0
    for (let trial = 0; trial < 50; trial++) {
      const a = randomWords(random, 300)
      const b = [...a]
      // Replace two words far apart: 10 of 296 shingles change.
      const first = 20 + Math.floor(random() * 100)
      const second = first + 50 + Math.floor(random() * 100)
      b[first] = 'replacedword'
      b[second] = 'otherword'
      expect(trueJaccard(a, b)).toBeGreaterThanOrEqual(0.9)
      const keysA = new Set(lshBandKeys(signature(a), banding))
      if (lshBandKeys(signature(b), banding).some((k) => keysA.has(k))) found++
    }
    expect(found).toBeGreaterThanOrEqual(45)
  })
})
