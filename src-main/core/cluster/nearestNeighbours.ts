/**
 * Exact top-k cosine neighbours, the "nearest remaining document" look-up of ETRC's clustering
 * (domain-rc.md §2.2). Brute force on purpose: exact, deterministic, and with no index to build. It costs
 * O(n²·d) time and never holds the n×n matrix. Two engines do the work:
 * - `'onnx'` (onnxNeighbours.ts): blocks of query rows go through an ORT Gemm + TopK session at MLAS speed
 *   (40–60 GFLOP/s on one core, Gemm and TopK together); memory O(n·k) plus one O(blockRows·n) block of scores
 *   inside ORT.
 * - `'js'`: plain JS with a size-k heap per query row, about 0.35 GFLOP/s (n = 800, d = 384, k = 72); memory
 *   O(n·k + blockRows·d). It keeps float64 dot products, so its order is exact. It is the quicker one only for
 *   small inputs, where building an ORT session costs more than the search.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { findNearestNeighboursOnnx } from './onnxNeighbours.js'

export type NeighbourEngine = 'auto' | 'js' | 'onnx'

export interface NearestNeighbourOptions {
  /** Neighbours kept per row (the row itself is never one of them). Defaults to `32`. */
  readonly k?: number
  /**
   * Query rows compared against all rows per block; between blocks the event loop runs and `signal` is checked.
   * Defaults to `512` for the JS engine and to `defaultOnnxBlockRows(n)` (at most 256) for the ORT engine.
   */
  readonly blockRows?: number
  /**
   * `'auto'` takes ORT when the search is big enough for it to win (see `prefersOnnxEngine`), JS otherwise.
   * Defaults to `'auto'`.
   */
  readonly engine?: NeighbourEngine
  /** Intra-op threads of the ORT engine: pass the job's thread count. The JS engine is single-threaded. Defaults to `1`. */
  readonly threads?: number
  readonly signal?: AbortSignal
  /** Called after each block with the number of query rows done so far and the total. */
  readonly onProgress?: (rowsDone: number, rowsTotal: number) => void
}

/**
 * Row i's neighbours are `indices[i*k .. i*k+k)`, most similar first, with their cosine similarities at the same
 * positions of `similarities`. Equal similarities are ordered by lower index. When fewer than k other rows exist,
 * the tail of the row holds index -1 and similarity -Infinity. The ORT engine's similarities are float32 dot
 * products, within about 1e-6 of the JS engine's float64 ones, so rows that tie within that rounding may be ordered
 * differently by the two engines.
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

/**
 * Below this many multiply-adds (n²·d) the JS engine finishes before ORT has built its session (about 3 ms). Measured
 * on the 2-core VM, best of 9, k = 32, JS against ORT: d = 384: n = 50 3.0 / 3.3 ms, n = 70 5.6 / 3.2 ms; d = 64:
 * n = 100 2.3 / 2.5 ms, n = 160 5.6 / 3.5 ms; d = 16: n = 300 9.2 / 13.2 ms, n = 400 17.1 / 11.3 ms.
 */
const ONNX_MIN_MULTIPLY_ADDS = 1_000_000

/** Whether `engine: 'auto'` uses ORT for `rowCount` rows of `dimension`: when n²·d reaches one million. */
export function prefersOnnxEngine(rowCount: number, dimension: number): boolean {
  return rowCount * rowCount * dimension >= ONNX_MIN_MULTIPLY_ADDS
}

/** The exact top-k neighbours by dot product of the rows of `vectors`, which the caller has L2-normalized (see `normalizeRows`). */
export async function findNearestNeighbours(vectors: Float32Array, dimension: number, options: NearestNeighbourOptions = {}): Promise<NeighbourLists> {
  const { engine = 'auto', threads, ...searchOptions } = options
  const rowCount = checkShape(vectors, dimension)
  if (engine !== 'auto' && engine !== 'js' && engine !== 'onnx') throw new RangeError(`engine must be 'auto', 'js' or 'onnx'; got ${String(engine)}`)
  if (engine === 'onnx' || (engine === 'auto' && prefersOnnxEngine(rowCount, dimension))) {
    return findNearestNeighboursOnnx(vectors, dimension, { ...searchOptions, ...(threads === undefined ? {} : { threads }) })
  }
  return findNearestNeighboursJs(vectors, dimension, searchOptions)
}

async function findNearestNeighboursJs(
  vectors: Float32Array,
  dimension: number,
  { k = 32, blockRows = 512, signal, onProgress }: Omit<NearestNeighbourOptions, 'engine' | 'threads'>,
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

/** Four independent partial sums, so the adds need not wait on each other: 1.4× the whole JS search with one running sum. */
function dot(vectors: Float32Array, startA: number, startB: number, dimension: number): number {
  let sum0 = 0
  let sum1 = 0
  let sum2 = 0
  let sum3 = 0
  const unrolledEnd = dimension - (dimension % 4)
  let i = 0
  for (; i < unrolledEnd; i += 4) {
    sum0 += (vectors[startA + i] ?? 0) * (vectors[startB + i] ?? 0)
    sum1 += (vectors[startA + i + 1] ?? 0) * (vectors[startB + i + 1] ?? 0)
    sum2 += (vectors[startA + i + 2] ?? 0) * (vectors[startB + i + 2] ?? 0)
    sum3 += (vectors[startA + i + 3] ?? 0) * (vectors[startB + i + 3] ?? 0)
  }
  for (; i < dimension; i++) sum0 += (vectors[startA + i] ?? 0) * (vectors[startB + i] ?? 0)
  return sum0 + sum1 + (sum2 + sum3)
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
