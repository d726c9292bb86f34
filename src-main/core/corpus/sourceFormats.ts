import { extname } from 'node:path'
import { readDocx } from './formats/readDocx.js'
import { readEpub } from './formats/readEpub.js'
import { readHtml } from './formats/readHtml.js'
import { readMarkdown } from './formats/readMarkdown.js'
import { readPdf } from './formats/readPdf.js'
import { readCsv, readJsonl, readTsv } from './formats/readRecords.js'
import { readText } from './formats/readText.js'
import type { CorpusFormat, FormatReader } from './formats/types.js'

const FORMAT_BY_EXTENSION: Record<string, CorpusFormat | 'zip'> = {
  '.pdf': 'pdf',
  '.docx': 'docx',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.mdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
  '.rst': 'text',
  '.epub': 'epub',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.zip': 'zip',
}

export const READERS: Record<CorpusFormat, FormatReader> = {
  pdf: readPdf,
  docx: readDocx,
  html: readHtml,
  markdown: readMarkdown,
  text: readText,
  epub: readEpub,
  jsonl: readJsonl,
  csv: readCsv,
  tsv: readTsv,
}

/** The format a file is read as, from its extension; null for types Lectern does not import. */
export function formatOfPath(path: string): CorpusFormat | 'zip' | null {
  return FORMAT_BY_EXTENSION[extname(path).toLowerCase()] ?? null
}
