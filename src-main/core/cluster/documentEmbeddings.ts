/**
 * A document's embedding for clustering (domain-rc.md §2.2 step 1) when the embedding model sees chunks, not whole
 * documents: the mean of its chunks' unit vectors weighted by their token counts, scaled back to unit length. The
 * weighting makes a long chunk count for more than a short tail chunk, as it would if the model had read the whole
 * document at once.
 */

export interface ChunkEmbeddings<DocumentId> {
  /** (chunks, dimension), row-major; each row a unit vector (a longer row would weigh more than its token count says). */
  readonly vectors: Float32Array
  readonly dimension: number
  /** The document of each chunk. A document's chunks need not be adjacent. */
  readonly documentIds: ArrayLike<DocumentId>
  /** The token count of each chunk: its weight in the document's mean. */
  readonly tokenCounts: ArrayLike<number>
}

export interface DocumentEmbeddingsOptions {
  /**
   * A document whose weighted mean vector is shorter than this (its chunks point in cancelling directions, or all
   * have zero tokens) gets a zero row instead of a direction amplified out of rounding noise. Defaults to `1e-6`.
   */
  readonly zeroNormTolerance?: number
}

export interface DocumentEmbeddings<DocumentId> {
  readonly dimension: number
  /** (documents, dimension), row-major; unit rows except those listed in `zeroRows`. */
  readonly vectors: Float32Array
  /** The document of each row, in order of each document's first chunk. */
  readonly documentIds: DocumentId[]
  /** Rows left all zero (see `zeroNormTolerance`), ascending. Their cosine with anything is 0. */
  readonly zeroRows: number[]
}

/** Groups the chunk vectors by document and returns one unit vector per document. */
export function documentEmbeddings<DocumentId>(
  chunks: ChunkEmbeddings<DocumentId>,
  { zeroNormTolerance = 1e-6 }: DocumentEmbeddingsOptions = {},
): DocumentEmbeddings<DocumentId> {
  const { vectors, dimension, documentIds, tokenCounts } = chunks
  if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be a positive integer; got ${dimension}`)
  if (vectors.length % dimension !== 0) throw new RangeError(`${vectors.length} values are not whole rows of dimension ${dimension}`)
  const chunkCount = vectors.length / dimension
  if (documentIds.length !== chunkCount) throw new RangeError(`${documentIds.length} document ids for ${chunkCount} chunk vectors`)
  if (tokenCounts.length !== chunkCount) throw new RangeError(`${tokenCounts.length} token counts for ${chunkCount} chunk vectors`)

  const rowOfDocument = new Map<DocumentId, number>()
  const rowOfChunk = new Int32Array(chunkCount)
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const weight = tokenCounts[chunk] ?? Number.NaN
    if (!(weight >= 0) || !Number.isFinite(weight)) throw new RangeError(`chunk ${chunk} has token count ${weight}; expected a finite number ≥ 0`)
    const id = documentIds[chunk] as DocumentId
    let row = rowOfDocument.get(id)
    if (row === undefined) {
      row = rowOfDocument.size
      rowOfDocument.set(id, row)
    }
    rowOfChunk[chunk] = row
  }
  const documentCount = rowOfDocument.size

  // Chunks listed document by document (a stable counting sort), so each document is summed in one float64 row.
  const chunkStarts = new Int32Array(documentCount + 1)
  for (const row of rowOfChunk) chunkStarts[row + 1] = (chunkStarts[row + 1] ?? 0) + 1
  for (let row = 0; row < documentCount; row++) chunkStarts[row + 1] = (chunkStarts[row + 1] ?? 0) + (chunkStarts[row] ?? 0)
  const nextSlot = chunkStarts.slice(0, documentCount)
  const chunksByDocument = new Int32Array(chunkCount)
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const row = rowOfChunk[chunk] ?? 0
    const slot = nextSlot[row] ?? 0
    chunksByDocument[slot] = chunk
    nextSlot[row] = slot + 1
  }

  const documentVectors = new Float32Array(documentCount * dimension)
  const sum = new Float64Array(dimension)
  const zeroRows: number[] = []
  for (let row = 0; row < documentCount; row++) {
    sum.fill(0)
    let totalWeight = 0
    for (let slot = chunkStarts[row] ?? 0; slot < (chunkStarts[row + 1] ?? 0); slot++) {
      const chunk = chunksByDocument[slot] ?? 0
      const weight = tokenCounts[chunk] ?? 0
      totalWeight += weight
      const start = chunk * dimension
      for (let i = 0; i < dimension; i++) sum[i] = (sum[i] ?? 0) + weight * (vectors[start + i] ?? 0)
    }
    let squaredNorm = 0
    for (let i = 0; i < dimension; i++) squaredNorm += (sum[i] ?? 0) ** 2
    const norm = Math.sqrt(squaredNorm)
    // The tolerance applies to the mean (sum / totalWeight), whose length is at most 1 for unit chunk vectors.
    if (totalWeight === 0 || norm <= zeroNormTolerance * totalWeight) {
      zeroRows.push(row)
      continue
    }
    const start = row * dimension
    for (let i = 0; i < dimension; i++) documentVectors[start + i] = (sum[i] ?? 0) / norm
  }
  return { dimension, vectors: documentVectors, documentIds: [...rowOfDocument.keys()], zeroRows }
}
