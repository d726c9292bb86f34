/**
 * MinHash signatures of word shingles, computed with one-permutation hashing: each shingle is hashed once
 * and lands in one of `MINHASH_SIZE` bins, each bin keeping its minimum (Li, Owen & Zhang 2012); empty bins
 * borrow from the next non-empty bin to their right (rotation densification, Shrivastava & Li 2014). The
 * share of equal bins between two signatures estimates the Jaccard similarity of their shingle sets, at
 * the cost of one hash per shingle instead of one per shingle and permutation.
 */

import { fmix32 } from '../train/random.js'

export const MINHASH_SIZE = 128
const BIN_BITS = 7 // log2(MINHASH_SIZE)
/** Words per shingle. */
export const SHINGLE_WORDS = 5
const EMPTY = 0xffffffff

let wordBuffer: Int32Array = new Int32Array(4096)

/** FNV-1a hashes of the words of `text` (letters and digits, ASCII lower-cased), in order, in a shared buffer. */
function wordHashes(text: string): { hashes: Int32Array; count: number } {
  let count = 0
  let hash = 0x811c9dc5 | 0
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i)
    const isWordChar = (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 0xc0 && !isSeparator(code))
    if (isWordChar) {
      if (code >= 65 && code <= 90) code += 32
      hash = Math.imul(hash ^ code, 0x01000193)
      inWord = true
    } else if (inWord) {
      if (count === wordBuffer.length) wordBuffer = growBuffer(wordBuffer)
      wordBuffer[count++] = hash
      hash = 0x811c9dc5 | 0
      inWord = false
    }
  }
  if (inWord) {
    if (count === wordBuffer.length) wordBuffer = growBuffer(wordBuffer)
    wordBuffer[count++] = hash
  }
  return { hashes: wordBuffer, count }
}

function growBuffer(buffer: Int32Array): Int32Array {
  const grown = new Int32Array(buffer.length * 2)
  grown.set(buffer)
  return grown
}

function isSeparator(code: number): boolean {
  return (code >= 0x2000 && code <= 0x206f) || (code >= 0x3000 && code <= 0x303f) || code === 0xa0 || code === 0xfeff
}

// Shingle hashes are a polynomial in the word hashes, rolled along the text: one multiply per word.
const ROLL_BASE = 0x01000193
const ROLL_BASE_POWER = ((): number => {
  let power = 1
  for (let i = 1; i < SHINGLE_WORDS; i++) power = Math.imul(power, ROLL_BASE)
  return power
})()

/**
 * The signature of a text, or null when it has no words. Texts shorter than one shingle use the whole
 * word sequence as their single shingle.
 */
export function minHashSignature(text: string): Uint32Array | null {
  const { hashes: words, count } = wordHashes(text)
  if (count === 0) return null
  const bins = new Uint32Array(MINHASH_SIZE).fill(EMPTY)
  const width = Math.min(SHINGLE_WORDS, count)
  let rolling = 0
  for (let w = 0; w < width; w++) rolling = (Math.imul(rolling, ROLL_BASE) + (words[w] as number)) | 0
  for (let w = width; w <= count; w++) {
    if (w > width) rolling = (Math.imul(rolling - Math.imul(words[w - 1 - width] as number, ROLL_BASE_POWER), ROLL_BASE) + (words[w - 1] as number)) | 0
    const hashed = fmix32(rolling)
    const bin = hashed >>> (32 - BIN_BITS)
    const value = (Math.imul(hashed, 0x9e3779b1) ^ (hashed >>> 15)) >>> 1 // 31 bits, so EMPTY never collides with a value
    if (value < (bins[bin] as number)) bins[bin] = value
  }
  densify(bins)
  return bins
}

function densify(bins: Uint32Array): void {
  const filled: number[] = []
  for (let i = 0; i < bins.length; i++) if (bins[i] !== EMPTY) filled.push(i)
  if (filled.length === bins.length || filled.length === 0) return
  const source = new Uint32Array(bins)
  for (let i = 0; i < bins.length; i++) {
    if (source[i] !== EMPTY) continue
    let distance = 1
    while (source[(i + distance) % bins.length] === EMPTY) distance++
    // Offsetting by the distance keeps bins filled from different neighbours from agreeing by accident.
    bins[i] = (fmix32((source[(i + distance) % bins.length] as number) + distance * 0x9e3779b9) >>> 1) | 0
  }
}

/** Estimated Jaccard similarity: the share of bins where two signatures agree. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  let equal = 0
  for (let i = 0; i < MINHASH_SIZE; i++) if (a[i] === b[i]) equal++
  return equal / MINHASH_SIZE
}

export interface LshBanding {
  bands: number
  rowsPerBand: number
}

/**
 * Bands × rows for a Jaccard threshold, chosen to minimise the sum of the false-positive and false-negative
 * probability mass around the threshold (the usual LSH tuning; candidates are then checked against the
 * threshold with the full signature, so false positives cost only time).
 */
export function lshBandingFor(threshold: number, size = MINHASH_SIZE): LshBanding {
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`near-duplicate threshold must be between 0 and 1 (got ${threshold})`)
  const collide = (s: number, bands: number, rows: number): number => 1 - (1 - s ** rows) ** bands
  const integrate = (f: (s: number) => number, from: number, to: number): number => {
    const steps = 200
    const dx = (to - from) / steps
    let sum = 0
    for (let i = 0; i < steps; i++) sum += f(from + (i + 0.5) * dx) * dx
    return sum
  }
  let best: LshBanding = { bands: 1, rowsPerBand: size }
  let bestError = Infinity
  for (let bands = 1; bands <= size; bands++) {
    const rows = Math.floor(size / bands)
    const falsePositive = integrate((s) => collide(s, bands, rows), 0, threshold)
    // Missing a true near-duplicate is worse than checking a false candidate.
    const falseNegative = integrate((s) => 1 - collide(s, bands, rows), threshold, 1)
    const error = 0.3 * falsePositive + 0.7 * falseNegative
    if (error < bestError) {
      bestError = error
      best = { bands, rowsPerBand: rows }
    }
  }
  return best
}

/**
 * One key per band: the band number in the high bits, a 32-bit hash of the band's rows in the low bits
 * (a safe integer, stored as a SQLite INTEGER).
 */
export function lshBandKeys(signature: Uint32Array, banding: LshBanding): number[] {
  const keys: number[] = []
  for (let band = 0; band < banding.bands; band++) {
    let h = 0x811c9dc5 ^ band
    for (let row = 0; row < banding.rowsPerBand; row++) h = fmix32(h ^ (signature[band * banding.rowsPerBand + row] as number))
    keys.push(band * 0x100000000 + h)
  }
  return keys
}
