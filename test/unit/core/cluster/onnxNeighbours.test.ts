import { describe, expect, it } from 'vitest'
import { findNearestNeighbours, type NeighbourLists, normalizeRows, prefersOnnxEngine } from '../../../../src-main/core/cluster/nearestNeighbours.js'
import { defaultOnnxBlockRows, findNearestNeighboursOnnx } from '../../../../src-main/core/cluster/onnxNeighbours.js'
import { randomStream } from '../../../../src-main/core/train/random.js'

/** Float32 rounding of a 384-term dot product of unit vectors stays far below this. */
const TOLERANCE = 1e-5

function randomRows(seed: number, rowCount: number, dimension: number): Float32Array {
  const random = randomStream(seed)
  return Float32Array.from({ length: rowCount * dimension }, () => random() * 2 - 1)
}

function cosine(vectors: Float32Array, dimension: number, a: number, b: number): number {
  let sum = 0
  for (let i = 0; i < dimension; i++) sum += (vectors[a * dimension + i] ?? 0) * (vectors[b * dimension + i] ?? 0)
  return sum
}

/** Each row's other rows in float64, best first, ties by lower index. */
function rankedOthers(vectors: Float32Array, dimension: number): { index: number; similarity: number }[][] {
  const rowCount = vectors.length / dimension
  return Array.from({ length: rowCount }, (_, query) => {
    const scored: { index: number; similarity: number }[] = []
    for (let other = 0; other < rowCount; other++) if (other !== query) scored.push({ index: other, similarity: cosine(vectors, dimension, query, other) })
    return scored.sort((a, b) => b.similarity - a.similarity || a.index - b.index)
  })
}

/**
 * The lists equal brute force: every similarity within TOLERANCE of the exact one at that rank and of the exact
 * cosine of the index reported, indices distinct and never the row itself, and an index differing from brute force's
 * only where the two candidates' similarities tie within TOLERANCE. Returns how many positions held such a near-tie.
 */
function expectEqualsBruteForce(lists: NeighbourLists, vectors: Float32Array, dimension: number): number {
  const { rowCount, k } = lists
  expect(rowCount).toBe(vectors.length / dimension)
  let nearTies = 0
  rankedOthers(vectors, dimension).forEach((expected, row) => {
    const got = Array.from(lists.indices.subarray(row * k, row * k + k))
    const gotSimilarities = Array.from(lists.similarities.subarray(row * k, row * k + k))
    const kept = Math.min(k, rowCount - 1)
    expect(got.slice(kept)).toEqual(new Array<number>(k - kept).fill(-1))
    expect(gotSimilarities.slice(kept)).toEqual(new Array<number>(k - kept).fill(-Infinity))
    expect(new Set(got.slice(0, kept)).size).toBe(kept)
    for (let rank = 0; rank < kept; rank++) {
      const index = got[rank] ?? -1
      const reference = expected[rank] ?? { index: -2, similarity: Number.NaN }
      expect(index).not.toBe(row)
      expect(index).toBeGreaterThanOrEqual(0)
      expect(Math.abs((gotSimilarities[rank] ?? 0) - reference.similarity)).toBeLessThanOrEqual(TOLERANCE)
      expect(Math.abs((gotSimilarities[rank] ?? 0) - cosine(vectors, dimension, row, index))).toBeLessThanOrEqual(TOLERANCE)
      if (index !== reference.index) {
        nearTies++
        expect(Math.abs(cosine(vectors, dimension, row, index) - reference.similarity)).toBeLessThanOrEqual(TOLERANCE)
      }
    }
  })
  return nearTies
}

describe('findNearestNeighboursOnnx', () => {
  const cases = [
    { rowCount: 300, dimension: 384, k: 10, blockRows: undefined },
    { rowCount: 257, dimension: 64, k: 32, blockRows: 100 },
    { rowCount: 60, dimension: 8, k: 5, blockRows: 7 },
    { rowCount: 40, dimension: 3, k: 39, blockRows: 13 },
    { rowCount: 40, dimension: 16, k: 45, blockRows: 1 },
  ]
  it.each(cases)('equals brute force (n=$rowCount, d=$dimension, k=$k, blockRows=$blockRows)', async ({ rowCount, dimension, k, blockRows }) => {
    const vectors = normalizeRows(randomRows(rowCount * 7 + k, rowCount, dimension), dimension)
    const lists = await findNearestNeighboursOnnx(vectors, dimension, { k, ...(blockRows === undefined ? {} : { blockRows }) })
    // Random unit vectors almost never tie within 1e-5, so nearly every index must match exactly.
    expect(expectEqualsBruteForce(lists, vectors, dimension)).toBeLessThanOrEqual(2)
  })

  it('equals brute force with duplicate rows, ranking exact ties by lower index', async () => {
    const dimension = 32
    const distinct = normalizeRows(randomRows(11, 20, dimension), dimension)
    // Rows 0..19 distinct, then three more copies of each, interleaved: row r duplicates row r mod 20.
    const vectors = new Float32Array(80 * dimension)
    for (let row = 0; row < 80; row++) vectors.set(distinct.subarray((row % 20) * dimension, (row % 20 + 1) * dimension), row * dimension)
    const lists = await findNearestNeighboursOnnx(vectors, dimension, { k: 6, blockRows: 32 })
    expectEqualsBruteForce(lists, vectors, dimension)
    for (let row = 0; row < 80; row++) {
      const copies = [row % 20, row % 20 + 20, row % 20 + 40, row % 20 + 60].filter((copy) => copy !== row)
      expect(Array.from(lists.indices.subarray(row * 6, row * 6 + 3))).toEqual(copies)
    }
  })

  it('equals brute force with zero rows, whose neighbours are the lowest other indices', async () => {
    const dimension = 24
    const vectors = normalizeRows(randomRows(12, 50, dimension), dimension)
    for (const zeroRow of [0, 3, 4, 49]) vectors.fill(0, zeroRow * dimension, (zeroRow + 1) * dimension)
    const lists = await findNearestNeighboursOnnx(vectors, dimension, { k: 8 })
    expectEqualsBruteForce(lists, vectors, dimension)
    expect(Array.from(lists.indices.subarray(3 * 8, 4 * 8))).toEqual([0, 1, 2, 4, 5, 6, 7, 8])
    expect(Array.from(lists.similarities.subarray(3 * 8, 4 * 8))).toEqual(new Array<number>(8).fill(0))
  })

  it('orders equal similarities by lower index, as the JS engine does', async () => {
    const vectors = normalizeRows(new Float32Array([1, 0, 1, 0, 1, 0, 1, 0]), 2)
    const lists = await findNearestNeighboursOnnx(vectors, 2, { k: 3 })
    expect(Array.from(lists.indices)).toEqual([1, 2, 3, 0, 2, 3, 0, 1, 3, 0, 1, 2])
    expect(Array.from(lists.similarities)).toEqual(new Array<number>(12).fill(1))
  })

  it('handles no rows and a single row', async () => {
    const none = await findNearestNeighboursOnnx(new Float32Array(0), 4, { k: 2 })
    expect(none).toEqual({ rowCount: 0, k: 2, indices: new Int32Array(0), similarities: new Float32Array(0) })
    const one = await findNearestNeighboursOnnx(normalizeRows(new Float32Array([1, 2, 3, 4]), 4), 4, { k: 2 })
    expect(Array.from(one.indices)).toEqual([-1, -1])
    expect(Array.from(one.similarities)).toEqual([-Infinity, -Infinity])
  })

  it('gives the same lists with two threads', async () => {
    const vectors = normalizeRows(randomRows(13, 200, 48), 48)
    const single = await findNearestNeighboursOnnx(vectors, 48, { k: 7 })
    const double = await findNearestNeighboursOnnx(vectors, 48, { k: 7, threads: 2 })
    expect(Array.from(double.indices)).toEqual(Array.from(single.indices))
    for (let i = 0; i < single.similarities.length; i++) expect(Math.abs((double.similarities[i] ?? 0) - (single.similarities[i] ?? 0))).toBeLessThanOrEqual(TOLERANCE)
  })

  it('reports progress per block and stops when aborted', async () => {
    const vectors = normalizeRows(randomRows(14, 50, 4), 4)
    const progress: number[] = []
    await findNearestNeighboursOnnx(vectors, 4, { k: 3, blockRows: 20, onProgress: (done, total) => progress.push(done, total) })
    expect(progress).toEqual([20, 50, 40, 50, 50, 50])

    const controller = new AbortController()
    const blocksSeen: number[] = []
    const aborted = findNearestNeighboursOnnx(vectors, 4, {
      k: 3,
      blockRows: 20,
      signal: controller.signal,
      onProgress: (done) => {
        blocksSeen.push(done)
        controller.abort()
      },
    })
    await expect(aborted).rejects.toThrow()
    expect(blocksSeen).toEqual([20])
    await expect(findNearestNeighboursOnnx(vectors, 4, { signal: AbortSignal.abort() })).rejects.toThrow()
  })

  it('rejects bad options', async () => {
    const vectors = new Float32Array(8)
    await expect(findNearestNeighboursOnnx(vectors, 3)).rejects.toThrow(RangeError)
    await expect(findNearestNeighboursOnnx(vectors, 4, { k: 0 })).rejects.toThrow(RangeError)
    await expect(findNearestNeighboursOnnx(vectors, 4, { blockRows: 1.5 })).rejects.toThrow(RangeError)
    await expect(findNearestNeighboursOnnx(vectors, 4, { threads: 0 })).rejects.toThrow(RangeError)
  })

  it('keeps one block of scores within 128 MiB by default, between 16 and 256 rows', () => {
    expect(defaultOnnxBlockRows(1000)).toBe(256)
    expect(defaultOnnxBlockRows(100_000)).toBe(256)
    expect(defaultOnnxBlockRows(500_000)).toBe(67)
    expect(defaultOnnxBlockRows(10_000_000)).toBe(16)
  })
})

describe('findNearestNeighbours engine choice', () => {
  it('prefers ORT from n²·d = one million on', () => {
    expect(prefersOnnxEngine(51, 384)).toBe(false)
    expect(prefersOnnxEngine(52, 384)).toBe(true)
    expect(prefersOnnxEngine(124, 64)).toBe(false)
    expect(prefersOnnxEngine(125, 64)).toBe(true)
    expect(prefersOnnxEngine(0, 384)).toBe(false)
  })

  it("'auto' runs JS below the crossover and ORT above it, told apart by their default block sizes", async () => {
    const small = normalizeRows(randomRows(15, 300, 8), 8)
    const smallProgress: number[] = []
    await findNearestNeighbours(small, 8, { k: 4, onProgress: (done) => smallProgress.push(done) })
    expect(smallProgress).toEqual([300]) // one of the JS engine's 512-row blocks

    const large = normalizeRows(randomRows(16, 600, 384), 384)
    const largeProgress: number[] = []
    const lists = await findNearestNeighbours(large, 384, { k: 4, onProgress: (done) => largeProgress.push(done) })
    expect(largeProgress).toEqual([256, 512, 600]) // the ORT engine's 256-row blocks
    const viaJs = await findNearestNeighbours(large, 384, { k: 4, engine: 'js' })
    const differing = lists.indices.filter((index, i) => index !== viaJs.indices[i]).length
    expect(differing).toBeLessThanOrEqual(2)
    for (let i = 0; i < lists.similarities.length; i++) expect(Math.abs((lists.similarities[i] ?? 0) - (viaJs.similarities[i] ?? 0))).toBeLessThanOrEqual(TOLERANCE)
  })

  it("'onnx' and 'js' force an engine whatever the size", async () => {
    const vectors = normalizeRows(randomRows(17, 30, 4), 4)
    const progress: number[] = []
    await findNearestNeighbours(vectors, 4, { k: 2, engine: 'onnx', blockRows: 10, threads: 1, onProgress: (done) => progress.push(done) })
    expect(progress).toEqual([10, 20, 30])
    await expect(findNearestNeighbours(vectors, 4, { engine: 'gpu' as 'js' })).rejects.toThrow(RangeError)
  })
})
