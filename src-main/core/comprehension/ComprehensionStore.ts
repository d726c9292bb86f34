import type { Database } from 'better-sqlite3'
import type {
  ClusterInfo,
  ClusterRunInfo,
  ComprehensionTotals,
  QaGenerationStatus,
  QaPairInfo,
  QaRejectReason,
} from '../../shared/types/comprehension.js'
import { QA_GENERATION_STATUSES } from '../../shared/types/comprehension.js'
import { escapeLike } from '../db/escapeLike.js'

/** An active chunk (not a duplicate) as the comprehension steps read it. */
export interface SourceChunk {
  id: number
  documentId: number
  /** Position of the chunk in its document (0 first). */
  ordinal: number
  text: string
  tokenCount: number
  title: string | null
}

export interface StoredRcText {
  chunkId: number
  seed: number
  text: string
  taskCount: number
  tasksJson: string
}

export interface StoredGeneration {
  chunkId: number
  documentId: number
  generator: string
  status: QaGenerationStatus
  rawOutput: string
  error: string | null
  promptTokens: number
  outputTokens: number
  elapsedMs: number
  pairs: { question: string; answer: string; rejectReason: QaRejectReason | null; rejectDetail: string | null }[]
}

export interface QaPairQuery {
  search?: string | undefined
  status?: 'accepted' | 'rejected' | undefined
  reason?: QaRejectReason | undefined
  chunkId?: number | undefined
  sort?: 'chunk' | 'question' | 'answerLength' | undefined
  descending?: boolean | undefined
  offset?: number | undefined
  limit?: number | undefined
}

export interface QaPairEdit {
  question?: string | undefined
  answer?: string | undefined
  status?: 'accepted' | 'rejected' | undefined
}

export interface StoredEmbeddings {
  embedder: string
  dimension: number
  chunkIds: Int32Array
  documentIds: Int32Array
  tokenCounts: Int32Array
  /** Row-major, one unit vector per chunk. */
  vectors: Float32Array
}

interface RawPair {
  id: number
  chunk_id: number
  document_id: number
  question: string
  answer: string
  status: 'accepted' | 'rejected'
  reject_reason: QaRejectReason | null
  reject_detail: string | null
  decided_by: 'filter' | 'user'
  edited: number
}

const ACTIVE_CHUNK = `c.duplicate_of IS NULL AND f.status = 'imported'`
// CROSS JOIN keeps chunks the outer loop: SQLite would otherwise start from the files and sort every chunk of the
// corpus for each page of `pendingChunks`, which made paging through the corpus quadratic.
const CHUNK_SOURCE = `chunks c CROSS JOIN documents d ON d.id = c.document_id CROSS JOIN corpus_files f ON f.id = d.file_id`
const SOURCE_COLUMNS = 'c.id, c.document_id AS documentId, c.ordinal, c.text, c.token_count AS tokenCount, d.title'

interface PendingOptions {
  retryFailed?: boolean | undefined
  embedder?: string | undefined
}

/** An active chunk that lacks data of `mode`; `@embedder` names the embedder for `embedding`. */
function pendingCondition(mode: PendingKind, { retryFailed = false }: PendingOptions): string {
  const missing =
    mode === 'any'
      ? '1 = 1'
      : mode === 'regex'
        ? 'NOT EXISTS (SELECT 1 FROM rc_texts r WHERE r.chunk_id = c.id)'
        : mode === 'embedding'
          ? 'NOT EXISTS (SELECT 1 FROM chunk_embeddings e WHERE e.chunk_id = c.id AND e.embedder = @embedder)'
          : retryFailed
            ? "NOT EXISTS (SELECT 1 FROM qa_generations g WHERE g.chunk_id = c.id AND g.status IN ('ok', 'unparsable'))"
            : 'NOT EXISTS (SELECT 1 FROM qa_generations g WHERE g.chunk_id = c.id)'
  return `${ACTIVE_CHUNK} AND ${missing}`
}

function toPairInfo(row: RawPair): QaPairInfo {
  return {
    id: row.id,
    chunkId: row.chunk_id,
    documentId: row.document_id,
    question: row.question,
    answer: row.answer,
    status: row.status,
    rejectReason: row.reject_reason,
    rejectDetail: row.reject_detail,
    decidedBy: row.decided_by,
    edited: row.edited === 1,
  }
}

/** What a chunk lacks to be pending; `any` takes every active chunk (a preview looks at chunks already done too). */
export type PendingKind = 'regex' | 'llm' | 'embedding' | 'any'

/** All SQL of the comprehension data: mined RC texts, generations and their QA pairs, embeddings and clusters. */
export class ComprehensionStore {
  readonly db: Database

  constructor(db: Database) {
    this.db = db
  }

  countActiveChunks(): number {
    return this.db.prepare(`SELECT COUNT(*) FROM ${CHUNK_SOURCE} WHERE ${ACTIVE_CHUNK}`).pluck().get() as number
  }

  /**
   * The next active chunks, by id after `afterId`, that still lack data of `mode` (all of them for `any`). For `llm`, chunks whose last
   * generation timed out or failed count as lacking when `retryFailed` is set.
   */
  pendingChunks(mode: PendingKind, afterId: number, limit: number, options: PendingOptions = {}): SourceChunk[] {
    return this.db
      .prepare(`SELECT ${SOURCE_COLUMNS} FROM ${CHUNK_SOURCE} WHERE ${pendingCondition(mode, options)} AND c.id > @afterId ORDER BY c.id LIMIT @limit`)
      .all({ afterId, limit, embedder: options.embedder ?? '' }) as SourceChunk[]
  }

  /** How many chunks `pendingChunks` would hand out in all: the same condition, counted without reading any text. */
  countPending(mode: PendingKind, options: PendingOptions = {}): number {
    return this.db.prepare(`SELECT COUNT(*) FROM ${CHUNK_SOURCE} WHERE ${pendingCondition(mode, options)}`).pluck().get({ embedder: options.embedder ?? '' }) as number
  }

  chunks(ids: readonly number[]): SourceChunk[] {
    const statement = this.db.prepare(`SELECT ${SOURCE_COLUMNS} FROM ${CHUNK_SOURCE} WHERE c.id = ?`)
    return ids.flatMap((id) => (statement.get(id) as SourceChunk | undefined) ?? [])
  }

  writeRcTexts(rows: readonly StoredRcText[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO rc_texts (chunk_id, seed, text, task_count, tasks_json) VALUES (?, ?, ?, ?, ?)')
    this.db.transaction(() => {
      for (const row of rows) insert.run(row.chunkId, row.seed, row.text, row.taskCount, row.tasksJson)
    })()
  }

  rcText(chunkId: number): StoredRcText | null {
    const row = this.db.prepare('SELECT chunk_id AS chunkId, seed, text, task_count AS taskCount, tasks_json AS tasksJson FROM rc_texts WHERE chunk_id = ?').get(chunkId)
    return (row as StoredRcText | undefined) ?? null
  }

  /** Long words by how many active chunks use them, for the domain keyword task. */
  longWordChunkCounts(minLength: number): Map<string, number> {
    const counts = new Map<string, number>()
    const word = new RegExp(`\\p{L}{${minLength},}`, 'gu')
    for (const text of this.db.prepare(`SELECT c.text FROM ${CHUNK_SOURCE} WHERE ${ACTIVE_CHUNK}`).pluck().iterate() as IterableIterator<string>) {
      for (const w of new Set(text.toLowerCase().match(word) ?? [])) counts.set(w, (counts.get(w) ?? 0) + 1)
    }
    return counts
  }

  /** The RC texts of active chunks, by chunk id. */
  activeRcTexts(): Map<number, string> {
    const rows = this.db.prepare(`SELECT c.id, r.text FROM ${CHUNK_SOURCE} JOIN rc_texts r ON r.chunk_id = c.id WHERE ${ACTIVE_CHUNK}`).raw().all() as [number, string][]
    return new Map(rows)
  }

  /**
   * Records one chunk's generation and its pairs in one transaction, replacing an earlier attempt: a killed run
   * leaves every chunk either fully recorded or not at all, so a rerun neither repeats nor misses pairs.
   */
  writeGeneration(generation: StoredGeneration): void {
    const { db } = this
    db.transaction(() => {
      db.prepare('DELETE FROM qa_pairs WHERE chunk_id = ?').run(generation.chunkId)
      db.prepare(
        `INSERT OR REPLACE INTO qa_generations (chunk_id, generator, status, raw_output, error, prompt_tokens, output_tokens, elapsed_ms, created_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(generation.chunkId, generation.generator, generation.status, generation.rawOutput, generation.error, generation.promptTokens, generation.outputTokens, generation.elapsedMs, Date.now())
      const insert = db.prepare(
        `INSERT INTO qa_pairs (chunk_id, document_id, ordinal, question, answer, status, reject_reason, reject_detail, decided_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'filter')`,
      )
      generation.pairs.forEach((pair, ordinal) => {
        insert.run(generation.chunkId, generation.documentId, ordinal, pair.question, pair.answer, pair.rejectReason === null ? 'accepted' : 'rejected', pair.rejectReason, pair.rejectDetail)
      })
    })()
  }

  listQaPairs(query: QaPairQuery = {}): { total: number; pairs: QaPairInfo[] } {
    const { where, params } = this.pairFilter(query)
    const total = this.db.prepare(`SELECT COUNT(*) FROM qa_pairs p WHERE ${where}`).pluck().get(params) as number
    const direction = query.descending ? 'DESC' : 'ASC'
    const order = query.sort === 'question' ? `p.question COLLATE NOCASE ${direction}, p.id` : query.sort === 'answerLength' ? `length(p.answer) ${direction}, p.id` : `p.chunk_id ${direction}, p.ordinal`
    const rows = this.db
      .prepare(`SELECT * FROM qa_pairs p WHERE ${where} ORDER BY ${order} LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: Math.min(query.limit ?? 100, 1000), offset: query.offset ?? 0 }) as RawPair[]
    return { total, pairs: rows.map(toPairInfo) }
  }

  private pairFilter(query: QaPairQuery): { where: string; params: Record<string, unknown> } {
    const clauses = ['1 = 1']
    const params: Record<string, unknown> = {}
    if (query.search) {
      clauses.push("(p.question LIKE @search ESCAPE '\\' OR p.answer LIKE @search ESCAPE '\\')")
      params.search = `%${escapeLike(query.search)}%`
    }
    if (query.status) {
      clauses.push('p.status = @status')
      params.status = query.status
    }
    if (query.reason) {
      clauses.push('p.reject_reason = @reason')
      params.reason = query.reason
    }
    if (query.chunkId !== undefined) {
      clauses.push('p.chunk_id = @chunkId')
      params.chunkId = query.chunkId
    }
    return { where: clauses.join(' AND '), params }
  }

  qaPair(id: number): QaPairInfo | null {
    const row = this.db.prepare('SELECT * FROM qa_pairs WHERE id = ?').get(id) as RawPair | undefined
    return row === undefined ? null : toPairInfo(row)
  }

  /** A user's edit or decision; a user decision is never overwritten by the filters (only by regenerating the chunk). */
  updateQaPair(id: number, edit: QaPairEdit): QaPairInfo | null {
    const current = this.qaPair(id)
    if (current === null) return null
    const question = edit.question ?? current.question
    const answer = edit.answer ?? current.answer
    const status = edit.status ?? current.status
    const edited = current.edited || question !== current.question || answer !== current.answer
    const decidedByUser = edit.status !== undefined && edit.status !== current.status
    let { rejectReason, rejectDetail } = current
    if (status === 'accepted') [rejectReason, rejectDetail] = [null, null]
    else if (decidedByUser) [rejectReason, rejectDetail] = ['user', null]
    this.db
      .prepare('UPDATE qa_pairs SET question = ?, answer = ?, status = ?, edited = ?, reject_reason = ?, reject_detail = ?, decided_by = ? WHERE id = ?')
      .run(question, answer, status, edited ? 1 : 0, rejectReason, rejectDetail, decidedByUser || edited ? 'user' : current.decidedBy, id)
    return this.qaPair(id)
  }

  /** Rejects every accepted pair that matches the filter; returns how many. */
  rejectMatching(query: Pick<QaPairQuery, 'search' | 'reason' | 'chunkId'>): number {
    const { where, params } = this.pairFilter({ ...query, status: 'accepted' })
    return this.db
      .prepare(`UPDATE qa_pairs SET status = 'rejected', reject_reason = 'user', reject_detail = NULL, decided_by = 'user' WHERE id IN (SELECT p.id FROM qa_pairs p WHERE ${where})`)
      .run(params).changes
  }

  /** Accepted pairs of active chunks, by document. */
  acceptedPairsByChunk(): Map<number, { question: string; answer: string }[]> {
    const rows = this.db
      .prepare(`SELECT p.chunk_id, p.question, p.answer FROM ${CHUNK_SOURCE} JOIN qa_pairs p ON p.chunk_id = c.id WHERE p.status = 'accepted' AND ${ACTIVE_CHUNK} ORDER BY p.chunk_id, p.ordinal`)
      .raw()
      .all() as [number, string, string][]
    const byChunk = new Map<number, { question: string; answer: string }[]>()
    for (const [chunkId, question, answer] of rows) {
      let list = byChunk.get(chunkId)
      if (!list) byChunk.set(chunkId, (list = []))
      list.push({ question, answer })
    }
    return byChunk
  }

  /** Every active chunk (id order) with its document, for the dataset build. */
  activeChunks(): SourceChunk[] {
    return this.db.prepare(`SELECT ${SOURCE_COLUMNS} FROM ${CHUNK_SOURCE} WHERE ${ACTIVE_CHUNK} ORDER BY c.id`).all() as SourceChunk[]
  }

  writeEmbeddings(embedder: string, rows: readonly { chunkId: number; vector: Float32Array }[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO chunk_embeddings (chunk_id, embedder, dimension, vector) VALUES (?, ?, ?, ?)')
    this.db.transaction(() => {
      for (const { chunkId, vector } of rows) insert.run(chunkId, embedder, vector.length, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength))
    })()
  }

  /** The embedder most of the stored vectors come from, or null when none are stored. */
  storedEmbedder(): string | null {
    return (this.db.prepare('SELECT embedder FROM chunk_embeddings GROUP BY embedder ORDER BY COUNT(*) DESC LIMIT 1').pluck().get() as string | undefined) ?? null
  }

  /** The stored vectors of `embedder` for the active chunks, in chunk id order. */
  loadEmbeddings(embedder: string): StoredEmbeddings {
    const rows = this.db
      .prepare(`SELECT c.id, c.document_id, c.token_count, e.dimension, e.vector FROM ${CHUNK_SOURCE} JOIN chunk_embeddings e ON e.chunk_id = c.id WHERE e.embedder = ? AND ${ACTIVE_CHUNK} ORDER BY c.id`)
      .raw()
      .all(embedder) as [number, number, number, number, Buffer][]
    const dimension = rows[0]?.[3] ?? 0
    const vectors = new Float32Array(rows.length * dimension)
    const chunkIds = new Int32Array(rows.length)
    const documentIds = new Int32Array(rows.length)
    const tokenCounts = new Int32Array(rows.length)
    rows.forEach(([chunkId, documentId, tokens, rowDimension, blob], i) => {
      if (rowDimension !== dimension) throw new Error(`chunk ${chunkId}: a ${rowDimension}-dimensional embedding among ${dimension}-dimensional ones from ${embedder}`)
      chunkIds[i] = chunkId
      documentIds[i] = documentId
      tokenCounts[i] = tokens
      vectors.set(new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength)), i * dimension)
    })
    return { embedder, dimension, chunkIds, documentIds, tokenCounts, vectors }
  }

  /** Stores a clustering as one run (clusters of chunk ids, seed first, with each member's similarity to its seed). */
  writeClusterRun(kind: 'extend' | 'kmeans', embedder: string, params: unknown, clusters: readonly { chunkId: number; similarity: number }[][]): number {
    const { db } = this
    return db.transaction(() => {
      const members = clusters.reduce((sum, cluster) => sum + cluster.length, 0)
      const runId = Number(
        db.prepare('INSERT INTO cluster_runs (kind, embedder, params_json, members, clusters, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)').run(kind, embedder, JSON.stringify(params), members, clusters.length, Date.now())
          .lastInsertRowid,
      )
      const insert = db.prepare('INSERT INTO cluster_members (run_id, chunk_id, cluster, position, similarity) VALUES (?, ?, ?, ?, ?)')
      clusters.forEach((cluster, index) => cluster.forEach((member, position) => insert.run(runId, member.chunkId, index, position, member.similarity)))
      // Older runs of the same kind are superseded; keeping them would only grow the file.
      db.prepare('DELETE FROM cluster_runs WHERE kind = ? AND id <> ?').run(kind, runId)
      return runId
    })()
  }

  latestClusterRun(kind: 'extend' | 'kmeans'): ClusterRunInfo | null {
    const row = this.db.prepare('SELECT id, kind, embedder, clusters, members, created_at_ms AS createdAtMs FROM cluster_runs WHERE kind = ? ORDER BY id DESC LIMIT 1').get(kind)
    return (row as ClusterRunInfo | undefined) ?? null
  }

  /** The clusters of a run as lists of chunk ids (seed first), in cluster order; chunks no longer active are left out. */
  clusterMembers(runId: number): number[][] {
    const rows = this.db
      .prepare(`SELECT m.cluster, m.chunk_id FROM ${CHUNK_SOURCE} JOIN cluster_members m ON m.chunk_id = c.id WHERE m.run_id = ? AND ${ACTIVE_CHUNK} ORDER BY m.cluster, m.position`)
      .raw()
      .all(runId) as [number, number][]
    const clusters: number[][] = []
    let current = -1
    for (const [cluster, chunkId] of rows) {
      if (cluster !== current) {
        clusters.push([])
        current = cluster
      }
      clusters.at(-1)?.push(chunkId)
    }
    return clusters
  }

  /** A page of a run's clusters, largest first, each with its first members. */
  listClusters(runId: number, offset: number, limit: number, membersPerCluster = 5): { total: number; clusters: Omit<ClusterInfo, 'terms'>[] } {
    const total = this.db.prepare('SELECT COUNT(DISTINCT cluster) FROM cluster_members WHERE run_id = ?').pluck().get(runId) as number
    const heads = this.db
      .prepare(
        `SELECT m.cluster, COUNT(*) AS size, SUM(c.token_count) AS tokens FROM cluster_members m JOIN chunks c ON c.id = m.chunk_id
         WHERE m.run_id = ? GROUP BY m.cluster ORDER BY size DESC, m.cluster LIMIT ? OFFSET ?`,
      )
      .all(runId, limit, offset) as { cluster: number; size: number; tokens: number }[]
    const members = this.db.prepare(
      `SELECT m.chunk_id AS chunkId, c.document_id AS documentId, m.similarity, d.title, substr(c.text, 1, 240) AS preview
       FROM cluster_members m JOIN chunks c ON c.id = m.chunk_id JOIN documents d ON d.id = c.document_id
       WHERE m.run_id = ? AND m.cluster = ? ORDER BY m.position LIMIT ?`,
    )
    return {
      total,
      clusters: heads.map((head) => ({
        cluster: head.cluster,
        size: head.size,
        tokens: head.tokens,
        members: members.all(runId, head.cluster, membersPerCluster) as ClusterInfo['members'],
      })),
    }
  }

  /** The texts of one cluster's members, for labelling it. */
  clusterTexts(runId: number, cluster: number, limit = 50): string[] {
    return this.db.prepare('SELECT c.text FROM cluster_members m JOIN chunks c ON c.id = m.chunk_id WHERE m.run_id = ? AND m.cluster = ? ORDER BY m.position LIMIT ?').pluck().all(runId, cluster, limit) as string[]
  }

  totals(): ComprehensionTotals {
    const { db } = this
    const rc = db.prepare('SELECT COUNT(*) AS chunks, COALESCE(SUM(task_count), 0) AS tasks FROM rc_texts').get() as { chunks: number; tasks: number }
    const generations = Object.fromEntries(QA_GENERATION_STATUSES.map((s) => [s, 0])) as Record<QaGenerationStatus, number>
    for (const row of db.prepare('SELECT status, COUNT(*) AS n FROM qa_generations GROUP BY status').all() as { status: QaGenerationStatus; n: number }[]) generations[row.status] = row.n
    const pairs = db.prepare("SELECT COALESCE(SUM(status = 'accepted'), 0) AS accepted, COALESCE(SUM(status = 'rejected'), 0) AS rejected FROM qa_pairs").get() as { accepted: number; rejected: number }
    const rejectedByReason: Partial<Record<QaRejectReason, number>> = {}
    for (const row of db.prepare("SELECT reject_reason AS reason, COUNT(*) AS n FROM qa_pairs WHERE status = 'rejected' GROUP BY reject_reason").all() as { reason: QaRejectReason; n: number }[]) {
      rejectedByReason[row.reason] = row.n
    }
    const embedder = this.storedEmbedder()
    const embeddedChunks = embedder === null ? 0 : (db.prepare('SELECT COUNT(*) FROM chunk_embeddings WHERE embedder = ?').pluck().get(embedder) as number)
    const run = this.latestClusterRun('extend')
    const multiMember = run === null ? 0 : (db.prepare('SELECT COUNT(*) FROM (SELECT cluster FROM cluster_members WHERE run_id = ? GROUP BY cluster HAVING COUNT(*) > 1)').pluck().get(run.id) as number)
    return {
      rcChunks: rc.chunks,
      rcTasks: rc.tasks,
      generations,
      acceptedPairs: pairs.accepted,
      rejectedPairs: pairs.rejected,
      rejectedByReason,
      embeddedChunks,
      embedder,
      clusters: run === null ? null : { runId: run.id, clusters: run.clusters, members: run.members, multiMember },
      activeChunks: this.countActiveChunks(),
    }
  }
}
