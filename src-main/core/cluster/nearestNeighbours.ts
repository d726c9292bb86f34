/**
 * Exact top-k cosine neighbours, the "nearest remaining document" look-up of ETRC's clustering
 * (domain-rc.md §2.2). Brute force on purpose: exact, deterministic, and with no index to build. It costs
 * O(n²·d) time, so it suits pools of up to some tens of thousands of documents; memory stays
 * O(n·k + blockRows·d) because only a size-k heap per query row is ever kept, never the n×n matrix.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'

export interface NearestNeighbourOptions {
  /** Neighbours kept per row (the row itself is never one of them). Defaults to `32`. */
  readonly k?: number
  /** Query rows compared against all rows per block; between blocks the event loop runs and `signal` is checked. Defaults to `512`. */
  readonly blockRows?: number
  readonly signal?: AbortSignal
  /** Called after each block with the number of query rows done so far and the total. */
  readonly onProgress?: (rowsDone: number, rowsTotal: number) => void
}

/**
 * Row i's neighbours are `indices[i*k .. i*k+k)`, most similar first, with their cosine similarities at the same
 * positions of `similarities`. Equal similarities are ordered by lower index. When fewer than k other rows exist,
 * the tail of the row holds index -1 and similarity -Infinity.
 */
export interface NeighbourLists {
  readonly rowCount: number
  readonly k: number
  readonly indices: Int32Array
  readonly similarities: Float32Array
}

/** Scales every row of the row-major `vectors` (n rows of `dimension`) to unit length, in place; zero rows stay zero. Returns `vectors`. */
export function normalizeRows(vectors: Float32Array, dimension: number): Float32Array {
  const rowCount = checkShape(vectors, dimension)
  for (let row = 0; row < rowCount; row++) {
    const start = row * dimension
    let squaredNorm = 0
    for (let i = start; i < start + dimension; i++) squaredNorm += (vectors[i] ?? 0) ** 2
    if (squaredNorm === 0) continue
    const scale = 1 / Math.sqrt(squaredNorm)
    for (let i = start; i < start + dimension; i++) vectors[i] = (vectors[i] ?? 0) * scale
  }
  return vectors
}

/** The exact top-k neighbours by dot product of the rows of `vectors`, which the caller has L2-normalized (see `normalizeRows`). */
export async function findNearestNeighbours(
  vectors: Float32Array,
  dimension: number,
  { k = 32, blockRows = 512, signal, onProgress }: NearestNeighbourOptions = {},
): Promise<NeighbourLists> {
  const rowCount = checkShape(vectors, dimension)
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer; got ${k}`)
  if (!Number.isInteger(blockRows) || blockRows < 1) throw new RangeError(`blockRows must be a positive integer; got ${blockRows}`)
  const indices = new Int32Array(rowCount * k).fill(-1)
  const similarities = new Float32Array(rowCount * k).fill(-Infinity)
  const heapSizes = new Int32Array(rowCount)
  // The heaps work in float64 so that ordering uses the exact dot products; they are rounded to float32 only at the end.
  const heapSimilarities = new Float64Array(rowCount * k).fill(-Infinity)

  for (let blockStart = 0; blockStart < rowCount; blockStart += blockRows) {
    signal?.throwIfAborted()
    const blockEnd = Math.min(rowCount, blockStart + blockRows)
    // Candidate row outermost: each candidate is read once per block and meets every query of the block while cached.
    for (let candidate = 0; candidate < rowCount; candidate++) {
      const candidateStart = candidate * dimension
      for (let query = blockStart; query < blockEnd; query++) {
        if (query === candidate) continue
        const similarity = dot(vectors, query * dimension, candidateStart, dimension)
        offerToHeap(heapSimilarities, indices, heapSizes, query, k, similarity, candidate)
      }
    }
    for (let query = blockStart; query < blockEnd; query++) sortHeapDescending(heapSimilarities, indices, heapSizes[query] ?? 0, query * k)
    onProgress?.(blockEnd, rowCount)
    if (blockEnd < rowCount) await nextTurn()
  }
  for (let i = 0; i < similarities.length; i++) similarities[i] = heapSimilarities[i] ?? -Infinity
  return { rowCount, k, indices, similarities }
}

function checkShape(vectors: Float32Array, dimension: number): number {
  if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be a positive integer; got ${dimension}`)
  if (vectors.length % dimension !== 0) throw new RangeError(`${vectors.length} values are not whole rows of dimension ${dimension}`)
  return vectors.length / dimension
}

function dot(vectors: Float32Array, startA: number, startB: number, dimension: number): number {
  let sum = 0
  for (let i = 0; i < dimension; i++) sum += (vectors[startA + i] ?? 0) * (vectors[startB + i] ?? 0)
  return sum
}

/** True when neighbour (simA, indexA) ranks before (simB, indexB). */
function ranksBefore(simA: number, indexA: number, simB: number, indexB: number): boolean {
  return simA > simB || (simA === simB && indexA < indexB)
}

/** Each query row's slot holds a binary heap whose root is its worst kept neighbour. */
function offerToHeap(
  heapSimilarities: Float64Array,
  indices: Int32Array,
  heapSizes: Int32Array,
  query: number,
  k: number,
  similarity: number,
  candidate: number,
): void {
  const base = query * k
  const size = heapSizes[query] ?? 0
  if (size < k) {
    let position = size
    heapSizes[query] = size + 1
    while (position > 0) {
      const parent = (position - 1) >> 1
      const parentSimilarity = heapSimilarities[base + parent] ?? 0
      const parentIndex = indices[base + parent] ?? 0
      if (!ranksBefore(parentSimilarity, parentIndex, similarity, candidate)) break
      heapSimilarities[base + position] = parentSimilarity
      indices[base + position] = parentIndex
      position = parent
    }
    heapSimilarities[base + position] = similarity
    indices[base + position] = candidate
    return
  }
  if (!ranksBefore(similarity, candidate, heapSimilarities[base] ?? 0, indices[base] ?? 0)) return
  siftDownFromRoot(heapSimilarities, indices, base, k, similarity, candidate)
}

/** Places (similarity, index) at the root of the heap of `size` at `base` and restores the worst-at-root order. */
function siftDownFromRoot(heapSimilarities: Float64Array, indices: Int32Array, base: number, size: number, similarity: number, index: number): void {
  let position = 0
  for (;;) {
    const left = 2 * position + 1
    if (left >= size) break
    const right = left + 1
    let worse = left
    if (
      right < size &&
      ranksBefore(heapSimilarities[base + left] ?? 0, indices[base + left] ?? 0, heapSimilarities[base + right] ?? 0, indices[base + right] ?? 0)
    ) {
      worse = right
    }
    const worseSimilarity = heapSimilarities[base + worse] ?? 0
    const worseIndex = indices[base + worse] ?? 0
    if (!ranksBefore(similarity, index, worseSimilarity, worseIndex)) break
    heapSimilarities[base + position] = worseSimilarity
    indices[base + position] = worseIndex
    position = worse
  }
  heapSimilarities[base + position] = similarity
  indices[base + position] = index
}

/** Heap sort in place: popping the worst to the end each time leaves the slot best-first. */
function sortHeapDescending(heapSimilarities: Float64Array, indices: Int32Array, size: number, base: number): void {
  for (let end = size - 1; end > 0; end--) {
    const worstSimilarity = heapSimilarities[base] ?? 0
    const worstIndex = indices[base] ?? 0
    siftDownFromRoot(heapSimilarities, indices, base, end, heapSimilarities[base + end] ?? 0, indices[base + end] ?? 0)
    heapSimilarities[base + end] = worstSimilarity
    indices[base + end] = worstIndex
  }
}
