/**
 * Seeded pseudo-random numbers for training (data order, dropout masks, adapter init). Never `Math.random`: a
 * resumed run has to draw exactly the numbers the uninterrupted run would have drawn.
 *
 * The generator is xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2018; the
 * reference is xoshiro128starstar.c): 32-bit words, so every step is plain `Math.imul` and shifts, and its whole
 * state is four numbers that a checkpoint can store as JSON.
 *
 * `randomStream(seed, ...keys)` is the counter-based entry: it hashes (seed, keys) into a fresh generator state,
 * so "the dropout mask of step s, micro-batch m, site j" is `randomStream(seed, s, m, j)`, regenerated at any time
 * without replaying earlier draws.
 */

/** The four 32-bit words of a generator, as plain numbers (JSON-able). */
export type RandomState = readonly [number, number, number, number]

/** A key of a derived stream: a safe integer (step, micro-batch, site…) or a short label (`'batchOrder'`). */
export type RandomKey = number | string

export interface SeededRandom {
  /** Uniform in [0, 1), in steps of 2^-32. A closure over its generator, so it can be passed around alone. */
  readonly nextFloat: () => number
  /** Uniform integer in [0, 2^32). */
  readonly nextUint32: () => number
  /** Uniform integer in [0, n) without modulo bias; `n` is an integer in [1, 2^32]. */
  readonly nextBelow: (n: number) => number
  /** A copy of the current state: `randomFromState(r.state())` draws what `r` would draw next. */
  readonly state: () => RandomState
}

const TWO_POW_32 = 2 ** 32

/** A generator seeded from `seed` (any safe integer, negative included). Equal to `randomStream(seed)` with no keys. */
export function seededRandom(seed: number): SeededRandom {
  return generator(deriveState(seed, []))
}

/** A generator that continues from a state returned by `state()`. */
export function randomFromState(state: RandomState): SeededRandom {
  if (!Array.isArray(state) || state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)) {
    throw new RangeError(`A random generator state is four integers in [0, 2^32); got ${JSON.stringify(state)}`)
  }
  if (state.every((w) => w === 0)) throw new RangeError('A random generator state cannot be all zeros (xoshiro128** would only ever return 0)')
  return generator([state[0], state[1], state[2], state[3]])
}

/**
 * Uniform floats in [0, 1) from the stream named by (seed, ...keys). The same arguments always give the same
 * numbers, and streams with different keys (or a different number of keys) are unrelated.
 */
export function randomStream(seed: number, ...keys: RandomKey[]): () => number {
  return generator(deriveState(seed, keys)).nextFloat
}

/**
 * Fills `out` with an inverted-dropout mask from the stream named by (seed, ...keys): 0 where the draw is below
 * `p` (with probability p), else 1/(1 − p). The same values as `randomStream(seed, ...keys)() < p ? 0 : 1/(1 − p)`
 * element by element (u / 2^32 < p exactly when u < p·2^32: both scalings by 2^32 are exact), with the
 * generator's state in locals instead of a closure: about twice as fast on tens of millions of draws.
 */
export function fillDropoutMask(out: Float32Array, p: number, seed: number, ...keys: RandomKey[]): Float32Array {
  if (!(p >= 0 && p < 1)) throw new RangeError(`A dropout probability is in [0, 1); got ${p}`)
  let [s0, s1, s2, s3] = deriveState(seed, keys)
  const threshold = p * TWO_POW_32
  const keep = 1 / (1 - p)
  for (let i = 0; i < out.length; i++) {
    // xoshiro128**, as in `generator`.
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 11)
    out[i] = result < threshold ? 0 : keep
  }
  return out
}

/** Like `randomStream`, with the whole generator (integers, saved state). */
export function derivedRandom(seed: number, ...keys: RandomKey[]): SeededRandom {
  return generator(deriveState(seed, keys))
}

function generator(initial: [number, number, number, number]): SeededRandom {
  let [s0, s1, s2, s3] = initial
  // xoshiro128**: result = rotl(s1 * 5, 7) * 9, then the linear xorshift update of the state.
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 11)
    return result
  }
  const nextBelow = (n: number): number => {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new RangeError(`nextBelow(n) needs an integer n in [1, 2^32]; got ${n}`)
    // Rejection sampling: draws at or above the largest multiple of n below 2^32 would favour small results.
    const limit = TWO_POW_32 - (TWO_POW_32 % n)
    for (;;) {
      const x = nextUint32()
      if (x < limit) return x % n
    }
  }
  return {
    nextFloat: () => nextUint32() / TWO_POW_32,
    nextUint32,
    nextBelow,
    state: () => [s0 >>> 0, s1 >>> 0, s2 >>> 0, s3 >>> 0],
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/**
 * 128 bits of state from (seed, keys): the arguments become a list of 32-bit words, each key tagged with its type
 * (and a string with its length), so no two argument lists share a list (`(1, 2)`, `(1, '2')`, `(1)` and `(1, 0)` all
 * differ); the list is hashed by MurmurHash3 x86_32 (which mixes in its length) under four different seeds.
 */
function deriveState(seed: number, keys: readonly RandomKey[]): [number, number, number, number] {
  const words: number[] = integerWords(seed, 'seed')
  keys.forEach((key, i) => {
    if (typeof key === 'number') words.push(1, ...integerWords(key, `key ${i}`))
    else {
      words.push(2, key.length)
      for (let c = 0; c < key.length; c++) words.push(key.charCodeAt(c))
    }
  })
  const state: [number, number, number, number] = [murmur3(words, 0x243f6a88), murmur3(words, 0x85a308d3), murmur3(words, 0x13198a2e), murmur3(words, 0x03707344)]
  if (state.every((w) => w === 0)) state[0] = 1
  return state
}

function integerWords(value: number, what: string): [number, number] {
  if (!Number.isSafeInteger(value)) throw new RangeError(`A random ${what} must be a safe integer; got ${value}`)
  const bits = BigInt.asUintN(64, BigInt(value))
  return [Number(bits & 0xffffffffn), Number(bits >> 32n)]
}

function murmur3(words: readonly number[], seed: number): number {
  let h = seed | 0
  for (const word of words) {
    let k = Math.imul(word, 0xcc9e2d51)
    k = rotl(k, 15)
    k = Math.imul(k, 0x1b873593)
    h ^= k
    h = rotl(h, 13)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  h ^= words.length * 4
  return fmix32(h)
}

/** MurmurHash3's finalizer: mixes every input bit into every output bit (an unsigned 32-bit result). */
export function fmix32(value: number): number {
  let h = value | 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
