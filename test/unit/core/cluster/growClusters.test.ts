import { describe, expect, it } from 'vitest'
import { growClusters } from '../../../../src-main/core/cluster/growClusters.js'
import { findNearestNeighbours, type NeighbourLists, normalizeRows } from '../../../../src-main/core/cluster/nearestNeighbours.js'
import { randomStream } from '../../../../src-main/core/train/random.js'

const DIMENSION = 32
const GROUP_COUNT = 5
const DOCUMENT_COUNT = 200

/** 200 documents around 5 orthogonal centroids with small noise; document i belongs to group i % 5. */
async function separatedGroups(): Promise<{ neighbours: NeighbourLists; groupOf: (document: number) => number }> {
  const random = randomStream(7)
  const vectors = new Float32Array(DOCUMENT_COUNT * DIMENSION)
  for (let document = 0; document < DOCUMENT_COUNT; document++) {
    for (let i = 0; i < DIMENSION; i++) vectors[document * DIMENSION + i] = (random() * 2 - 1) * 0.05
    vectors[document * DIMENSION + (document % GROUP_COUNT)] = 1
  }
  normalizeRows(vectors, DIMENSION)
  const neighbours = await findNearestNeighbours(vectors, DIMENSION, { k: DOCUMENT_COUNT - 1, blockRows: 64 })
  return { neighbours, groupOf: (document) => document % GROUP_COUNT }
}

function expectPartition(clusters: number[][], documentCount: number): void {
  const all = clusters.flat().sort((a, b) => a - b)
  expect(all).toEqual(Array.from({ length: documentCount }, (_, i) => i))
}

describe('growClusters', () => {
  it('recovers well-separated groups, each pure and complete when the limits allow', async () => {
    const { neighbours, groupOf } = await separatedGroups()
    const clusters = growClusters(neighbours, new Array<number>(DOCUMENT_COUNT).fill(100))
    expectPartition(clusters, DOCUMENT_COUNT)
    expect(clusters).toHaveLength(GROUP_COUNT)
    for (const cluster of clusters) {
      expect(new Set(cluster.map(groupOf)).size).toBe(1)
      expect(cluster).toHaveLength(DOCUMENT_COUNT / GROUP_COUNT)
    }
  })

  it('seeds in index order by default and in a reproducible shuffled order with a random stream', async () => {
    const { neighbours } = await separatedGroups()
    const tokens = new Array<number>(DOCUMENT_COUNT).fill(1)
    expect(growClusters(neighbours, tokens).map((cluster) => cluster[0])).toEqual([0, 1, 2, 3, 4])
    const shuffled = growClusters(neighbours, tokens, { random: randomStream(3) })
    expect(shuffled).toEqual(growClusters(neighbours, tokens, { random: randomStream(3) }))
    expectPartition(shuffled, DOCUMENT_COUNT)
  })

  it('caps clusters at maxDocuments and keeps them pure', async () => {
    const { neighbours, groupOf } = await separatedGroups()
    const clusters = growClusters(neighbours, new Array<number>(DOCUMENT_COUNT).fill(10), { maxDocuments: 6 })
    expectPartition(clusters, DOCUMENT_COUNT)
    for (const cluster of clusters) {
      expect(cluster.length).toBeLessThanOrEqual(6)
      expect(new Set(cluster.map(groupOf)).size).toBe(1)
    }
    // 40 per group in clusters of 6: six full clusters and one of 4 per group.
    expect(clusters.filter((cluster) => cluster.length === 6)).toHaveLength(GROUP_COUNT * 6)
  })

  it('stops adding once the token total reaches maxTokens, letting only the last document overshoot (the paper)', async () => {
    const { neighbours } = await separatedGroups()
    const random = randomStream(11)
    const tokens = Array.from({ length: DOCUMENT_COUNT }, () => 50 + Math.floor(random() * 300))
    const clusters = growClusters(neighbours, tokens, { maxTokens: 1000 })
    expectPartition(clusters, DOCUMENT_COUNT)
    for (const cluster of clusters) {
      const beforeLast = cluster.slice(0, -1).reduce((sum, document) => sum + (tokens[document] ?? 0), 0)
      if (cluster.length > 1) expect(beforeLast).toBeLessThan(1000)
    }
    expect(clusters.some((cluster) => cluster.reduce((sum, document) => sum + (tokens[document] ?? 0), 0) > 1000)).toBe(true)
  })

  it('never exceeds maxTokens with tokenLimit "neverExceed" (a lone oversized document is still its own cluster)', async () => {
    const { neighbours, groupOf } = await separatedGroups()
    const random = randomStream(12)
    const tokens = Array.from({ length: DOCUMENT_COUNT }, () => 50 + Math.floor(random() * 300))
    tokens[17] = 5000
    const clusters = growClusters(neighbours, tokens, { maxTokens: 1000, tokenLimit: 'neverExceed' })
    expectPartition(clusters, DOCUMENT_COUNT)
    for (const cluster of clusters) {
      const total = cluster.reduce((sum, document) => sum + (tokens[document] ?? 0), 0)
      if (cluster.length > 1) expect(total).toBeLessThanOrEqual(1000)
      expect(new Set(cluster.map(groupOf)).size).toBe(1)
    }
    expect(clusters).toContainEqual([17])
  })

  it('takes at most one member of each source group (chunks of one document never extend each other)', async () => {
    const { neighbours, groupOf } = await separatedGroups()
    // Ten "source documents" per topic: document i comes from source i % 50, so sources are topic-pure.
    const sourceOf = Int32Array.from({ length: DOCUMENT_COUNT }, (_, i) => i % 50)
    const clusters = growClusters(neighbours, new Array<number>(DOCUMENT_COUNT).fill(1), { groupOf: sourceOf })
    expectPartition(clusters, DOCUMENT_COUNT)
    for (const cluster of clusters) {
      expect(new Set(cluster.map((d) => sourceOf[d])).size).toBe(cluster.length)
      expect(new Set(cluster.map(groupOf)).size).toBe(1)
    }
    // Each topic has 10 sources with 4 chunks each: four clusters of 10 per topic.
    expect(clusters.map((c) => c.length)).toEqual(new Array<number>(GROUP_COUNT * 4).fill(10))
    expect(() => growClusters(neighbours, new Array<number>(DOCUMENT_COUNT).fill(1), { groupOf: [1, 2] })).toThrow(/2 groups for 200 documents/)
  })

  it('leaves documents with no neighbour above the threshold as singletons', async () => {
    const { neighbours } = await separatedGroups()
    const clusters = growClusters(neighbours, new Array<number>(DOCUMENT_COUNT).fill(1), { similarityThreshold: 1.01 })
    expect(clusters).toEqual(Array.from({ length: DOCUMENT_COUNT }, (_, i) => [i]))
  })

  it('rejects token counts that do not match the documents', async () => {
    const { neighbours } = await separatedGroups()
    expect(() => growClusters(neighbours, [1, 2, 3])).toThrow(RangeError)
    expect(() => growClusters(neighbours, new Array<number>(DOCUMENT_COUNT).fill(-1))).toThrow(RangeError)
  })
})
