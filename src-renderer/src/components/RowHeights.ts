/**
 * The heights of a long list's rows, each an estimate until it is measured, kept in a Fenwick tree so that a row's
 * offset and the row at an offset are found in O(log n) however many rows there are.
 */
export class RowHeights {
  private heights: Float64Array
  /** tree[i] holds the sum of heights[i - lowbit(i) .. i - 1] (1-based positions). */
  private tree: Float64Array

  constructor(
    count: number,
    private readonly estimate: number,
  ) {
    this.heights = new Float64Array(count).fill(estimate)
    this.tree = RowHeights.treeOf(this.heights)
  }

  get count(): number {
    return this.heights.length
  }

  /** Makes the list `count` rows long, keeping the heights of the rows it still has; added rows get the estimate. */
  resize(count: number): void {
    if (count === this.count) return
    const heights = new Float64Array(count).fill(this.estimate)
    heights.set(this.heights.subarray(0, Math.min(count, this.count)))
    this.heights = heights
    this.tree = RowHeights.treeOf(heights)
  }

  /** Builds the tree in O(n): each position adds its sum into its parent's. */
  private static treeOf(heights: Float64Array): Float64Array {
    const count = heights.length
    const tree = new Float64Array(count + 1)
    for (let position = 1; position <= count; position++) {
      tree[position]! += heights[position - 1]!
      const parent = position + (position & -position)
      if (parent <= count) tree[parent]! += tree[position]!
    }
    return tree
  }

  heightOf(index: number): number {
    return this.heights[index] ?? 0
  }

  /** Sets a row's measured height; false when it already had that height. */
  set(index: number, height: number): boolean {
    const delta = height - this.heightOf(index)
    if (index < 0 || index >= this.count || Math.abs(delta) < 0.5) return false
    this.heights[index] = height
    for (let position = index + 1; position <= this.count; position += position & -position) this.tree[position]! += delta
    return true
  }

  /** The summed height of the rows before `index`. */
  offsetOf(index: number): number {
    let sum = 0
    for (let position = Math.min(index, this.count); position > 0; position -= position & -position) sum += this.tree[position]!
    return sum
  }

  total(): number {
    return this.offsetOf(this.count)
  }

  /** The row that covers `offset` (the first row at or before 0, the last one past the end). */
  indexAt(offset: number): number {
    if (this.count === 0) return 0
    let position = 0
    let rest = offset
    for (let step = 2 ** Math.floor(Math.log2(this.count)); step > 0; step >>= 1) {
      const next = position + step
      if (next <= this.count && this.tree[next]! <= rest) {
        position = next
        rest -= this.tree[next]!
      }
    }
    return Math.min(position, this.count - 1)
  }
}
