/** Comparisons of next-token distributions, one Float64Array over the vocabulary per position. */

/** The architectures and head tying every parity test covers. */
export const TINY_PARITY_CASES = [
  ['llama', false],
  ['llama', true],
  ['qwen2', false],
  ['qwen3', false],
] as const

/** Largest |p − q| over all positions and tokens. */
export function maxAbsDiff(p: readonly ArrayLike<number>[], q: readonly ArrayLike<number>[]): number {
  let worst = 0
  p.forEach((row, t) => {
    for (let i = 0; i < row.length; i++) worst = Math.max(worst, Math.abs(row[i]! - q[t]![i]!))
  })
  return worst
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i
  return best
}

/** Mean over positions of KL(reference ‖ other). */
export function meanKl(reference: readonly ArrayLike<number>[], other: readonly ArrayLike<number>[]): number {
  let total = 0
  reference.forEach((p, position) => {
    const q = other[position]!
    for (let i = 0; i < p.length; i++) if (p[i]! > 0) total += p[i]! * Math.log(p[i]! / Math.max(q[i]!, 1e-30))
  })
  return total / reference.length
}
