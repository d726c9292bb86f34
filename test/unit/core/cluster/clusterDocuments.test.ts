import { describe, expect, it } from 'vitest'
import { clusterDocuments, type DocumentCluster } from '../../../../src-main/core/cluster/clusterDocuments.js'
import { randomStream } from '../../../../src-main/core/train/random.js'
import { groupedVectors, purity } from './groupedVectors.js'

const GROUPS = 12
const PER_GROUP = 40
const DIMENSION = 64
const ROWS = GROUPS * PER_GROUP
const fixture = groupedVectors({ rows: ROWS, dimension: DIMENSION, groups: GROUPS, seed: 5 })

function cosine(a: number, b: number): number {
  let sum = 0
  for (let i = 0; i < DIMENSION; i++) sum += (fixture.vectors[a * DIMENSION + i] ?? 0) * (fixture.vectors[b * DIMENSION + i] ?? 0)
  return sum
}

function expectPartition(clusters: readonly DocumentCluster[], rowCount: number): void {
  expect(clusters.flatMap((cluster) => cluster.documents).sort((a, b) => a - b)).toEqual(Array.from({ length: rowCount }, (_, i) => i))
}

function expectPure(clusters: readonly DocumentCluster[]): void {
  for (const cluster of clusters) expect(new Set(cluster.documents.map(fixture.groupOf)).size).toBe(1)
}

describe('clusterDocuments', () => {
  it('works on a fixture whose groups are tight and far apart', () => {
    let withinMin = Infinity
    let acrossMax = -Infinity
    for (let a = 0; a < ROWS; a++) {
      for (let b = a + 1; b < ROWS; b++) {
        const similarity = cosine(a, b)
        if (fixture.groupOf(a) === fixture.groupOf(b)) withinMin = Math.min(withinMin, similarity)
        else acrossMax = Math.max(acrossMax, similarity)
      }
    }
    expect(withinMin).toBeGreaterThanOrEqual(0.8)
    expect(acrossMax).toBeLessThanOrEqual(0.3)
  })

  it('makes each group one cluster when maxDocuments allows a whole group', async () => {
    const clusters = await clusterDocuments(fixture.vectors, DIMENSION, new Array<number>(ROWS).fill(100), { maxDocuments: 50, seed: 3 })
    expectPartition(clusters, ROWS)
    expect(clusters).toHaveLength(GROUPS)
    expectPure(clusters)
    for (const cluster of clusters) {
      expect(cluster.documents).toHaveLength(PER_GROUP)
      expect(cluster.tokenCount).toBe(100 * PER_GROUP)
      expect(cluster.similaritiesToSeed[0]).toBe(1)
      cluster.documents.slice(1).forEach((document, i) => {
        expect(cluster.similaritiesToSeed[i + 1]).toBeCloseTo(cosine(cluster.documents[0] ?? -1, document), 5)
        expect(cluster.similaritiesToSeed[i + 1]).toBeGreaterThanOrEqual(0.7)
      })
    }
  })

  it('keeps clusters pure and within maxDocuments', async () => {
    const clusters = await clusterDocuments(fixture.vectors, DIMENSION, new Array<number>(ROWS).fill(10), { maxDocuments: 8, seed: 3 })
    expectPartition(clusters, ROWS)
    expectPure(clusters)
    for (const cluster of clusters) expect(cluster.documents.length).toBeLessThanOrEqual(8)
    expect(clusters.filter((cluster) => cluster.documents.length === 8).length).toBeGreaterThanOrEqual(GROUPS * 4)
  })

  it('lets only the last document overshoot maxTokens (the paper checks the total before adding)', async () => {
    const random = randomStream(9)
    const tokens = Array.from({ length: ROWS }, () => 50 + Math.floor(random() * 300))
    const clusters = await clusterDocuments(fixture.vectors, DIMENSION, tokens, { maxTokens: 1000, maxDocuments: 64, seed: 1 })
    expectPartition(clusters, ROWS)
    expectPure(clusters)
    for (const cluster of clusters) {
      const allButLast = cluster.documents.slice(0, -1).reduce((sum, document) => sum + (tokens[document] ?? 0), 0)
      if (cluster.documents.length > 1) expect(allButLast).toBeLessThan(1000)
      // A cluster stopped short of 1000 tokens only when its group ran out.
      if (cluster.tokenCount < 1000) expect(cluster.documents.length).toBeLessThan(PER_GROUP)
    }
    expect(clusters.some((cluster) => cluster.tokenCount > 1000)).toBe(true)
  })

  it('never exceeds maxTokens with tokenLimit "neverExceed"', async () => {
    const random = randomStream(10)
    const tokens = Array.from({ length: ROWS }, () => 50 + Math.floor(random() * 300))
    const clusters = await clusterDocuments(fixture.vectors, DIMENSION, tokens, { maxTokens: 1000, tokenLimit: 'neverExceed', seed: 1 })
    expectPartition(clusters, ROWS)
    expectPure(clusters)
    for (const cluster of clusters) expect(cluster.tokenCount).toBeLessThanOrEqual(1000)
  })

  it('is deterministic for a seed, and the seed sets the seed order', async () => {
    const tokens = new Array<number>(ROWS).fill(10)
    const run = (seed: number): Promise<DocumentCluster[]> => clusterDocuments(fixture.vectors, DIMENSION, tokens, { maxDocuments: 8, seed })
    const first = await run(4)
    expect(await run(4)).toEqual(first)
    const other = await run(5)
    expect(other.map((cluster) => cluster.documents[0])).not.toEqual(first.map((cluster) => cluster.documents[0]))
  })

  it('reports progress, honours an abort, and handles tiny inputs', async () => {
    const progress: number[] = []
    await clusterDocuments(fixture.vectors, DIMENSION, new Array<number>(ROWS).fill(1), { blockRows: 100, onProgress: (done) => progress.push(done) })
    expect(progress).toEqual([100, 200, 300, 400, 480])

    const controller = new AbortController()
    controller.abort()
    await expect(clusterDocuments(fixture.vectors, DIMENSION, new Array<number>(ROWS).fill(1), { signal: controller.signal })).rejects.toThrow()

    await expect(clusterDocuments(fixture.vectors, DIMENSION, [1, 2])).rejects.toThrow(/2 token counts for 480 documents/)
    expect(await clusterDocuments(new Float32Array(0), DIMENSION, [])).toEqual([])
    const one = await clusterDocuments(fixture.vectors.slice(0, DIMENSION), DIMENSION, [7])
    expect(one).toEqual([{ documents: [0], similaritiesToSeed: [1], tokenCount: 7 }])
  })

  it('scales to 20,000 documents without an n×n matrix', { timeout: 60_000 }, async () => {
    const rows = 20_000
    const large = groupedVectors({ rows, dimension: DIMENSION, groups: 500, seed: 8 })
    const rssBefore = process.memoryUsage.rss()
    let peakRss = rssBefore
    const clusters = await clusterDocuments(large.vectors, DIMENSION, new Array<number>(rows).fill(200), {
      maxDocuments: 16,
      maxTokens: 4096,
      blockRows: 1024,
      onProgress: () => (peakRss = Math.max(peakRss, process.memoryUsage.rss())),
    })
    expect(clusters.reduce((sum, cluster) => sum + cluster.documents.length, 0)).toBe(rows)
    expect(purity(clusters.map((cluster) => cluster.documents), large.groupOf)).toBe(1)
    // An n×n float32 matrix alone would be 1.6 GB; the neighbour lists are n × 72 × 8 bytes, plus one ORT block of 1024 × n float32 scores.
    expect(peakRss - rssBefore).toBeLessThan(300 * 1024 * 1024)
  })
})
