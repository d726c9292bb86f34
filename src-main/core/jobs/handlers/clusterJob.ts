import { stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { LecternError } from '../../../shared/errors.js'
import type { ClusterSummary } from '../../../shared/types/comprehension.js'
import { clusterDocuments } from '../../cluster/clusterDocuments.js'
import { kMeans } from '../../cluster/kMeans.js'
import { ComprehensionStore, type StoredEmbeddings } from '../../comprehension/ComprehensionStore.js'
import { LlamaEmbedder } from '../../comprehension/embed/LlamaEmbedder.js'
import { openProjectDb } from '../../db/openProjectDb.js'
import { defaultContextCount } from '../../llm/loadLlamaModel.js'
import { PROJECT_DB_FILE } from '../../project/Project.js'
import type { JobContext, JobHandler } from '../JobContext.js'

/** Chunks embedded between database writes (each batch is one transaction, so a crash loses at most one). */
const EMBED_BATCH = 32

/** Names an embedding model by file name and size: vectors of different models never mix. */
async function embedderKey(modelPath: string): Promise<string> {
  try {
    return `${basename(modelPath)}#${(await stat(modelPath)).size}`
  } catch (error) {
    throw new LecternError('not_found', `${modelPath}: cannot read the embedding model (${(error as Error).message})`, { file: modelPath, cause: error })
  }
}

async function embedPendingChunks(store: ComprehensionStore, context: JobContext<'cluster'>, modelPath: string, key: string): Promise<number> {
  const total = store.countPending('embedding', { embedder: key })
  if (total === 0) return 0
  const embedder = await LlamaEmbedder.create({ modelPath, contexts: context.params.contexts ?? Math.min(context.threads, defaultContextCount()) })
  context.log(`Embedding ${total} chunks with ${embedder.description}`)
  let done = 0
  try {
    let afterId = 0
    for (;;) {
      context.signal.throwIfAborted()
      const chunks = store.pendingChunks('embedding', afterId, EMBED_BATCH, { embedder: key })
      if (chunks.length === 0) break
      const vectors = await embedder.embed(chunks.map((c) => c.text), context.signal)
      store.writeEmbeddings(key, chunks.map((chunk, i) => ({ chunkId: chunk.id, vector: vectors[i] ?? new Float32Array(embedder.dimension) })))
      done += chunks.length
      afterId = chunks.at(-1)?.id ?? afterId
      context.progress(done, total, `Embedding: ${done} of ${total} chunks`)
    }
  } finally {
    await embedder.close()
  }
  return done
}

/** Members of each k-means cluster, most central first, with their similarity to the centroid. */
async function kMeansClusters(embeddings: StoredEmbeddings, k: number, context: JobContext<'cluster'>): Promise<{ chunkId: number; similarity: number }[][]> {
  const { vectors, dimension, chunkIds } = embeddings
  const result = await kMeans(vectors, dimension, k, { seed: context.params.seed, signal: context.signal, onProgress: (i, max) => context.progress(i, max, `k-means: pass ${i} of at most ${max}`) })
  const clusters: { chunkId: number; similarity: number }[][] = Array.from({ length: result.k }, () => [])
  for (let row = 0; row < chunkIds.length; row++) {
    const cluster = result.assignments[row] ?? 0
    let similarity = 0
    for (let d = 0; d < dimension; d++) similarity += (vectors[row * dimension + d] ?? 0) * (result.centroids[cluster * dimension + d] ?? 0)
    clusters[cluster]?.push({ chunkId: chunkIds[row] ?? 0, similarity })
  }
  return clusters.filter((members) => members.length > 0).map((members) => members.sort((a, b) => b.similarity - a.similarity))
}

/**
 * Embeds the active chunks that have no vector from this embedder (resumable: vectors are stored batch by batch),
 * then groups them as ETRC does: from random seeds, the nearest chunks of other documents while similarity stays
 * above the threshold and the cluster within its limits. Optionally a k-means view for browsing.
 */
export const runClusterJob: JobHandler<'cluster'> = async (context): Promise<ClusterSummary> => {
  const { params } = context
  const db = await openProjectDb(join(context.projectDir, PROJECT_DB_FILE))
  try {
    const store = new ComprehensionStore(db)
    const embedStarted = performance.now()
    let key = store.storedEmbedder()
    let embedded = 0
    if (params.embedder !== null) {
      key = await embedderKey(params.embedder)
      embedded = await embedPendingChunks(store, context, params.embedder, key)
    }
    if (key === null) throw new LecternError('invalid_argument', 'No chunk embeddings are stored yet: choose an embedding model (--embedder <gguf>)')
    const embedSeconds = (performance.now() - embedStarted) / 1000

    const clusterStarted = performance.now()
    const embeddings = store.loadEmbeddings(key)
    const rows = embeddings.chunkIds.length
    if (rows === 0) throw new LecternError('invalid_argument', 'The corpus has no chunks to cluster: import documents first')
    const missing = store.countActiveChunks() - rows
    if (missing > 0) context.log(`${missing} chunks have no embedding from ${key} and stay out of the clusters; run again with --embedder to embed them`, 'warn')
    const chunksPerDocument = new Map<number, number>()
    for (const id of embeddings.documentIds) chunksPerDocument.set(id, (chunksPerDocument.get(id) ?? 0) + 1)
    const mostChunks = Math.max(...chunksPerDocument.values())
    const clusters = await clusterDocuments(embeddings.vectors, embeddings.dimension, embeddings.tokenCounts, {
      similarityThreshold: params.threshold,
      maxDocuments: params.maxDocs,
      maxTokens: params.maxTokens,
      seed: params.seed,
      groupOf: embeddings.documentIds,
      threads: context.threads,
      // A seed's own document's chunks are skipped, so its list needs room for them too.
      neighbourCount: Math.min(rows - 1, 4 * params.maxDocs + 8 + Math.min(mostChunks, 256)),
      signal: context.signal,
      onProgress: (done, total) => context.progress(done, total, `Finding neighbours: ${done} of ${total} chunks`),
    })
    const runId = store.writeClusterRun(
      'extend',
      key,
      params,
      clusters.map((c) => c.documents.map((row, i) => ({ chunkId: embeddings.chunkIds[row] ?? 0, similarity: c.similaritiesToSeed[i] ?? 0 }))),
    )
    const kMeansRunId = params.kMeans === null ? null : store.writeClusterRun('kmeans', key, params, await kMeansClusters(embeddings, params.kMeans, context))
    const summary: ClusterSummary = {
      embedded,
      reusedEmbeddings: rows - embedded,
      runId,
      clusters: clusters.length,
      multiMemberClusters: clusters.filter((c) => c.documents.length > 1).length,
      largestCluster: Math.max(...clusters.map((c) => c.documents.length)),
      kMeansRunId,
      seconds: { embed: embedSeconds, cluster: (performance.now() - clusterStarted) / 1000 },
    }
    context.log(`${summary.clusters} clusters from ${rows} chunks (${summary.multiMemberClusters} with more than one chunk, the largest ${summary.largestCluster})`)
    return summary
  } finally {
    db.close()
  }
}
