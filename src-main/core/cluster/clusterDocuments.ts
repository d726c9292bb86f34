/**
 * ETRC's clustering step whole (domain-rc.md §2.2, paper Algorithm 1): the exact nearest neighbours of every
 * document vector, then length-bounded growth from randomly ordered seeds. Seeds are drawn from a seeded stream, so
 * a run is reproducible.
 */
import { randomStream } from '../train/random.js'
import { growClusters, type GrowClustersOptions } from './growClusters.js'
import { findNearestNeighbours, type NeighbourEngine } from './nearestNeighbours.js'

export interface ClusterDocumentsOptions extends Omit<GrowClustersOptions, 'random'> {
  /** Seeds the order in which documents become cluster seeds. Defaults to `0`. */
  readonly seed?: number
  /**
   * Neighbours looked up per document: a cluster can only take documents from its seed's list, and documents
   * already used are skipped there, so the list needs room beyond `maxDocuments`. Memory is O(n · neighbourCount).
   * Defaults to `min(n − 1, 4 · maxDocuments + 8)`, with 64 standing in for an unlimited `maxDocuments`.
   */
  readonly neighbourCount?: number
  /** Query rows per block of the neighbour search. Defaults to `findNearestNeighbours`'s. */
  readonly blockRows?: number
  /** See `findNearestNeighbours`. Defaults to `'auto'`. */
  readonly engine?: NeighbourEngine
  /** Compute threads of the neighbour search's ORT session. Defaults to `1`. */
  readonly threads?: number
  readonly signal?: AbortSignal
  /** Called as the neighbour search (nearly all of the time) finishes each block of rows. */
  readonly onProgress?: (rowsDone: number, rowsTotal: number) => void
}

export interface DocumentCluster {
  /** Row indices of the documents, the seed first, then in order of joining. */
  readonly documents: number[]
  /** Cosine similarity of each document to the seed, at the same positions (1 for the seed itself). */
  readonly similaritiesToSeed: number[]
  /** Sum of the documents' token counts. */
  readonly tokenCount: number
}

/** Groups unit document vectors (row-major, `dimension` wide) into ETRC clusters; every document lands in exactly one. */
export async function clusterDocuments(
  vectors: Float32Array,
  dimension: number,
  tokenCounts: ArrayLike<number>,
  options: ClusterDocumentsOptions = {},
): Promise<DocumentCluster[]> {
  const { seed = 0, neighbourCount, blockRows, engine, threads, signal, onProgress, ...growOptions } = options
  if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be a positive integer; got ${dimension}`)
  const rowCount = Math.floor(vectors.length / dimension)
  // Checked here as well as in growClusters, so that a mismatch fails before the long neighbour search.
  if (tokenCounts.length !== rowCount) throw new RangeError(`${tokenCounts.length} token counts for ${rowCount} documents`)
  const maxDocuments = growOptions.maxDocuments ?? Infinity
  const k = Math.max(1, neighbourCount ?? Math.min(rowCount - 1, 4 * (Number.isFinite(maxDocuments) ? maxDocuments : 64) + 8))
  const neighbours = await findNearestNeighbours(vectors, dimension, { k, signal, onProgress, ...(blockRows === undefined ? {} : { blockRows }), ...(engine === undefined ? {} : { engine }), ...(threads === undefined ? {} : { threads }) })
  signal?.throwIfAborted()
  const clusters = growClusters(neighbours, tokenCounts, { ...growOptions, random: randomStream(seed, 'clusterSeedOrder') })
  return clusters.map((documents) => {
    const seedRow = documents[0] ?? 0
    const similarityByDocument = new Map<number, number>()
    for (let rank = 0; rank < k; rank++) {
      similarityByDocument.set(neighbours.indices[seedRow * k + rank] ?? -1, neighbours.similarities[seedRow * k + rank] ?? -Infinity)
    }
    return {
      documents,
      similaritiesToSeed: documents.map((document, position) => (position === 0 ? 1 : (similarityByDocument.get(document) ?? Number.NaN))),
      tokenCount: documents.reduce((sum, document) => sum + (tokenCounts[document] ?? 0), 0),
    }
  })
}
