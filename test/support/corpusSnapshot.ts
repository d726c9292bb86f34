import type { Database } from 'better-sqlite3'

/** Row-id-free views of the corpus tables, for comparing two imports of the same files. */

export interface ChunkRow {
  path: string
  locator: string
  ordinal: number
  char_start: number
  char_end: number
  text: string
  page_start: number | null
  page_end: number | null
  section: string | null
  duplicate_kind: string | null
  original: string | null
}

export function chunkRows(db: Database): ChunkRow[] {
  return db
    .prepare(
      `SELECT f.path, d.locator, c.ordinal, c.char_start, c.char_end, c.text,
         c.page_start, c.page_end, c.section, CASE WHEN c.duplicate_of IS NULL THEN NULL ELSE c.duplicate_kind END AS duplicate_kind,
         (SELECT f2.path || '#' || d2.locator || '#' || o.ordinal FROM chunks o JOIN documents d2 ON d2.id = o.document_id JOIN corpus_files f2 ON f2.id = d2.file_id WHERE o.id = c.duplicate_of) AS original
       FROM chunks c JOIN documents d ON d.id = c.document_id JOIN corpus_files f ON f.id = d.file_id ORDER BY f.path, d.locator, c.ordinal`,
    )
    .all() as ChunkRow[]
}

/** Everything an import decides, without row ids: files and outcomes, documents, chunks, duplicate links. */
export function corpusSnapshot(db: Database): unknown {
  const files = db.prepare('SELECT path, format, status, reason, content_sha256 FROM corpus_files ORDER BY path').all()
  const documents = db
    .prepare(
      `SELECT f.path, d.locator, d.title, d.text_sha256, d.token_count, (SELECT f2.path || '#' || d2.locator FROM documents d2 JOIN corpus_files f2 ON f2.id = d2.file_id WHERE d2.id = d.duplicate_of) AS original
       FROM documents d JOIN corpus_files f ON f.id = d.file_id ORDER BY f.path, d.locator`,
    )
    .all()
  return { files, documents, chunks: chunkRows(db) }
}

