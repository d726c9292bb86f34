/**
 * The 0/1 knapsack of ETRC's packing step (domain-rc.md §2.2, step 4): choose whole items whose token counts sum
 * to at most the capacity, maximizing their total value (by default the tokens themselves, i.e. fill the
 * context as full as possible).
 *
 * Dynamic programming over capacity: O(n·C) time, O(C) numbers for the best values plus an n×(C+1) bit table of
 * choices (n·C/8 bytes) to recover the chosen set. Meant for a pool of a few hundred items against a context of a
 * few thousand tokens (300 × 4,096 is about 150 KiB of choices).
 */

export interface KnapsackItem {
  /** Size in tokens: an integer ≥ 0. */
  readonly tokens: number
  /** What choosing the item is worth: finite. Defaults to `tokens`. */
  readonly value?: number
}

export interface KnapsackChoice {
  /** Indices of the chosen items, ascending (their original order). */
  readonly chosen: number[]
  readonly totalTokens: number
  readonly totalValue: number
}

/** The most valuable subset of `items` that fits in `capacity` tokens. Among equally valuable subsets the choice is deterministic. */
export function packKnapsack(items: readonly KnapsackItem[], capacity: number): KnapsackChoice {
  if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError(`capacity must be an integer ≥ 0; got ${capacity}`)
  items.forEach((item, index) => {
    if (!Number.isSafeInteger(item.tokens) || item.tokens < 0) throw new RangeError(`item ${index} has ${item.tokens} tokens; expected an integer ≥ 0`)
    if (item.value !== undefined && !Number.isFinite(item.value)) throw new RangeError(`item ${index} has value ${item.value}; expected a finite number`)
  })

  const width = capacity + 1
  const bestValue = new Float64Array(width)
  const taken = new Uint8Array(Math.ceil((items.length * width) / 8))
  items.forEach((item, index) => {
    const value = item.value ?? item.tokens
    if (item.tokens > capacity || value <= 0) return
    // Descending capacities so that bestValue[c - tokens] still excludes this item (each item used at most once).
    for (let c = capacity; c >= item.tokens; c--) {
      const withItem = (bestValue[c - item.tokens] ?? 0) + value
      if (withItem > (bestValue[c] ?? 0)) {
        bestValue[c] = withItem
        const bit = index * width + c
        taken[bit >> 3] = (taken[bit >> 3] ?? 0) | (1 << (bit & 7))
      }
    }
  })

  const chosen: number[] = []
  let remaining = capacity
  let totalTokens = 0
  let totalValue = 0
  for (let index = items.length - 1; index >= 0; index--) {
    const bit = index * width + remaining
    if ((((taken[bit >> 3] ?? 0) >> (bit & 7)) & 1) === 0) continue
    const item = items[index]
    if (item === undefined) continue
    chosen.push(index)
    remaining -= item.tokens
    totalTokens += item.tokens
    totalValue += item.value ?? item.tokens
  }
  chosen.reverse()
  return { chosen, totalTokens, totalValue }
}
