/**
 * ETRC's "length-based clustering" (domain-rc.md §2.2, paper Algorithm 1): grow a cluster from a seed by adding
 * the nearest remaining document while it is similar enough (cosine ≥ 0.7) and the cluster is under its document
 * and token limits. Every document ends up in exactly one cluster; a seed with no close neighbour stays alone.
 *
 * "Nearest to the cluster" is read as nearest to the seed: candidates are taken from the seed's precomputed
 * neighbour list, best first, skipping documents already used. So a cluster also stops growing when the seed's k
 * neighbours are exhausted; k should comfortably exceed `maxDocuments`.
 */
import type { NeighbourLists } from './nearestNeighbours.js'

export interface GrowClustersOptions {
  /** Smallest cosine similarity to the seed for a document to join. Defaults to `0.7` (the paper's value). */
  readonly similarityThreshold?: number
  /** D_max: most documents in one cluster. Defaults to `Infinity`. */
  readonly maxDocuments?: number
  /** L_max: token budget of a cluster (document plus its QA). Defaults to `Infinity`. */
  readonly maxTokens?: number
  /**
   * `'checkBefore'` (the paper): a document may join while the cluster's total is still below `maxTokens`, so the
   * last one can overshoot. `'neverExceed'`: a document joins only if the total stays ≤ `maxTokens`; one that
   * does not fit is skipped and the next neighbour is tried. Defaults to `'checkBefore'`.
   */
  readonly tokenLimit?: 'checkBefore' | 'neverExceed'
  /**
   * The paper picks each seed at random. With `random`, the seed order is a Fisher–Yates shuffle drawn from it (pass
   * a seeded stream to stay reproducible); without it, seeds go in index order.
   */
  readonly random?: () => number
  /**
   * A group per document (the source document of a chunk): a cluster takes at most one member of each group, so a
   * passage is extended with related text from elsewhere rather than with its own neighbouring chunks. Defaults to
   * every document in a group of its own.
   */
  readonly groupOf?: ArrayLike<number>
}

/** Clusters as lists of document indices, seed first, then in order of joining; clusters in the order they were seeded. */
export function growClusters(neighbours: NeighbourLists, tokenCounts: ArrayLike<number>, options: GrowClustersOptions = {}): number[][] {
  const { similarityThreshold = 0.7, maxDocuments = Infinity, maxTokens = Infinity, tokenLimit = 'checkBefore', random, groupOf } = options
  const { rowCount, k, indices, similarities } = neighbours
  if (tokenCounts.length !== rowCount) throw new RangeError(`${tokenCounts.length} token counts for ${rowCount} documents`)
  if (groupOf !== undefined && groupOf.length !== rowCount) throw new RangeError(`${groupOf.length} groups for ${rowCount} documents`)
  if (!(maxDocuments >= 1)) throw new RangeError(`maxDocuments must be at least 1; got ${maxDocuments}`)
  for (let i = 0; i < rowCount; i++) {
    const tokens = tokenCounts[i] ?? Number.NaN
    if (!(tokens >= 0) || !Number.isFinite(tokens)) throw new RangeError(`document ${i} has token count ${tokens}; expected a finite number ≥ 0`)
  }

  const used = new Uint8Array(rowCount)
  const clusters: number[][] = []
  for (const seed of seedOrder(rowCount, random)) {
    if (used[seed]) continue
    used[seed] = 1
    const cluster = [seed]
    const groups = new Set(groupOf === undefined ? [] : [groupOf[seed]])
    let totalTokens = tokenCounts[seed] ?? 0
    for (let rank = 0; rank < k && cluster.length < maxDocuments; rank++) {
      if (tokenLimit === 'checkBefore' && totalTokens >= maxTokens) break
      const candidate = indices[seed * k + rank] ?? -1
      if (candidate < 0 || (similarities[seed * k + rank] ?? -Infinity) < similarityThreshold) break
      if (used[candidate]) continue
      if (groupOf !== undefined && groups.has(groupOf[candidate])) continue
      const candidateTokens = tokenCounts[candidate] ?? 0
      if (tokenLimit === 'neverExceed' && totalTokens + candidateTokens > maxTokens) continue
      used[candidate] = 1
      cluster.push(candidate)
      if (groupOf !== undefined) groups.add(groupOf[candidate])
      totalTokens += candidateTokens
    }
    clusters.push(cluster)
  }
  return clusters
}

function seedOrder(rowCount: number, random: (() => number) | undefined): Int32Array {
  const order = Int32Array.from({ length: rowCount }, (_, i) => i)
  if (random === undefined) return order
  for (let i = rowCount - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const swap = order[i] ?? 0
    order[i] = order[j] ?? 0
    order[j] = swap
  }
  return order
}
