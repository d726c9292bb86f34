import { describe, expect, it } from 'vitest'
import { clusterTopTerms, kMeans, type KMeansResult } from '../../../../src-main/core/cluster/kMeans.js'
import { normalizeRows } from '../../../../src-main/core/cluster/nearestNeighbours.js'
import { groupedVectors } from './groupedVectors.js'

const GROUPS = 12
const PER_GROUP = 40
const DIMENSION = 64
const ROWS = GROUPS * PER_GROUP
const fixture = groupedVectors({ rows: ROWS, dimension: DIMENSION, groups: GROUPS, seed: 5 })

function membersOf(result: KMeansResult): number[][] {
  const members = Array.from({ length: result.k }, (): number[] => [])
  result.assignments.forEach((cluster, row) => members[cluster]?.push(row))
  return members
}

function dotRow(vectors: Float32Array, row: number, centroids: Float32Array, cluster: number, dimension: number): number {
  let sum = 0
  for (let i = 0; i < dimension; i++) sum += (vectors[row * dimension + i] ?? 0) * (centroids[cluster * dimension + i] ?? 0)
  return sum
}

describe('kMeans', () => {
  it('recovers the groups exactly with k = groups', async () => {
    const result = await kMeans(fixture.vectors, DIMENSION, GROUPS, { seed: 2 })
    expect(result.converged).toBe(true)
    const members = membersOf(result)
    // One group per cluster and one cluster per group: purity 1.0 with no group split.
    expect(members.map((rows) => new Set(rows.map(fixture.groupOf)).size)).toEqual(new Array<number>(GROUPS).fill(1))
    expect(new Set(members.map((rows) => fixture.groupOf(rows[0] ?? -1))).size).toBe(GROUPS)
    expect(Array.from(result.sizes)).toEqual(new Array<number>(GROUPS).fill(PER_GROUP))
  })

  it('returns unit centroids and, per cluster, the member nearest its centroid', async () => {
    const result = await kMeans(fixture.vectors, DIMENSION, GROUPS, { seed: 2 })
    membersOf(result).forEach((rows, cluster) => {
      expect(dotRow(result.centroids, cluster, result.centroids, cluster, DIMENSION)).toBeCloseTo(1, 5)
      const representative = result.representatives[cluster] ?? -1
      expect(rows).toContain(representative)
      const best = Math.max(...rows.map((row) => dotRow(fixture.vectors, row, result.centroids, cluster, DIMENSION)))
      expect(dotRow(fixture.vectors, representative, result.centroids, cluster, DIMENSION)).toBe(best)
    })
  })

  it('is deterministic for a seed', async () => {
    const first = await kMeans(fixture.vectors, DIMENSION, 7, { seed: 11, blockRows: 50 })
    const second = await kMeans(fixture.vectors, DIMENSION, 7, { seed: 11, blockRows: 200 })
    expect(second).toEqual(first)
  })

  it('makes one cluster per row when k exceeds the row count', async () => {
    const vectors = fixture.vectors.slice(0, 5 * DIMENSION)
    const result = await kMeans(vectors, DIMENSION, 10)
    expect(result.k).toBe(5)
    expect(Array.from(result.sizes)).toEqual([1, 1, 1, 1, 1])
    expect(new Set(result.assignments).size).toBe(5)
    result.representatives.forEach((row, cluster) => expect(result.assignments[row]).toBe(cluster))
  })

  it('groups duplicates together and leaves extra clusters empty when there are fewer distinct rows than k', async () => {
    const distinct = normalizeRows(Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0]), 3)
    const vectors = new Float32Array(4 * 5 * 3)
    for (let row = 0; row < 20; row++) vectors.set(distinct.subarray((row % 4) * 3, (row % 4) * 3 + 3), row * 3)
    const exact = await kMeans(vectors, 3, 4, { seed: 1 })
    expect(Array.from(exact.sizes)).toEqual([5, 5, 5, 5])
    for (const rows of membersOf(exact)) expect(new Set(rows.map((row) => row % 4)).size).toBe(1)

    const tooMany = await kMeans(vectors, 3, 6, { seed: 1 })
    expect(tooMany.converged).toBe(true)
    expect(Array.from(tooMany.sizes).sort()).toEqual([0, 0, 5, 5, 5, 5])
    membersOf(tooMany).forEach((rows, cluster) => {
      expect(new Set(rows.map((row) => row % 4)).size).toBeLessThanOrEqual(1)
      if (rows.length === 0) expect(tooMany.representatives[cluster]).toBe(-1)
    })
  })

  it('stops at maxIterations, reports progress and honours an abort', async () => {
    const progress: number[] = []
    const result = await kMeans(fixture.vectors, DIMENSION, 30, { maxIterations: 2, onProgress: (done) => progress.push(done) })
    expect(result.iterations).toBeLessThanOrEqual(2)
    expect(progress).toEqual([0, 1, 2].slice(0, result.iterations + 1))
    const controller = new AbortController()
    controller.abort()
    await expect(kMeans(fixture.vectors, DIMENSION, 3, { signal: controller.signal })).rejects.toThrow()
    await expect(kMeans(fixture.vectors, DIMENSION, 0)).rejects.toThrow(/k must be a positive integer/)
  })
})

describe('clusterTopTerms', () => {
  it('ranks words that set a cluster apart, without stopwords, numbers or short words', () => {
    const terms = clusterTopTerms([
      ['The insulin dose and the glucose level of the patient.', 'Insulin resistance raises glucose; the patient study, 2019.'],
      ['The patient had a fracture of the femur.', 'Femur fracture healing in the elderly patient.'],
      ['Tax law and the patient: the court ruled on tax.', 'The court of appeal.'],
    ])
    expect(terms[0]?.slice(0, 2).sort()).toEqual(['glucose', 'insulin'])
    expect(terms[1]?.slice(0, 2).sort()).toEqual(['femur', 'fracture'])
    expect(terms[2]?.slice(0, 2).sort()).toEqual(['court', 'tax'])
    for (const list of terms) {
      expect(list).not.toContain('the')
      expect(list).not.toContain('2019')
      expect(list.every((term) => term.length >= 3)).toBe(true)
      // In every cluster and in every text of the first two, yet never a leading term.
      expect(list.slice(0, 2)).not.toContain('patient')
    }
  })

  it('honours termsPerCluster and custom stopwords, and copes with empty clusters', () => {
    const terms = clusterTopTerms([['alpha beta gamma delta alpha'], []], { termsPerCluster: 2, stopwords: new Set(['alpha']) })
    expect(terms).toEqual([['beta', 'delta'], []])
  })
})
