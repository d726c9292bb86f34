/**
 * The exact top-k cosine neighbour search of `nearestNeighbours.ts`, with the O(n²·d) work done by onnxruntime.
 * One small session holds `Gemm(queryBlock [B, d], vectors [n, d]ᵀ) → scores [B, n] → TopK(k + 1)`, so each block of
 * query rows is scored against every row by MLAS and reduced to its k + 1 best natively; only those short lists reach
 * JS, where each row's self-match is dropped and equal similarities are put in index order.
 *
 * Memory: the vectors are fed as they are (a CPU input is not copied, and Gemm's transB reads them without a
 * transposed copy), so beyond the caller's O(n·d) there is one block of scores, O(B·n), held inside ORT, and the
 * O(n·k) result. `blockRows` defaults to the largest B (at most 256) whose scores fit in 128 MiB.
 *
 * `session.run` is synchronous native work on the calling thread (specs/onnxruntime-node.md, Threading), so a whole
 * search blocks the thread it runs on except between blocks: call it from a worker or utility process for large n.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import * as ort from 'onnxruntime-node'
import { LecternError } from '../../shared/errors.js'
import { OnnxGraphBuilder } from '../autodiff/onnx/OnnxGraphBuilder.js'
import { sessionThreadOptions } from '../train/executionProviders.js'
import type { NeighbourLists } from './nearestNeighbours.js'

export interface OnnxNeighbourOptions {
  /** Neighbours kept per row (the row itself is never one of them). Defaults to `32`. */
  readonly k?: number
  /** Query rows scored per session run; between runs the event loop runs and `signal` is checked. Defaults to `defaultOnnxBlockRows(n)`. */
  readonly blockRows?: number
  /** ORT intra-op threads: pass the job's thread count. Defaults to `1`. */
  readonly threads?: number
  readonly signal?: AbortSignal
  /** Called after each block with the number of query rows done so far and the total. */
  readonly onProgress?: (rowsDone: number, rowsTotal: number) => void
}

/** Bytes one block of float32 scores may take when `blockRows` is left to the default. */
const SCORE_BLOCK_BUDGET_BYTES = 128 * 2 ** 20
/** Measured on 100k × 384 (2-core VM): 256 query rows per run beat 128 and 64, whose Gemms are too thin for MLAS. */
const MAX_DEFAULT_BLOCK_ROWS = 256
const MIN_DEFAULT_BLOCK_ROWS = 16

/** The default query rows per run for `rowCount` rows: as many as keep one block of scores within 128 MiB, from 16 up to 256. */
export function defaultOnnxBlockRows(rowCount: number): number {
  const fitting = Math.floor(SCORE_BLOCK_BUDGET_BYTES / (4 * Math.max(1, rowCount)))
  return Math.max(MIN_DEFAULT_BLOCK_ROWS, Math.min(MAX_DEFAULT_BLOCK_ROWS, fitting))
}

/**
 * The exact top-k neighbours by dot product of the rows of `vectors` (L2-normalized by the caller), with the same
 * result contract as `findNearestNeighbours`, except that similarities are ORT's float32 dot products: they can
 * differ from a float64 sum rounded to float32 by a few units in the last place, so rows whose similarities tie
 * within that rounding may come out in another order. Equal float32 similarities are ordered by lower index.
 */
export async function findNearestNeighboursOnnx(vectors: Float32Array, dimension: number, options: OnnxNeighbourOptions = {}): Promise<NeighbourLists> {
  if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be a positive integer; got ${dimension}`)
  if (vectors.length % dimension !== 0) throw new RangeError(`${vectors.length} values are not whole rows of dimension ${dimension}`)
  const rowCount = vectors.length / dimension
  const { k = 32, blockRows = defaultOnnxBlockRows(rowCount), threads = 1, signal, onProgress } = options
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer; got ${k}`)
  if (!Number.isInteger(blockRows) || blockRows < 1) throw new RangeError(`blockRows must be a positive integer; got ${blockRows}`)
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer; got ${threads}`)
  signal?.throwIfAborted()

  const indices = new Int32Array(rowCount * k).fill(-1)
  const similarities = new Float32Array(rowCount * k).fill(-Infinity)
  if (rowCount === 0) return { rowCount, k, indices, similarities }
  // One extra candidate, for the row itself: the best k others are always among the best k + 1 of all rows.
  const candidateCount = Math.min(k + 1, rowCount)
  const session = await ort.InferenceSession.create(neighbourGraph(rowCount, dimension, candidateCount), {
    ...sessionThreadOptions(threads),
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  })
  try {
    const keys = new ort.Tensor('float32', vectors, [rowCount, dimension])
    const candidates = new ScoredCandidates(candidateCount)
    for (let blockStart = 0; blockStart < rowCount; blockStart += blockRows) {
      signal?.throwIfAborted()
      const blockEnd = Math.min(rowCount, blockStart + blockRows)
      const queries = new ort.Tensor('float32', vectors.subarray(blockStart * dimension, blockEnd * dimension), [blockEnd - blockStart, dimension])
      const outputs = await session.run({ queries, keys })
      const blockSimilarities = outputs['similarities']?.data
      const blockIndices = outputs['indices']?.data
      if (!(blockSimilarities instanceof Float32Array) || !(blockIndices instanceof Int32Array)) {
        throw new LecternError('internal', 'The neighbour session returned no float32 similarities or int32 indices')
      }
      for (let query = blockStart; query < blockEnd; query++) {
        const offset = (query - blockStart) * candidateCount
        candidates.load(blockSimilarities, blockIndices, offset, query)
        candidates.writeBest(similarities, indices, query * k, k)
      }
      onProgress?.(blockEnd, rowCount)
      if (blockEnd < rowCount) await nextTurn()
    }
  } finally {
    await session.release()
  }
  return { rowCount, k, indices, similarities }
}

/** `queries [B, d]` · `keys [n, d]`ᵀ → the `candidateCount` largest scores per query row, best first, with int32 column indices. */
function neighbourGraph(rowCount: number, dimension: number, candidateCount: number): Uint8Array {
  const builder = new OnnxGraphBuilder('nearest_neighbours')
  builder.addInput('queries', 'float32', ['B', dimension])
  builder.addInput('keys', 'float32', [rowCount, dimension])
  builder.addInitializer('candidate_count', { elementType: 'int64', dims: [1], data: new BigInt64Array([BigInt(candidateCount)]) })
  builder.addNode({ opType: 'Gemm', inputs: ['queries', 'keys'], outputs: ['scores'], attributes: { transB: { int: 1 } } })
  builder.addNode({
    opType: 'TopK',
    inputs: ['scores', 'candidate_count'],
    outputs: ['similarities', 'wide_indices'],
    attributes: { axis: { int: -1 }, largest: { int: 1 }, sorted: { int: 1 } },
  })
  builder.addNode({ opType: 'Cast', inputs: ['wide_indices'], outputs: ['indices'], attributes: { to: { int: ONNX_INT32 } } })
  builder.addOutput('similarities', 'float32', ['B', candidateCount])
  builder.addOutput('indices', 'int32', ['B', candidateCount])
  return builder.toModelBytes()
}

/** TensorProto.DataType.INT32. */
const ONNX_INT32 = 6

/** One query row's TopK candidates, reused across rows: drops the row itself and orders ties by lower index. */
class ScoredCandidates {
  private readonly similarities: Float32Array
  private readonly indices: Int32Array
  private size = 0

  constructor(capacity: number) {
    this.similarities = new Float32Array(capacity)
    this.indices = new Int32Array(capacity)
  }

  /** Takes row `query`'s candidates from a TopK block (best first) and sorts them by similarity, then index. */
  load(blockSimilarities: Float32Array, blockIndices: Int32Array, offset: number, query: number): void {
    this.size = 0
    for (let i = offset; i < offset + this.similarities.length; i++) {
      const index = blockIndices[i] ?? -1
      if (index === query) continue
      this.insertInOrder(blockSimilarities[i] ?? -Infinity, index)
    }
  }

  /**
   * Writes the best `k` into `similarities`/`indices` at `base`; positions beyond the candidates keep their padding.
   * Without the row itself among the candidates (a tie with duplicates or zero rows pushed it out), the worst is dropped.
   */
  writeBest(similarities: Float32Array, indices: Int32Array, base: number, k: number): void {
    const count = Math.min(k, this.size)
    for (let i = 0; i < count; i++) {
      similarities[base + i] = this.similarities[i] ?? -Infinity
      indices[base + i] = this.indices[i] ?? -1
    }
  }

  /** Insertion sort step: TopK's output is already nearly in order, so each insertion moves past ties only. */
  private insertInOrder(similarity: number, index: number): void {
    let position = this.size
    while (position > 0) {
      const previousSimilarity = this.similarities[position - 1] ?? -Infinity
      const previousIndex = this.indices[position - 1] ?? -1
      if (previousSimilarity > similarity || (previousSimilarity === similarity && previousIndex < index)) break
      this.similarities[position] = previousSimilarity
      this.indices[position] = previousIndex
      position--
    }
    this.similarities[position] = similarity
    this.indices[position] = index
    this.size++
  }
}
