/**
 * Spherical k-means (cosine similarity, unit centroids) over document vectors, for the corpus browsing view: a
 * fixed number of topical groups, each with a representative document and a few distinctive words as its label.
 * This is not ETRC's clustering (domain-rc.md §2.2 says "length-based" does not mean k-means); that is
 * `clusterDocuments`.
 *
 * Memory stays O(n + k·d): one assignment, one similarity and one seeding distance per row, the centroids and
 * their float64 sums. Rows are assigned a block at a time, and the event loop runs between blocks.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { seededRandom } from '../train/random.js'

export interface KMeansOptions {
  /** Seeds the k-means++ draws; equal inputs and seed give equal results. Defaults to `0`. */
  readonly seed?: number
  /** Assignment passes at most. Defaults to `50`. */
  readonly maxIterations?: number
  /** Stops once at most this fraction of the rows changed cluster in a pass. Defaults to `0` (a full fixed point). */
  readonly changedFraction?: number
  /** Rows per block between event-loop turns and `signal` checks. Defaults to `1024`. */
  readonly blockRows?: number
  readonly signal?: AbortSignal
  /** Called after seeding (iteration 0) and after each assignment pass. */
  readonly onProgress?: (iterationsDone: number, maxIterations: number) => void
}

export interface KMeansResult {
  /** Clusters made: the requested k, or the row count when that is smaller. */
  readonly k: number
  readonly dimension: number
  /** The cluster of each row. */
  readonly assignments: Int32Array
  /** (k, dimension), row-major unit vectors: the normalized mean of each cluster's members. */
  readonly centroids: Float32Array
  readonly sizes: Int32Array
  /** For each cluster, its member most similar to its centroid (a label candidate); -1 for an empty cluster. */
  readonly representatives: Int32Array
  readonly iterations: number
  /** False when `maxIterations` ran out first. */
  readonly converged: boolean
}

/**
 * Clusters the rows of `vectors` (L2-normalized by the caller) into k groups. An emptied cluster is re-seeded with
 * the row farthest from its own centroid. Clusters stay empty only when the rows have fewer than k distinct
 * directions (duplicates), since then no row is away from its centroid. A zero row has no direction and lands in
 * cluster 0; leave such rows (`documentEmbeddings`' `zeroRows`) out.
 */
export async function kMeans(vectors: Float32Array, dimension: number, requestedK: number, options: KMeansOptions = {}): Promise<KMeansResult> {
  const { seed = 0, maxIterations = 50, changedFraction = 0, blockRows = 1024, signal, onProgress } = options
  if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be a positive integer; got ${dimension}`)
  if (vectors.length % dimension !== 0) throw new RangeError(`${vectors.length} values are not whole rows of dimension ${dimension}`)
  if (!Number.isInteger(requestedK) || requestedK < 1) throw new RangeError(`k must be a positive integer; got ${requestedK}`)
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new RangeError(`maxIterations must be a positive integer; got ${maxIterations}`)
  if (!Number.isInteger(blockRows) || blockRows < 1) throw new RangeError(`blockRows must be a positive integer; got ${blockRows}`)
  const rowCount = vectors.length / dimension
  const k = Math.min(requestedK, rowCount)

  const centroids = await seedCentroids(vectors, dimension, rowCount, k, seed, blockRows, signal)
  onProgress?.(0, maxIterations)
  const assignments = new Int32Array(rowCount).fill(-1)
  const similarityToCentroid = new Float32Array(rowCount)
  const sizes = new Int32Array(k)
  const sums = new Float64Array(k * dimension)
  let iterations = 0
  let converged = false
  while (iterations < maxIterations) {
    sums.fill(0)
    sizes.fill(0)
    let changed = 0
    for (let blockStart = 0; blockStart < rowCount; blockStart += blockRows) {
      signal?.throwIfAborted()
      const blockEnd = Math.min(rowCount, blockStart + blockRows)
      for (let row = blockStart; row < blockEnd; row++) {
        const rowStart = row * dimension
        let best = 0
        let bestSimilarity = -Infinity
        for (let cluster = 0; cluster < k; cluster++) {
          const similarity = dot(vectors, rowStart, centroids, cluster * dimension, dimension)
          if (similarity > bestSimilarity) {
            bestSimilarity = similarity
            best = cluster
          }
        }
        if (assignments[row] !== best) changed++
        assignments[row] = best
        similarityToCentroid[row] = bestSimilarity
        sizes[best] = (sizes[best] ?? 0) + 1
        addRow(sums, best * dimension, vectors, rowStart, dimension, 1)
      }
      if (blockEnd < rowCount) await nextTurn()
    }
    iterations++
    changed += reseedEmptyClusters(vectors, dimension, assignments, similarityToCentroid, sizes, sums)
    updateCentroids(centroids, sums, k, dimension)
    onProgress?.(iterations, maxIterations)
    if (changed <= changedFraction * rowCount) {
      converged = true
      break
    }
    await nextTurn()
  }

  const representatives = new Int32Array(k).fill(-1)
  const representativeSimilarity = new Float64Array(k).fill(-Infinity)
  for (let row = 0; row < rowCount; row++) {
    const cluster = assignments[row] ?? 0
    const similarity = dot(vectors, row * dimension, centroids, cluster * dimension, dimension)
    if (similarity > (representativeSimilarity[cluster] ?? -Infinity)) {
      representativeSimilarity[cluster] = similarity
      representatives[cluster] = row
    }
  }
  return { k, dimension, assignments, centroids, sizes, representatives, iterations, converged }
}

/**
 * k-means++ (Arthur & Vassilvitskii 2007): the first centroid is a uniformly drawn row, each next one a row drawn
 * with probability proportional to 1 − (its best cosine to the centroids so far), which for unit vectors is half the
 * squared Euclidean distance, the D² of the original. When every row already coincides with a centroid, the rest
 * repeat the first centroid (and end up empty).
 */
async function seedCentroids(
  vectors: Float32Array,
  dimension: number,
  rowCount: number,
  k: number,
  seed: number,
  blockRows: number,
  signal: AbortSignal | undefined,
): Promise<Float32Array> {
  const centroids = new Float32Array(k * dimension)
  if (k === 0) return centroids
  const random = seededRandom(seed)
  const distance = new Float64Array(rowCount).fill(Infinity)
  let chosen = random.nextBelow(rowCount)
  for (let cluster = 0; cluster < k; cluster++) {
    centroids.set(vectors.subarray(chosen * dimension, (chosen + 1) * dimension), cluster * dimension)
    if (cluster === k - 1) break
    let total = 0
    for (let blockStart = 0; blockStart < rowCount; blockStart += blockRows) {
      signal?.throwIfAborted()
      const blockEnd = Math.min(rowCount, blockStart + blockRows)
      for (let row = blockStart; row < blockEnd; row++) {
        const rowDistance = Math.max(0, 1 - dot(vectors, row * dimension, centroids, cluster * dimension, dimension))
        const kept = Math.min(distance[row] ?? Infinity, rowDistance)
        distance[row] = kept
        total += kept
      }
      if (blockEnd < rowCount) await nextTurn()
    }
    if (!(total > 0)) {
      for (let rest = cluster + 1; rest < k; rest++) centroids.copyWithin(rest * dimension, 0, dimension)
      break
    }
    chosen = drawByWeight(distance, total, random.nextFloat())
  }
  return centroids
}

/** The row at which the running sum of `weights` passes `uniform · total`, skipping zero weights. */
function drawByWeight(weights: Float64Array, total: number, uniform: number): number {
  const target = uniform * total
  let running = 0
  let lastPositive = 0
  for (let row = 0; row < weights.length; row++) {
    const weight = weights[row] ?? 0
    if (weight <= 0) continue
    running += weight
    lastPositive = row
    if (running > target) return row
  }
  return lastPositive
}

/**
 * Gives each empty cluster the row farthest from its own centroid, taking rows only from clusters that keep at
 * least one member, and moves that row's vector between the sums. Returns the number of rows moved.
 */
function reseedEmptyClusters(
  vectors: Float32Array,
  dimension: number,
  assignments: Int32Array,
  similarityToCentroid: Float32Array,
  sizes: Int32Array,
  sums: Float64Array,
): number {
  const empty: number[] = []
  sizes.forEach((size, cluster) => {
    if (size === 0) empty.push(cluster)
  })
  if (empty.length === 0) return 0
  const farthestFirst = Int32Array.from({ length: assignments.length }, (_, row) => row).sort(
    (a, b) => (similarityToCentroid[a] ?? 0) - (similarityToCentroid[b] ?? 0) || a - b,
  )
  let moved = 0
  let position = 0
  for (const cluster of empty) {
    for (; position < farthestFirst.length; position++) {
      const row = farthestFirst[position] ?? 0
      // A row on its centroid (similarity 1 up to rounding) would only make a duplicate of that cluster.
      if ((similarityToCentroid[row] ?? 1) > 1 - 1e-6) {
        position = farthestFirst.length
        break
      }
      const from = assignments[row] ?? 0
      if ((sizes[from] ?? 0) <= 1) continue
      addRow(sums, from * dimension, vectors, row * dimension, dimension, -1)
      addRow(sums, cluster * dimension, vectors, row * dimension, dimension, 1)
      sizes[from] = (sizes[from] ?? 0) - 1
      sizes[cluster] = 1
      assignments[row] = cluster
      similarityToCentroid[row] = 1
      moved++
      position++
      break
    }
  }
  return moved
}

/** Centroid = normalized member sum; a cluster that is empty or whose members cancel out keeps its centroid. */
function updateCentroids(centroids: Float32Array, sums: Float64Array, k: number, dimension: number): void {
  for (let cluster = 0; cluster < k; cluster++) {
    const start = cluster * dimension
    let squaredNorm = 0
    for (let i = start; i < start + dimension; i++) squaredNorm += (sums[i] ?? 0) ** 2
    if (!(squaredNorm > 0)) continue
    const scale = 1 / Math.sqrt(squaredNorm)
    for (let i = start; i < start + dimension; i++) centroids[i] = (sums[i] ?? 0) * scale
  }
}

function addRow(sums: Float64Array, sumStart: number, vectors: Float32Array, rowStart: number, dimension: number, sign: 1 | -1): void {
  for (let i = 0; i < dimension; i++) sums[sumStart + i] = (sums[sumStart + i] ?? 0) + sign * (vectors[rowStart + i] ?? 0)
}

/** Four running sums, so the additions do not wait on one another. */
function dot(a: Float32Array, startA: number, b: Float32Array, startB: number, dimension: number): number {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let i = 0
  for (; i + 3 < dimension; i += 4) {
    s0 += (a[startA + i] ?? 0) * (b[startB + i] ?? 0)
    s1 += (a[startA + i + 1] ?? 0) * (b[startB + i + 1] ?? 0)
    s2 += (a[startA + i + 2] ?? 0) * (b[startB + i + 2] ?? 0)
    s3 += (a[startA + i + 3] ?? 0) * (b[startB + i + 3] ?? 0)
  }
  for (; i < dimension; i++) s0 += (a[startA + i] ?? 0) * (b[startB + i] ?? 0)
  return s0 + s1 + (s2 + s3)
}

// ------------------------------------------------------------------------------------------ cluster labels

export interface ClusterTopTermsOptions {
  /** Terms per cluster. Defaults to `8`. */
  readonly termsPerCluster?: number
  /** Shorter words are skipped. Defaults to `3`. */
  readonly minTermLength?: number
  /** Lower-case words never used as terms. Defaults to a short list of English function words. */
  readonly stopwords?: ReadonlySet<string>
}

/**
 * The most distinctive words of each cluster, for labelling it in the browser, given the texts of its members.
 * A word's score in a cluster is tf·idf with the clusters as the documents: tf is its sublinear count
 * (1 + ln count) per member text, averaged over the cluster's texts, so one text repeating a word cannot carry
 * the label alone; idf is ln(1 + clusters / clusters containing it), so words common to every cluster rank low
 * (but still rank, when there is one cluster). Ties go to the alphabetically first word.
 */
export function clusterTopTerms(textsPerCluster: readonly (readonly string[])[], options: ClusterTopTermsOptions = {}): string[][] {
  const { termsPerCluster = 8, minTermLength = 3, stopwords = ENGLISH_STOPWORDS } = options
  const termFrequencies = textsPerCluster.map((texts) => {
    const frequency = new Map<string, number>()
    for (const text of texts) {
      const counts = new Map<string, number>()
      for (const match of text.toLowerCase().matchAll(WORD)) {
        const word = match[0]
        if (word.length < minTermLength || stopwords.has(word) || /^[\p{N}'’-]+$/u.test(word)) continue
        counts.set(word, (counts.get(word) ?? 0) + 1)
      }
      for (const [word, count] of counts) frequency.set(word, (frequency.get(word) ?? 0) + 1 + Math.log(count))
    }
    for (const [word, total] of frequency) frequency.set(word, total / texts.length)
    return frequency
  })
  const clustersWithTerm = new Map<string, number>()
  for (const frequency of termFrequencies) for (const word of frequency.keys()) clustersWithTerm.set(word, (clustersWithTerm.get(word) ?? 0) + 1)
  const clusterCount = textsPerCluster.length
  return termFrequencies.map((frequency) =>
    [...frequency]
      .map(([word, tf]) => ({ word, score: tf * Math.log(1 + clusterCount / (clustersWithTerm.get(word) ?? 1)) }))
      .sort((a, b) => b.score - a.score || (a.word < b.word ? -1 : a.word > b.word ? 1 : 0))
      .slice(0, termsPerCluster)
      .map(({ word }) => word),
  )
}

/** Letters and digits, with inner apostrophes and hyphens ("don't", "long-term") kept inside the word. */
const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu

const ENGLISH_STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below between both but by can ' +
    'could did do does doing down during each even few for from further had has have having he her here hers herself him himself his ' +
    'how however i if in into is it its itself just may me might more most much must my myself no nor not now of off on once only or ' +
    'other our ours ourselves out over own same shall she should so some such than that the their theirs them themselves then there ' +
    'these they this those through thus to too under until up upon us very was we were what when where whether which while who whom ' +
    'whose why will with within without would yet you your yours yourself yourselves one two three first second new used using use ' +
    'based via per among across well many several'
  ).split(' '),
)
