import type { Database, Statement } from 'better-sqlite3'
import type { CorpusFileStatus, CorpusTotals } from '../../shared/types/corpus.js'
import { escapeLike } from '../db/escapeLike.js'
import type { CorpusFormat } from './formats/types.js'
import type { TextSegment } from './normalizeText.js'


export interface CorpusFileRow {
  id: number
  path: string
  format: CorpusFormat | 'zip' | null
  sizeBytes: number
  mtimeMs: number
  contentSha256: string | null
  /** 'importing' only while a file's documents are being written; a crash leaves it for the next run to redo. */
  status: CorpusFileStatus | 'importing'
  reason: string | null
  warnings: string[]
}

export interface NewDocument {
  fileId: number
  locator: string
  title: string | null
  text: string
  textSha256: string
  tokenCount: number
  segments: readonly TextSegment[]
  duplicateOf: number | null
  keptByUser: boolean
}

export interface NewChunk {
  documentId: number
  ordinal: number
  start: number
  end: number
  text: string
  tokenCount: number
  pageStart: number | null
  pageEnd: number | null
  section: string | null
  textHash: Uint8Array
  minHash: Uint8Array | null
  duplicateOf: number | null
  duplicateKind: 'exact' | 'near' | null
  similarity: number | null
  keptByUser: boolean
}

interface RawFileRow {
  id: number
  path: string
  format: string | null
  size_bytes: number
  mtime_ms: number
  content_sha256: string | null
  status: string
  reason: string | null
  warnings_json: string | null
}

function toFileRow(row: RawFileRow): CorpusFileRow {
  return {
    id: row.id,
    path: row.path,
    format: row.format as CorpusFileRow['format'],
    sizeBytes: row.size_bytes,
    mtimeMs: row.mtime_ms,
    contentSha256: row.content_sha256,
    status: row.status as CorpusFileRow['status'],
    reason: row.reason,
    warnings: row.warnings_json === null ? [] : (JSON.parse(row.warnings_json) as string[]),
  }
}

/** Page cache of an importing connection. */
const IMPORT_CACHE_MIB = 32

/** Every SQL statement of the corpus tables (migration 2), prepared once per connection. */
export class CorpusStore {
  readonly db: Database
  private readonly statements: ReturnType<typeof prepareStatements>

  constructor(db: Database) {
    this.db = db
    this.statements = prepareStatements(db)
  }

  /**
   * Gives the connection a page cache big enough for the chunk indexes (hash and LSH band lookups are
   * random reads; SQLite's default is 2 MB, a few dozen 64 KiB pages) until the returned function is called.
   * A fixed size, so memory stays the same however large the corpus grows.
   */
  useLargeCache(cacheMiB = IMPORT_CACHE_MIB): () => void {
    const previous = this.db.pragma('cache_size', { simple: true }) as number
    this.db.pragma(`cache_size = ${-cacheMiB * 1024}`)
    return () => {
      this.db.pragma(`cache_size = ${previous}`)
    }
  }

  settings<T>(): T | null {
    const row = this.statements.getSettings.get() as { settings_json: string } | undefined
    return row === undefined ? null : (JSON.parse(row.settings_json) as T)
  }

  saveSettings(settings: unknown): void {
    this.statements.saveSettings.run(JSON.stringify(settings))
  }

  fileByPath(path: string): CorpusFileRow | null {
    const row = this.statements.fileByPath.get(path) as RawFileRow | undefined
    return row === undefined ? null : toFileRow(row)
  }

  /** Inserts or replaces the record of a file (keyed by path) and returns its id; its documents stay. */
  upsertFile(file: Omit<CorpusFileRow, 'id'>, nowMs = Date.now()): number {
    const row = this.statements.upsertFile.get({
      path: file.path,
      format: file.format,
      size_bytes: file.sizeBytes,
      mtime_ms: file.mtimeMs,
      content_sha256: file.contentSha256,
      status: file.status,
      reason: file.reason,
      warnings_json: file.warnings.length === 0 ? null : JSON.stringify(file.warnings),
      updated_at_ms: nowMs,
    }) as { id: number }
    return row.id
  }

  /** Files whose path starts with `prefix` (archive members: `a.zip!/`). */
  filesUnder(prefix: string): CorpusFileRow[] {
    return (this.statements.filesUnder.all(`${escapeLike(prefix)}%`) as RawFileRow[]).map(toFileRow)
  }

  deleteFile(fileId: number): void {
    this.statements.deleteFile.run(fileId)
  }

  /** Files a crash left half-written. */
  unfinishedFiles(): CorpusFileRow[] {
    return (this.statements.unfinishedFiles.all() as RawFileRow[]).map(toFileRow)
  }

  originalDocumentWithHash(textSha256: string): number | null {
    const row = this.statements.originalDocumentWithHash.get(textSha256) as { id: number } | undefined
    return row?.id ?? null
  }

  insertDocument(document: NewDocument): number {
    const result = this.statements.insertDocument.run({
      file_id: document.fileId,
      locator: document.locator,
      title: document.title,
      text: document.text,
      text_sha256: document.textSha256,
      char_count: document.text.length,
      token_count: document.tokenCount,
      segments_json: JSON.stringify(document.segments),
      duplicate_of: document.duplicateOf,
      kept_by_user: document.keptByUser ? 1 : 0,
    })
    return Number(result.lastInsertRowid)
  }

  setDocumentTokenCount(documentId: number, tokenCount: number): void {
    this.statements.setDocumentTokenCount.run(tokenCount, documentId)
  }

  originalChunkWithHash(textHash: Uint8Array): number | null {
    const row = this.statements.originalChunkWithHash.get(textHash) as { id: number } | undefined
    return row?.id ?? null
  }

  /** Active chunks sharing at least one LSH band key, with their signatures. */
  nearDuplicateCandidates(bandKeys: readonly number[]): { id: number; minhash: Buffer }[] {
    if (bandKeys.length === 0) return []
    // Most chunks have no candidate at all: look in the band index alone first, join only on a hit.
    const ids = this.bandLookupStatement(bandKeys.length).all(...bandKeys) as number[]
    if (ids.length === 0) return []
    return ids
      .map((id) => this.statements.activeChunkSignature.get(id) as { id: number; minhash: Buffer } | undefined)
      .filter((row): row is { id: number; minhash: Buffer } => row !== undefined && row.minhash !== null)
      .sort((a, b) => a.id - b.id)
  }

  insertChunk(chunk: NewChunk): number {
    const result = this.statements.insertChunk.run({
      document_id: chunk.documentId,
      ordinal: chunk.ordinal,
      char_start: chunk.start,
      char_end: chunk.end,
      text: chunk.text,
      token_count: chunk.tokenCount,
      page_start: chunk.pageStart,
      page_end: chunk.pageEnd,
      section: chunk.section,
      text_hash: chunk.textHash,
      minhash: chunk.minHash,
      duplicate_of: chunk.duplicateOf,
      duplicate_kind: chunk.duplicateKind,
      similarity: chunk.similarity,
      kept_by_user: chunk.keptByUser ? 1 : 0,
    })
    return Number(result.lastInsertRowid)
  }

  /** Calls `visit` with every LSH band key and the hash of every active chunk (to fill the import's filters). */
  forEachIndexedKey(visitBandKey: (key: number) => void, visitChunkHash: (hash: Buffer) => void): void {
    for (const key of this.statements.allBandKeys.iterate() as Iterable<number>) visitBandKey(key)
    for (const hash of this.statements.activeChunkHashes.iterate() as Iterable<Buffer>) visitChunkHash(hash)
  }

  insertBandKeys(chunkId: number, bandKeys: readonly number[]): void {
    if (bandKeys.length === 0) return
    const values: number[] = []
    for (const key of bandKeys) values.push(key, chunkId)
    this.bandInsertStatement(bandKeys.length).run(values)
  }

  private readonly bandInsertStatements = new Map<number, Statement>()
  private bandInsertStatement(keyCount: number): Statement {
    let statement = this.bandInsertStatements.get(keyCount)
    if (statement === undefined) {
      statement = this.db.prepare(`INSERT OR IGNORE INTO chunk_lsh (band_key, chunk_id) VALUES ${Array.from({ length: keyCount }, () => '(?, ?)').join(', ')}`)
      this.bandInsertStatements.set(keyCount, statement)
    }
    return statement
  }

  /** Documents elsewhere that are duplicates of this file's documents, oldest first. */
  documentDependantsOfFile(fileId: number): { id: number; duplicateOf: number }[] {
    return this.statements.documentDependantsOfFile.all(fileId, fileId) as { id: number; duplicateOf: number }[]
  }

  /** Chunks elsewhere that are duplicates of this file's chunks, oldest first. */
  chunkDependantsOfFile(fileId: number): { id: number; duplicateOf: number; textHash: Buffer; minhash: Buffer | null }[] {
    return this.statements.chunkDependantsOfFile.all(fileId, fileId) as { id: number; duplicateOf: number; textHash: Buffer; minhash: Buffer | null }[]
  }

  setDocumentDuplicateOf(documentId: number, duplicateOf: number | null): void {
    this.statements.setDocumentDuplicateOf.run(duplicateOf, documentId)
  }

  setChunkDuplicateOf(chunkId: number, duplicateOf: number | null): void {
    this.statements.setChunkDuplicateOf.run(duplicateOf, chunkId)
  }

  /** Signatures of a file's chunks that are in the LSH index (those that are not duplicates). */
  indexedChunksOfFile(fileId: number): { id: number; minhash: Buffer }[] {
    return this.statements.indexedChunksOfFile.all(fileId) as { id: number; minhash: Buffer }[]
  }

  deleteBandKeys(chunkId: number, bandKeys: readonly number[]): void {
    for (const key of bandKeys) this.statements.deleteBandKey.run(key, chunkId)
  }

  deleteDocumentsOfFile(fileId: number): void {
    this.statements.deleteDocumentsOfFile.run(fileId)
  }

  /** A page of documents that are chunked (not duplicates), in id order, after `afterId`. */
  chunkableDocuments(afterId: number, limit: number): StoredDocumentText[] {
    return (this.statements.chunkableDocuments.all(afterId, limit) as RawDocumentText[]).map(toDocumentText)
  }

  documentText(documentId: number): StoredDocumentText | null {
    const row = this.statements.documentText.get(documentId) as RawDocumentText | undefined
    return row === undefined ? null : toDocumentText(row)
  }

  deleteAllChunks(): void {
    this.db.exec('DELETE FROM chunk_lsh; DELETE FROM chunks;')
  }

  totals(): CorpusTotals {
    const files = Object.fromEntries((this.statements.fileCounts.all() as { status: string; n: number }[]).map((r) => [r.status, r.n]))
    const documents = this.statements.documentTotals.get() as { documents: number; duplicates: number; chars: number }
    const chunks = this.statements.chunkTotals.get() as { chunks: number; active: number; tokens: number | null; exact: number; near: number }
    return {
      files: { imported: files['imported'] ?? 0, empty: files['empty'] ?? 0, failed: files['failed'] ?? 0, skipped: files['skipped'] ?? 0 },
      documents: documents.documents,
      duplicateDocuments: documents.duplicates,
      characters: documents.chars,
      chunks: chunks.chunks,
      activeChunks: chunks.active,
      activeTokens: chunks.tokens ?? 0,
      exactDuplicateChunks: chunks.exact,
      nearDuplicateChunks: chunks.near,
    }
  }

  private readonly bandLookupStatements = new Map<number, Statement>()
  private bandLookupStatement(keyCount: number): Statement {
    let statement = this.bandLookupStatements.get(keyCount)
    if (statement === undefined) {
      const placeholders = Array.from({ length: keyCount }, () => '?').join(', ')
      statement = this.db.prepare(`SELECT DISTINCT chunk_id FROM chunk_lsh WHERE band_key IN (${placeholders})`).pluck()
      this.bandLookupStatements.set(keyCount, statement)
    }
    return statement
  }
}

interface RawDocumentText {
  id: number
  text: string
  segments_json: string
  kept_by_user: number
}

export interface StoredDocumentText {
  id: number
  text: string
  segments: TextSegment[]
  keptByUser: boolean
}

function toDocumentText(row: RawDocumentText): StoredDocumentText {
  return { id: row.id, text: row.text, segments: JSON.parse(row.segments_json) as TextSegment[], keptByUser: row.kept_by_user === 1 }
}

function prepareStatements(db: Database) {
  return {
    getSettings: db.prepare('SELECT settings_json FROM corpus_settings WHERE id = 1'),
    saveSettings: db.prepare('INSERT INTO corpus_settings (id, settings_json) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET settings_json = excluded.settings_json'),
    fileByPath: db.prepare('SELECT * FROM corpus_files WHERE path = ?'),
    upsertFile: db.prepare(`
      INSERT INTO corpus_files (path, format, size_bytes, mtime_ms, content_sha256, status, reason, warnings_json, updated_at_ms)
      VALUES (@path, @format, @size_bytes, @mtime_ms, @content_sha256, @status, @reason, @warnings_json, @updated_at_ms)
      ON CONFLICT (path) DO UPDATE SET format = excluded.format, size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms,
        content_sha256 = excluded.content_sha256, status = excluded.status, reason = excluded.reason,
        warnings_json = excluded.warnings_json, updated_at_ms = excluded.updated_at_ms
      RETURNING id`),
    filesUnder: db.prepare("SELECT * FROM corpus_files WHERE path LIKE ? ESCAPE '\\' ORDER BY id"),
    deleteFile: db.prepare('DELETE FROM corpus_files WHERE id = ?'),
    unfinishedFiles: db.prepare("SELECT * FROM corpus_files WHERE status = 'importing' ORDER BY id"),
    originalDocumentWithHash: db.prepare('SELECT id FROM documents WHERE text_sha256 = ? AND duplicate_of IS NULL ORDER BY id LIMIT 1'),
    insertDocument: db.prepare(`
      INSERT INTO documents (file_id, locator, title, text, text_sha256, char_count, token_count, segments_json, duplicate_of, kept_by_user)
      VALUES (@file_id, @locator, @title, @text, @text_sha256, @char_count, @token_count, @segments_json, @duplicate_of, @kept_by_user)`),
    setDocumentTokenCount: db.prepare('UPDATE documents SET token_count = ? WHERE id = ?'),
    allBandKeys: db.prepare('SELECT band_key FROM chunk_lsh').pluck(),
    activeChunkHashes: db.prepare('SELECT text_hash FROM chunks WHERE duplicate_of IS NULL').pluck(),
    activeChunkSignature: db.prepare('SELECT id, minhash FROM chunks WHERE id = ? AND duplicate_of IS NULL'),
    originalChunkWithHash: db.prepare('SELECT id FROM chunks WHERE text_hash = ? AND duplicate_of IS NULL ORDER BY id LIMIT 1'),
    insertChunk: db.prepare(`
      INSERT INTO chunks (document_id, ordinal, char_start, char_end, text, token_count, page_start, page_end, section, text_hash, minhash,
        duplicate_of, duplicate_kind, similarity, kept_by_user)
      VALUES (@document_id, @ordinal, @char_start, @char_end, @text, @token_count, @page_start, @page_end, @section, @text_hash, @minhash,
        @duplicate_of, @duplicate_kind, @similarity, @kept_by_user)`),
    documentDependantsOfFile: db.prepare(`
      SELECT id, duplicate_of AS duplicateOf FROM documents
      WHERE duplicate_of IN (SELECT id FROM documents WHERE file_id = ?) AND file_id != ? ORDER BY id`),
    chunkDependantsOfFile: db.prepare(`
      SELECT c.id, c.duplicate_of AS duplicateOf, c.text_hash AS textHash, c.minhash FROM chunks c JOIN documents d ON d.id = c.document_id
      WHERE c.duplicate_of IN (SELECT c2.id FROM chunks c2 JOIN documents d2 ON d2.id = c2.document_id WHERE d2.file_id = ?)
        AND d.file_id != ? ORDER BY c.id`),
    setDocumentDuplicateOf: db.prepare('UPDATE documents SET duplicate_of = ? WHERE id = ?'),
    setChunkDuplicateOf: db.prepare('UPDATE chunks SET duplicate_of = ? WHERE id = ?'),
    indexedChunksOfFile: db.prepare(`
      SELECT c.id, c.minhash FROM chunks c JOIN documents d ON d.id = c.document_id
      WHERE d.file_id = ? AND c.duplicate_of IS NULL AND c.minhash IS NOT NULL`),
    deleteBandKey: db.prepare('DELETE FROM chunk_lsh WHERE band_key = ? AND chunk_id = ?'),
    deleteDocumentsOfFile: db.prepare('DELETE FROM documents WHERE file_id = ?'),
    chunkableDocuments: db.prepare('SELECT id, text, segments_json, kept_by_user FROM documents WHERE duplicate_of IS NULL AND id > ? ORDER BY id LIMIT ?'),
    documentText: db.prepare('SELECT id, text, segments_json, kept_by_user FROM documents WHERE id = ?'),
    fileCounts: db.prepare("SELECT status, COUNT(*) AS n FROM corpus_files WHERE NOT (format IS 'zip' AND status IN ('imported', 'importing')) GROUP BY status"),
    documentTotals: db.prepare(`
      SELECT COUNT(*) AS documents, COUNT(duplicate_of) AS duplicates, COALESCE(SUM(char_count), 0) AS chars FROM documents`),
    chunkTotals: db.prepare(`
      SELECT COUNT(*) AS chunks, COUNT(*) - COUNT(duplicate_of) AS active, SUM(CASE WHEN duplicate_of IS NULL THEN token_count END) AS tokens,
        COUNT(CASE WHEN duplicate_of IS NOT NULL AND duplicate_kind = 'exact' THEN 1 END) AS exact,
        COUNT(CASE WHEN duplicate_of IS NOT NULL AND duplicate_kind = 'near' THEN 1 END) AS near
      FROM chunks`),
  }
}
