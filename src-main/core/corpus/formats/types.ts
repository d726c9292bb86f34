/**
 * What every format reader produces: raw text blocks labelled with where they came from. Readers never
 * normalize (normalizeText.ts does, once, for every format) and never touch the database.
 */

export const CORPUS_FORMATS = ['pdf', 'docx', 'html', 'markdown', 'text', 'epub', 'jsonl', 'csv', 'tsv'] as const
export type CorpusFormat = (typeof CORPUS_FORMATS)[number]

/** A run of text from one place in the source: a PDF page, a DOCX/Markdown section, an EPUB chapter… */
export interface ExtractedBlock {
  /** Raw text. Paragraphs inside a block are separated by a blank line ("\n\n"); lines of a paragraph by "\n". */
  text: string
  /** 1-based page number (PDF), when the format has pages. */
  page?: number
  /** Heading or chapter title the block sits under, when the format has them. */
  section?: string
}

/** One document found in a source file. Most files hold one; JSONL/CSV hold one per record. */
export interface ExtractedDocument {
  /** Where inside the file the document is: '' for the whole file, `line 12` for a JSONL record, `row 5` for CSV. */
  locator: string
  title?: string
  blocks: ExtractedBlock[]
  /** Problems that did not stop extraction (replaced bytes, skipped pages); shown beside the file. */
  warnings?: string[]
}

/** Bytes of one source: a file on disk or a member of an archive. */
export interface SourceBytes {
  /** Provenance path shown to the user: `/abs/dir/a.pdf`, or `/abs/dir/b.zip!/inner/a.pdf` for archive members. */
  displayPath: string
  sizeBytes: number
  /** The whole content (readers of formats that need random access: PDF, DOCX, EPUB). */
  readAll(): Promise<Uint8Array>
  /** The content in pieces, for readers that stream (text, JSONL, CSV). */
  stream(): AsyncIterable<Uint8Array>
}

/** Limits that keep a hostile or broken file from exhausting memory. */
export interface ExtractionLimits {
  /** Largest source file (or archive member) read. */
  maxFileBytes: number
  /** Most bytes all members of one archive (zip, DOCX, EPUB) may inflate to. */
  maxArchiveBytes: number
  /** Most entries one archive may list. */
  maxArchiveEntries: number
  /** Largest uncompressed/compressed ratio accepted for an archive member (zip bombs compress ~1000:1). */
  maxCompressionRatio: number
}

export const DEFAULT_EXTRACTION_LIMITS: ExtractionLimits = {
  maxFileBytes: 512 * 1024 * 1024,
  maxArchiveBytes: 2 * 1024 * 1024 * 1024,
  maxArchiveEntries: 100_000,
  maxCompressionRatio: 200,
}

export interface ExtractOptions {
  limits: ExtractionLimits
  /** JSONL field / CSV column holding the text. Defaults to the first of `text`, `content`, `body` present. */
  textField?: string | undefined
  signal?: AbortSignal | undefined
}

/** A format reader. It throws `UnreadableFileError` with a human reason when the file cannot be read. */
export type FormatReader = (source: SourceBytes, options: ExtractOptions) => AsyncIterable<ExtractedDocument>
