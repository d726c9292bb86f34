import type { Database } from 'better-sqlite3'
import { LecternError } from '../../shared/errors.js'
import {
  DEFAULT_CORPUS_SETTINGS,
  type ChunkDetail,
  type ChunkInfo,
  type ChunkPage,
  type CorpusFileInfo,
  type CorpusFilePage,
  type CorpusFileStatus,
  type CorpusSettings,
  type DocumentInfo,
} from '../../shared/types/corpus.js'
import { CorpusStore } from './CorpusStore.js'
import { CorpusWriter } from './CorpusWriter.js'
import { estimateTokens } from './estimateTokens.js'
import { ChunkPreparer } from './prepareDocuments.js'

const PREVIEW_CHARS = 160
const CONTEXT_CHARS = 300

interface RawChunk {
  id: number
  document_id: number
  ordinal: number
  char_start: number
  char_end: number
  token_count: number
  page_start: number | null
  page_end: number | null
  section: string | null
  duplicate_of: number | null
  duplicate_kind: 'exact' | 'near' | null
  similarity: number | null
  kept_by_user: number
  preview: string
}

function toChunkInfo(row: RawChunk): ChunkInfo {
  return {
    id: row.id,
    documentId: row.document_id,
    ordinal: row.ordinal,
    charStart: row.char_start,
    charEnd: row.char_end,
    tokenCount: row.token_count,
    pageStart: row.page_start,
    pageEnd: row.page_end,
    section: row.section,
    duplicateOf: row.duplicate_of,
    duplicateKind: row.duplicate_kind,
    similarity: row.similarity,
    keptByUser: row.kept_by_user === 1,
    preview: row.preview,
  }
}

const CHUNK_COLUMNS = `c.id, c.document_id, c.ordinal, c.char_start, c.char_end, c.token_count, c.page_start, c.page_end, c.section,
  c.duplicate_of, c.duplicate_kind, c.similarity, c.kept_by_user, substr(c.text, 1, ${PREVIEW_CHARS}) AS preview`

/**
 * Read access to the corpus for the Import screen and the CLI (files, documents, chunks with their source
 * location), and the one write a user makes there: restoring a duplicate.
 */
export class CorpusBrowser {
  private readonly db: Database

  constructor(db: Database) {
    this.db = db
  }

  listFiles(options: { statuses?: readonly CorpusFileStatus[] | undefined; offset?: number | undefined; limit?: number | undefined } = {}): CorpusFilePage {
    const { statuses, offset = 0, limit = 100 } = options
    // An archive that opened is listed through its members; one that failed is listed itself.
    const notContainer = "NOT (f.format IS 'zip' AND f.status IN ('imported', 'importing'))"
    const where = statuses && statuses.length > 0 ? `WHERE f.status IN (${statuses.map(() => '?').join(', ')}) AND ${notContainer}` : `WHERE ${notContainer}`
    const parameters = statuses ? [...statuses] : []
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM corpus_files f ${where}`).get(...parameters) as { n: number }).n
    const rows = this.db
      .prepare(
        `SELECT f.*, (SELECT COUNT(*) FROM documents d WHERE d.file_id = f.id) AS documents,
           (SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.file_id = f.id AND c.duplicate_of IS NULL) AS chunks
         FROM corpus_files f ${where} ORDER BY f.path LIMIT ? OFFSET ?`,
      )
      .all(...parameters, limit, offset) as (Record<string, unknown> & { documents: number; chunks: number })[]
    const files: CorpusFileInfo[] = rows.map((row) => ({
      id: row['id'] as number,
      path: row['path'] as string,
      format: row['format'] as string | null,
      sizeBytes: row['size_bytes'] as number,
      status: row['status'] as CorpusFileInfo['status'],
      reason: row['reason'] as string | null,
      warnings: row['warnings_json'] === null ? [] : (JSON.parse(row['warnings_json'] as string) as string[]),
      documents: row.documents,
      chunks: row.chunks,
      updatedAtMs: row['updated_at_ms'] as number,
    }))
    return { total, files }
  }

  listDocuments(fileId: number): DocumentInfo[] {
    return (this.db.prepare(`${DOCUMENT_SELECT} WHERE d.file_id = ? ORDER BY d.id`).all(fileId) as RawDocument[]).map(toDocumentInfo)
  }

  listChunks(options: { documentId?: number | undefined; fileId?: number | undefined; offset?: number | undefined; limit?: number | undefined }): ChunkPage {
    const { documentId, fileId, offset = 0, limit = 100 } = options
    const [where, parameter] =
      documentId !== undefined ? ['c.document_id = ?', documentId] : fileId !== undefined ? ['c.document_id IN (SELECT id FROM documents WHERE file_id = ?)', fileId] : ['1 = ?', 1]
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM chunks c WHERE ${where}`).get(parameter) as { n: number }).n
    const rows = this.db.prepare(`SELECT ${CHUNK_COLUMNS} FROM chunks c WHERE ${where} ORDER BY c.document_id, c.ordinal LIMIT ? OFFSET ?`).all(parameter, limit, offset) as RawChunk[]
    return { total, chunks: rows.map(toChunkInfo) }
  }

  chunk(chunkId: number): ChunkDetail {
    const row = this.db.prepare(`SELECT ${CHUNK_COLUMNS}, c.text FROM chunks c WHERE c.id = ?`).get(chunkId) as (RawChunk & { text: string }) | undefined
    if (!row) throw new LecternError('not_found', `Chunk ${chunkId} does not exist (the corpus may have been re-chunked)`)
    const document = this.db.prepare(`${DOCUMENT_SELECT} WHERE d.id = ?`).get(row.document_id) as RawDocument
    const text = (this.db.prepare('SELECT text FROM documents WHERE id = ?').get(row.document_id) as { text: string }).text
    const count = (this.db.prepare('SELECT COUNT(*) AS n FROM chunks WHERE document_id = ?').get(row.document_id) as { n: number }).n
    return {
      ...toChunkInfo(row),
      text: row.text,
      document: toDocumentInfo(document),
      before: text.slice(Math.max(0, row.char_start - CONTEXT_CHARS), row.char_start),
      after: text.slice(row.char_end, row.char_end + CONTEXT_CHARS),
      documentChunkCount: count,
    }
  }

  /**
   * Puts a duplicate chunk back into use (it then stays, whatever later imports find), or, for a duplicate
   * document, chunks it so its chunks are used too.
   */
  restoreChunk(chunkId: number): ChunkInfo {
    const result = this.db.prepare('UPDATE chunks SET duplicate_of = NULL, kept_by_user = 1 WHERE id = ?').run(chunkId)
    if (result.changes === 0) throw new LecternError('not_found', `Chunk ${chunkId} does not exist`)
    return toChunkInfo(this.db.prepare(`SELECT ${CHUNK_COLUMNS} FROM chunks c WHERE c.id = ?`).get(chunkId) as RawChunk)
  }

  restoreDocument(documentId: number): { chunks: number } {
    const store = new CorpusStore(this.db)
    const settings = store.settings<CorpusSettings>() ?? DEFAULT_CORPUS_SETTINGS
    // With a tokenizer model set, a restored document is still sized by the estimate: loading the model here
    // for one document is not worth it, and the next import with changed settings re-chunks everything.
    return this.db.transaction(() => {
      const document = store.documentText(documentId)
      if (!document) throw new LecternError('not_found', `Document ${documentId} does not exist`)
      const row = this.db.prepare('SELECT duplicate_of FROM documents WHERE id = ?').get(documentId) as { duplicate_of: number | null }
      if (row.duplicate_of === null) return { chunks: 0 }
      this.db.prepare('UPDATE documents SET duplicate_of = NULL, kept_by_user = 1 WHERE id = ?').run(documentId)
      const writer = new CorpusWriter(store, new ChunkPreparer(settings, estimateTokens))
      return { chunks: writer.chunk(documentId, document.text, document.segments, true).chunks }
    })()
  }
}

interface RawDocument {
  id: number
  file_id: number
  path: string
  locator: string
  title: string | null
  char_count: number
  token_count: number
  duplicate_of: number | null
}

const DOCUMENT_SELECT = 'SELECT d.id, d.file_id, f.path, d.locator, d.title, d.char_count, d.token_count, d.duplicate_of FROM documents d JOIN corpus_files f ON f.id = d.file_id'

function toDocumentInfo(row: RawDocument): DocumentInfo {
  return {
    id: row.id,
    fileId: row.file_id,
    path: row.path,
    locator: row.locator,
    title: row.title,
    charCount: row.char_count,
    tokenCount: row.token_count,
    duplicateOf: row.duplicate_of,
  }
}
