/**
 * Speed and memory of document clustering on synthetic grouped unit vectors (the shape of embedding-model output):
 * ETRC's exact neighbour search and length-bounded growth (domain-rc.md §2.2), and the browsing view's spherical
 * k-means. The neighbour search is O(n²·d), so its time grows with the square of `rows`; growth and each k-means
 * pass are linear. The search runs on the ORT engine by default (Gemm + TopK per block of rows, see onnxNeighbours.ts).
 * Figures are returned, never asserted.
 */
import { growClusters } from '../../../src-main/core/cluster/growClusters.js'
import { kMeans } from '../../../src-main/core/cluster/kMeans.js'
import { findNearestNeighbours, type NeighbourEngine } from '../../../src-main/core/cluster/nearestNeighbours.js'
import { randomStream } from '../../../src-main/core/train/random.js'
import { groupedVectors, purity } from '../../unit/core/cluster/groupedVectors.js'
import { RssSampler } from '../RssSampler.js'

export interface ClusteringBenchOptions {
  /** Documents. Defaults to `100_000`. */
  rows?: number
  /** Embedding width. Defaults to `384` (bge-small, MiniLM). */
  dimension?: number
  /** Synthetic topic groups the rows are drawn around. Defaults to `100`. */
  groups?: number
  /** Seeds the vectors, the ETRC seed order and k-means. Defaults to `1`. */
  seed?: number
  /** ETRC's D_max. Defaults to `16`. */
  maxDocuments?: number
  /** k of the k-means run. Defaults to `100`. */
  kMeansClusters?: number
  /** Assignment passes of the k-means run at most. Defaults to `5`. */
  kMeansIterations?: number
  /** Engine of the neighbour search. Defaults to `'onnx'`. */
  neighbourEngine?: NeighbourEngine
  /** ORT intra-op threads of the neighbour search. Defaults to `1` (on the 2-core VM one thread beat two). */
  threads?: number
  /** Receives a line as each stage ends. Defaults to none. */
  log?: (line: string) => void
}

export interface ClusteringBenchResult {
  rows: number
  dimension: number
  /** `findNearestNeighbours` with ETRC's default neighbour count, min(n − 1, 4·maxDocuments + 8). */
  neighboursSeconds: number
  neighbourEngine: NeighbourEngine
  /** 2·n²·d over `neighboursSeconds`: the search's arithmetic rate, top-k selection included. */
  neighboursGflops: number
  /** `growClusters` over those neighbour lists. */
  growSeconds: number
  /** k-means++ seeding and up to `kMeansIterations` passes. */
  kMeansSeconds: number
  kMeansIterations: number
  /** Largest RSS sampled during the timed stages (the vectors included). */
  peakRssMb: number
  /** ETRC clusters made. */
  clusters: number
  /** Fraction of documents whose ETRC cluster's majority group is their own. */
  purity: number
  /** The same for the k-means clusters. */
  kMeansPurity: number
}

export async function benchClustering(options: ClusteringBenchOptions = {}): Promise<ClusteringBenchResult> {
  const {
    rows = 100_000,
    dimension = 384,
    groups = 100,
    seed = 1,
    maxDocuments = 16,
    kMeansClusters = 100,
    kMeansIterations = 5,
    neighbourEngine = 'onnx',
    threads = 1,
    log,
  } = options
  const { vectors, groupOf } = groupedVectors({ rows, dimension, groups, seed })
  log?.(`generated ${rows} × ${dimension} vectors in ${groups} groups`)
  const tokenCounts = new Array<number>(rows).fill(300)
  const sampler = await RssSampler.start(100)
  let stages: Omit<ClusteringBenchResult, 'peakRssMb'>
  let peakRssBytes: number
  try {
    let started = performance.now()
    const k = Math.max(1, Math.min(rows - 1, 4 * maxDocuments + 8))
    const neighbours = await findNearestNeighbours(vectors, dimension, { k, engine: neighbourEngine, threads })
    const neighboursSeconds = (performance.now() - started) / 1000
    const neighboursGflops = (2 * rows * rows * dimension) / neighboursSeconds / 1e9
    log?.(`nearest neighbours (${neighbourEngine}, ${threads} thread(s)): ${neighboursSeconds.toFixed(1)} s, ${neighboursGflops.toFixed(1)} GFLOP/s`)

    started = performance.now()
    const clusters = growClusters(neighbours, tokenCounts, { maxDocuments, random: randomStream(seed, 'clusterSeedOrder') })
    const growSeconds = (performance.now() - started) / 1000
    log?.(`grow clusters: ${growSeconds.toFixed(2)} s, ${clusters.length} clusters`)

    started = performance.now()
    const kMeansResult = await kMeans(vectors, dimension, kMeansClusters, { seed, maxIterations: kMeansIterations })
    const kMeansSeconds = (performance.now() - started) / 1000
    log?.(`k-means: ${kMeansSeconds.toFixed(1)} s, ${kMeansResult.iterations} passes`)

    const kMeansMembers = Array.from({ length: kMeansResult.k }, (): number[] => [])
    kMeansResult.assignments.forEach((cluster, row) => kMeansMembers[cluster]?.push(row))
    stages = {
      rows,
      dimension,
      neighboursSeconds,
      neighbourEngine,
      neighboursGflops,
      growSeconds,
      kMeansSeconds,
      kMeansIterations: kMeansResult.iterations,
      clusters: clusters.length,
      purity: purity(clusters, groupOf),
      kMeansPurity: purity(kMeansMembers, groupOf),
    }
  } finally {
    peakRssBytes = (await sampler.stop()).peakRssBytes
  }
  return { ...stages, peakRssMb: peakRssBytes / 2 ** 20 }
}
