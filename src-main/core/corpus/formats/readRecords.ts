import { pipeline, Readable } from 'node:stream'
import { parse, type CsvError } from 'csv-parse'
import type { ExtractedDocument, ExtractOptions, FormatReader, SourceBytes } from './types.js'
import { UnreadableFileError } from './UnreadableFileError.js'
import { decodeWindows1252 } from './readText.js'

/** Fields tried, in order, when the caller names none. */
const DEFAULT_TEXT_FIELDS = ['text', 'content', 'body']
/** Skipped records reported one by one; the rest are counted in one last warning. */
const MAX_SKIPPED_RECORD_WARNINGS = 100
/** Field names listed in a "no text field" error. */
const MAX_FIELDS_NAMED = 20

/**
 * JSON Lines: one document per line holding a JSON object, located `line N` (the physical line, from 1). The
 * text is `options.textField` (a dotted path reaches into nested objects: `meta.body`) or else the first of
 * `text`, `content`, `body`; the title is a top-level `title`. A line that cannot be used yields a document with
 * no blocks and a warning saying why. Throws `UnreadableFileError` when no record has the text field at all.
 */
export const readJsonl: FormatReader = async function* readJsonl(source, options) {
  const skipped = new SkippedRecords()
  const fieldsSeen = new Set<string>()
  // Skipped records are held back until one record has text: if none has, the file is refused instead.
  let foundTextField = false
  let sawObject = false
  let firstLineError: string | undefined
  const decoder = new RecordTextDecoder()
  let lineNumber = 0
  for await (const line of splitLines(decoder.decodeAll(source.stream()))) {
    lineNumber++
    options.signal?.throwIfAborted()
    if (line.trim() === '') continue
    const locator = `line ${lineNumber}`
    let record: unknown
    try {
      record = JSON.parse(line)
    } catch (error) {
      const reason = `${locator}: not valid JSON (${error instanceof Error ? error.message : String(error)})`
      firstLineError ??= reason
      yield* skipped.add(locator, reason, foundTextField)
      continue
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      firstLineError ??= `${locator}: not a JSON object`
      yield* skipped.add(locator, `${locator}: not a JSON object`, foundTextField)
      continue
    }
    sawObject = true
    const fields = record as Record<string, unknown>
    const found = findJsonText(fields, options.textField)
    if (found === undefined) {
      for (const key of Object.keys(fields)) if (fieldsSeen.size < MAX_FIELDS_NAMED) fieldsSeen.add(key)
      yield* skipped.add(locator, `${locator}: ${missingFieldReason(options.textField)}`, foundTextField)
      continue
    }
    if (!foundTextField) {
      foundTextField = true
      yield* skipped.releaseHeld()
    }
    if (found.text === undefined) {
      yield* skipped.add(locator, `${locator}: field "${found.field}" is ${found.problem}`, true)
      continue
    }
    yield recordDocument(locator, found.text, fields.title)
  }
  if (!foundTextField && sawObject) throw noTextFieldError(source, options, `records have ${[...fieldsSeen].join(', ') || 'no fields'}`)
  if (!foundTextField && firstLineError !== undefined) throw new UnreadableFileError(source.displayPath, `not valid JSON Lines (${firstLineError})`)
  yield* skipped.finish(decoder.warning)
}

/**
 * CSV with a header row: one document per data row, located `row N` (from 1, the header not counted). The text
 * column is `options.textField` or else the first of `text`, `content`, `body` (header names match in any
 * case); a `title` column gives the title. Quoted fields may span lines. Decoded as UTF-8 (a BOM is dropped),
 * or as Windows-1252 from the first byte that is not UTF-8.
 */
export const readCsv: FormatReader = (source, options) => readDelimited(source, options, ',')

/** Tab-separated values, read like CSV. */
export const readTsv: FormatReader = (source, options) => readDelimited(source, options, '\t')

async function* readDelimited(source: SourceBytes, options: ExtractOptions, delimiter: string): AsyncGenerator<ExtractedDocument> {
  const decoder = new RecordTextDecoder()
  let headers: string[] | undefined
  const malformedRows: { parsedBefore: number; reason: string }[] = []
  const parser = parse({
    columns: (header: string[]) => (headers = header),
    delimiter,
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    info: true,
    on_skip: (error: CsvError | undefined) => {
      if (error !== undefined) malformedRows.push({ parsedBefore: Number(error.records ?? 0), reason: `line ${String(error.lines ?? '?')}: ${error.message}` })
      return undefined
    },
  })
  pipeline(Readable.from(decoder.decodeAll(source.stream())), parser, () => {
    // Errors reach the loop below through the parser, which pipeline destroys with them.
  })

  const skipped = new SkippedRecords()
  let columns: { text: string; title: string | undefined } | undefined
  let malformedSeen = 0
  const malformedUpTo = function* (parsedRecords: number): Generator<ExtractedDocument> {
    while (malformedRows[0] !== undefined && malformedRows[0].parsedBefore < parsedRecords) {
      const { parsedBefore, reason } = malformedRows.shift()!
      malformedSeen++
      const locator = `row ${parsedBefore + malformedSeen}`
      yield* skipped.add(locator, `${locator} (${reason})`, true)
    }
  }
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string | undefined>; info: { records: number } }>) {
      options.signal?.throwIfAborted()
      columns ??= findCsvColumns(source, options, headers ?? [])
      yield* malformedUpTo(info.records)
      const locator = `row ${info.records + malformedSeen}`
      const text = record[columns.text]
      if (text === undefined || text.trim() === '') {
        yield* skipped.add(locator, `${locator}: empty "${columns.text}"`, true)
        continue
      }
      yield recordDocument(locator, text, columns.title === undefined ? undefined : record[columns.title])
    }
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code
    if (typeof code !== 'string' || !code.startsWith('CSV_')) throw error
    throw new UnreadableFileError(source.displayPath, `not valid CSV (${error instanceof Error ? error.message : String(error)})`, { cause: error })
  }
  // A file with a header and no rows still says when it has no text column.
  if (columns === undefined && headers !== undefined) findCsvColumns(source, options, headers)
  yield* malformedUpTo(Number.POSITIVE_INFINITY)
  yield* skipped.finish(decoder.warning)
}

function findCsvColumns(source: SourceBytes, options: ExtractOptions, headers: string[]): { text: string; title: string | undefined } {
  const byName = (name: string): string | undefined => headers.find((header) => header === name) ?? headers.find((header) => header.toLowerCase() === name.toLowerCase())
  const text = options.textField !== undefined ? byName(options.textField) : DEFAULT_TEXT_FIELDS.map(byName).find((name) => name !== undefined)
  if (text === undefined) throw noTextFieldError(source, options, `columns are ${headers.slice(0, MAX_FIELDS_NAMED).join(', ') || 'missing'}`)
  return { text, title: byName('title') }
}

type FoundText = { field: string; text: string; problem?: undefined } | { field: string; text?: undefined; problem: string }

/** The record's text field, when it has one: undefined when absent, `problem` when present but not text. */
function findJsonText(record: Record<string, unknown>, textField: string | undefined): FoundText | undefined {
  const candidates = textField !== undefined ? [textField] : DEFAULT_TEXT_FIELDS
  for (const field of candidates) {
    const value = valueAtPath(record, field)
    if (value === undefined) continue
    if (typeof value === 'string') return value.trim() === '' ? { field, problem: 'empty' } : { field, text: value }
    if (typeof value === 'number' || typeof value === 'boolean') return { field, text: String(value) }
    if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) return { field, text: value.join('\n\n') }
    return { field, problem: value === null ? 'null' : 'not text' }
  }
  return undefined
}

/** `a.b` reaches into nested objects, unless the record has a key that is literally `a.b`. */
function valueAtPath(record: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(record, path)) return record[path]
  let value: unknown = record
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

function recordDocument(locator: string, text: string, title: unknown): ExtractedDocument {
  const document: ExtractedDocument = { locator, blocks: [{ text }] }
  if (typeof title === 'string' && title.trim() !== '') document.title = title.trim()
  return document
}

function missingFieldReason(textField: string | undefined): string {
  return textField !== undefined ? `no "${textField}" field` : `no ${DEFAULT_TEXT_FIELDS.join(', ')} field`
}

function noTextFieldError(source: SourceBytes, options: ExtractOptions, found: string): UnreadableFileError {
  const wanted = options.textField !== undefined ? `no "${options.textField}" field` : 'no text field'
  return new UnreadableFileError(source.displayPath, `${wanted}: ${found}; pass --text-field`)
}

/** Documents for skipped records: the first ones each with their warning, the rest counted at the end. */
class SkippedRecords {
  private count = 0
  private held: ExtractedDocument[] = []

  /** The documents to yield now: the skipped record's, unless it is held back or over the cap. */
  add(locator: string, warning: string, release: boolean): ExtractedDocument[] {
    this.count++
    if (this.count > MAX_SKIPPED_RECORD_WARNINGS) return []
    const document: ExtractedDocument = { locator, blocks: [], warnings: [warning] }
    if (release) return [document]
    this.held.push(document)
    return []
  }

  releaseHeld(): ExtractedDocument[] {
    const held = this.held
    this.held = []
    return held
  }

  finish(decodingWarning: string | undefined): ExtractedDocument[] {
    const documents = this.releaseHeld()
    const warnings: string[] = []
    if (this.count > MAX_SKIPPED_RECORD_WARNINGS) warnings.push(`… and ${this.count - MAX_SKIPPED_RECORD_WARNINGS} more records skipped`)
    if (decodingWarning !== undefined) warnings.push(decodingWarning)
    if (warnings.length > 0) documents.push({ locator: '', blocks: [], warnings })
    return documents
  }
}

async function* splitLines(texts: AsyncIterable<string>): AsyncGenerator<string> {
  let pending = ''
  for await (const text of texts) {
    pending += text
    let start = 0
    for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n', start)) {
      yield pending.slice(start, pending[end - 1] === '\r' ? end - 1 : end)
      start = end + 1
    }
    pending = pending.slice(start)
  }
  if (pending !== '') yield pending.endsWith('\r') ? pending.slice(0, -1) : pending
}

/**
 * Decodes a byte stream as UTF-8 (dropping a leading BOM) until the first byte sequence that is not UTF-8, and
 * as Windows-1252 from that piece on: the bytes before are then ASCII in practice, the same in both.
 */
class RecordTextDecoder {
  warning: string | undefined
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  private carry: Uint8Array = new Uint8Array(0)
  private offsetBytes = 0
  private atStart = true
  private windows1252 = false

  async *decodeAll(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
    for await (const chunk of chunks) {
      const text = this.decode(chunk, false)
      if (text !== '') yield text
    }
    const rest = this.decode(new Uint8Array(0), true)
    if (rest !== '') yield rest
  }

  private decode(chunk: Uint8Array, final: boolean): string {
    let bytes = this.carry.byteLength === 0 ? chunk : concatBytes(this.carry, chunk)
    this.carry = new Uint8Array(0)
    if (this.atStart) {
      if (bytes.byteLength < 3 && !final) {
        this.carry = bytes
        return ''
      }
      this.atStart = false
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
        bytes = bytes.subarray(3)
        this.offsetBytes += 3
      }
    }
    if (this.windows1252) return decodeWindows1252(bytes)
    const cut = final ? bytes.byteLength : completeUtf8Length(bytes)
    try {
      const text = this.utf8.decode(bytes.subarray(0, cut))
      this.carry = bytes.slice(cut)
      this.offsetBytes += cut
      return text
    } catch {
      this.windows1252 = true
      this.warning =
        this.offsetBytes === 0 ? 'not valid UTF-8: read as Windows-1252' : `not valid UTF-8 after byte ${this.offsetBytes}: the rest read as Windows-1252`
      return decodeWindows1252(bytes)
    }
  }
}

/** Length of the longest prefix that does not end inside a UTF-8 sequence (one may continue in the next piece). */
function completeUtf8Length(bytes: Uint8Array): number {
  for (let index = bytes.byteLength - 1; index >= Math.max(0, bytes.byteLength - 4); index--) {
    const byte = bytes[index]!
    if ((byte & 0xc0) === 0x80) continue
    const sequenceLength = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
    return index + sequenceLength > bytes.byteLength ? index : bytes.byteLength
  }
  return bytes.byteLength
}

function concatBytes(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.byteLength + second.byteLength)
  joined.set(first)
  joined.set(second, first.byteLength)
  return joined
}
