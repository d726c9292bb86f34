/** A source of uniform floats in [0, 1), e.g. `randomStream(seed, ...keys)` from `core/train/random.ts`. */
export type UniformRandom = () => number

/** A uniform index in [0, count). */
export function randomIndex(random: UniformRandom, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`randomIndex needs a positive integer count; got ${count}`)
  return Math.min(count - 1, Math.floor(random() * count))
}

/** One element, chosen uniformly. */
export function pickOne<T>(random: UniformRandom, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pickOne needs at least one item')
  return items[randomIndex(random, items.length)] as T
}

/** A shuffled copy (Fisher–Yates). */
export function shuffled<T>(random: UniformRandom, items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomIndex(random, i + 1)
    const swap = out[i] as T
    out[i] = out[j] as T
    out[j] = swap
  }
  return out
}

/** An index into `weights` (non-negative, not all zero), chosen with probability proportional to its weight. */
export function pickWeighted(random: UniformRandom, weights: readonly number[]): number {
  const total = weights.reduce((sum, w) => sum + w, 0)
  if (!(total > 0)) throw new RangeError('pickWeighted needs a positive total weight')
  let remaining = random() * total
  for (let i = 0; i < weights.length; i++) {
    remaining -= weights[i] ?? 0
    if (remaining < 0) return i
  }
  return weights.length - 1
}
