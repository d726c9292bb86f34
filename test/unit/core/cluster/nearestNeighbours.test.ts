import { describe, expect, it } from 'vitest'
import { findNearestNeighbours, normalizeRows } from '../../../../src-main/core/cluster/nearestNeighbours.js'
import { randomStream } from '../../../../src-main/core/train/random.js'

function randomUnitRows(seed: number, rowCount: number, dimension: number): Float32Array {
  const random = randomStream(seed)
  return normalizeRows(Float32Array.from({ length: rowCount * dimension }, () => random() * 2 - 1), dimension)
}

/** Every pair's similarity, sorted best first (ties by lower index), cut to k. */
function bruteForce(vectors: Float32Array, dimension: number, k: number): { indices: number[][]; similarities: number[][] } {
  const rowCount = vectors.length / dimension
  const indices: number[][] = []
  const similarities: number[][] = []
  for (let query = 0; query < rowCount; query++) {
    const scored: { index: number; similarity: number }[] = []
    for (let other = 0; other < rowCount; other++) {
      if (other === query) continue
      let similarity = 0
      for (let i = 0; i < dimension; i++) similarity += (vectors[query * dimension + i] ?? 0) * (vectors[other * dimension + i] ?? 0)
      scored.push({ index: other, similarity })
    }
    scored.sort((a, b) => b.similarity - a.similarity || a.index - b.index)
    const kept = scored.slice(0, k)
    indices.push(kept.map((s) => s.index))
    similarities.push(kept.map((s) => Math.fround(s.similarity)))
  }
  return { indices, similarities }
}

describe('normalizeRows', () => {
  it('gives every non-zero row unit length and leaves zero rows zero', () => {
    const vectors = normalizeRows(new Float32Array([3, 4, 0, 0, -2, 0]), 2)
    expect(Array.from(vectors)).toEqual([Math.fround(0.6), Math.fround(0.8), 0, 0, -1, 0])
  })

  it('rejects values that are not whole rows', () => {
    expect(() => normalizeRows(new Float32Array(5), 2)).toThrow(RangeError)
  })
})

describe('findNearestNeighbours', () => {
  const cases = [
    { rowCount: 60, dimension: 8, k: 5, blockRows: 1 },
    { rowCount: 60, dimension: 8, k: 5, blockRows: 7 },
    { rowCount: 97, dimension: 16, k: 10, blockRows: 32 },
    { rowCount: 97, dimension: 16, k: 1, blockRows: 512 },
    { rowCount: 40, dimension: 3, k: 39, blockRows: 13 },
    { rowCount: 50, dimension: 7, k: 6, blockRows: 9 },
    { rowCount: 120, dimension: 384, k: 8, blockRows: 50 },
  ]
  it.each(cases)('the JS engine equals brute force (n=$rowCount, d=$dimension, k=$k, blockRows=$blockRows)', async ({ rowCount, dimension, k, blockRows }) => {
    const vectors = randomUnitRows(rowCount * 31 + k, rowCount, dimension)
    const lists = await findNearestNeighbours(vectors, dimension, { k, blockRows, engine: 'js' })
    const expected = bruteForce(vectors, dimension, k)
    expect(lists.rowCount).toBe(rowCount)
    for (let row = 0; row < rowCount; row++) {
      expect(Array.from(lists.indices.subarray(row * k, row * k + k))).toEqual(expected.indices[row])
      expect(Array.from(lists.similarities.subarray(row * k, row * k + k))).toEqual(expected.similarities[row])
    }
  })

  it('pads with -1 when fewer than k other rows exist', async () => {
    const lists = await findNearestNeighbours(randomUnitRows(5, 3, 4), 4, { k: 4 })
    for (let row = 0; row < 3; row++) {
      const indices = Array.from(lists.indices.subarray(row * 4, row * 4 + 4))
      expect(indices.slice(2)).toEqual([-1, -1])
      expect(indices.slice(0, 2).sort()).toEqual([0, 1, 2].filter((i) => i !== row))
      expect(lists.similarities[row * 4 + 3]).toBe(-Infinity)
    }
  })

  it('orders equal similarities by lower index', async () => {
    const lists = await findNearestNeighbours(normalizeRows(new Float32Array([1, 0, 1, 0, 1, 0, 1, 0]), 2), 2, { k: 3 })
    expect(Array.from(lists.indices.subarray(6, 9))).toEqual([0, 1, 3])
    expect(Array.from(lists.indices.subarray(9, 12))).toEqual([0, 1, 2])
  })

  it('reports progress per block and stops when aborted', async () => {
    const vectors = randomUnitRows(9, 50, 4)
    const progress: number[] = []
    await findNearestNeighbours(vectors, 4, { k: 3, blockRows: 20, onProgress: (done) => progress.push(done) })
    expect(progress).toEqual([20, 40, 50])

    const controller = new AbortController()
    const aborted = findNearestNeighbours(vectors, 4, { k: 3, blockRows: 20, signal: controller.signal, onProgress: () => controller.abort() })
    await expect(aborted).rejects.toThrow()
  })
})
