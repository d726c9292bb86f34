/**
 * Synthetic document vectors in known groups, for the clustering tests and the clustering bench: row r belongs to
 * group r % groups and is its group's centre plus Gaussian noise, normalized. The centres are orthonormal (Gram–
 * Schmidt on random vectors) while groups ≤ dimension, so rows of different groups have cosine near 0; the noise
 * has squared length `noiseEnergy` (in expectation), so rows of one group have cosine near 1 / (1 + noiseEnergy).
 */
import { normalizeRows } from '../../../../src-main/core/cluster/nearestNeighbours.js'
import { randomStream } from '../../../../src-main/core/train/random.js'

export interface GroupedVectorsOptions {
  readonly rows: number
  readonly dimension: number
  readonly groups: number
  readonly seed?: number
  /** Defaults to `0.08` (within-group cosine about 0.93). */
  readonly noiseEnergy?: number
}

export interface GroupedVectors {
  /** (rows, dimension), unit rows. */
  readonly vectors: Float32Array
  readonly groupOf: (row: number) => number
}

export function groupedVectors({ rows, dimension, groups, seed = 1, noiseEnergy = 0.08 }: GroupedVectorsOptions): GroupedVectors {
  const random = randomStream(seed, 'groupedVectors')
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  const centres = new Float64Array(groups * dimension)
  for (let group = 0; group < groups; group++) {
    const start = group * dimension
    for (let i = 0; i < dimension; i++) centres[start + i] = gaussian()
    if (group < dimension) {
      for (let earlier = 0; earlier < group; earlier++) {
        let projection = 0
        for (let i = 0; i < dimension; i++) projection += (centres[start + i] ?? 0) * (centres[earlier * dimension + i] ?? 0)
        for (let i = 0; i < dimension; i++) centres[start + i] = (centres[start + i] ?? 0) - projection * (centres[earlier * dimension + i] ?? 0)
      }
    }
    let squaredNorm = 0
    for (let i = 0; i < dimension; i++) squaredNorm += (centres[start + i] ?? 0) ** 2
    for (let i = 0; i < dimension; i++) centres[start + i] = (centres[start + i] ?? 0) / Math.sqrt(squaredNorm)
  }
  const noiseScale = Math.sqrt(noiseEnergy / dimension)
  const vectors = new Float32Array(rows * dimension)
  for (let row = 0; row < rows; row++) {
    const centreStart = (row % groups) * dimension
    for (let i = 0; i < dimension; i++) vectors[row * dimension + i] = (centres[centreStart + i] ?? 0) + noiseScale * gaussian()
  }
  return { vectors: normalizeRows(vectors, dimension), groupOf: (row) => row % groups }
}

/** Fraction of rows whose cluster's most common group is their own. */
export function purity(clusters: readonly (readonly number[])[], groupOf: (row: number) => number): number {
  let rows = 0
  let majorityRows = 0
  for (const cluster of clusters) {
    const counts = new Map<number, number>()
    for (const row of cluster) counts.set(groupOf(row), (counts.get(groupOf(row)) ?? 0) + 1)
    majorityRows += Math.max(0, ...counts.values())
    rows += cluster.length
  }
  return rows === 0 ? 1 : majorityRows / rows
}
