import { fmix32 } from '../train/random.js'

/**
 * A Bloom filter of 53-bit keys with a fixed size: "certainly absent" or "maybe present". The import asks it
 * before looking a chunk's hash or LSH band keys up in SQLite: most chunks have no duplicate, so most
 * lookups are skipped, while the memory stays the same however large the corpus is. A fuller filter only
 * answers "maybe" more often, and SQLite decides.
 */
export class KeyFilter {
  private readonly bits: Uint32Array
  private readonly mask: number

  /** `log2Bits` bits of filter: the default 2^27 is 16 MiB, about 1% false positives at 10 million keys. */
  constructor(log2Bits = 27) {
    this.bits = new Uint32Array(2 ** (log2Bits - 5))
    this.mask = 2 ** log2Bits - 1
  }

  add(key: number): void {
    const [a, b] = probes(key)
    for (let i = 0; i < PROBES; i++) {
      const bit = (a + Math.imul(i, b)) & this.mask
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31))
    }
  }

  mightContain(key: number): boolean {
    const [a, b] = probes(key)
    for (let i = 0; i < PROBES; i++) {
      const bit = (a + Math.imul(i, b)) & this.mask
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false
    }
    return true
  }
}

const PROBES = 3

/** Two independent 32-bit hashes of a key (double hashing gives the probes). */
function probes(key: number): [number, number] {
  const low = key >>> 0
  const high = Math.floor(key / 0x100000000) >>> 0
  return [fmix32(low ^ fmix32(high ^ 0x9e3779b9)), fmix32(high ^ fmix32(low ^ 0x7f4a7c15)) | 1]
}

/** A chunk hash as a key for the filter: its first six bytes (the filter only needs them spread). */
export function hashKey(hash: Uint8Array): number {
  const low = (((hash[0] as number) << 24) | ((hash[1] as number) << 16) | ((hash[2] as number) << 8) | (hash[3] as number)) >>> 0
  const high = ((hash[4] as number) << 8) | (hash[5] as number)
  return high * 0x100000000 + low
}
