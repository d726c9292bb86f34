import type { ExtractedBlock, ExtractedDocument, ExtractOptions, FormatReader, SourceBytes } from './types.js'
import { UnreadableFileError } from './UnreadableFileError.js'

export interface DecodedText {
  text: string
  /** WHATWG name of the encoding used: `utf-8`, `utf-16le`, `utf-16be` or `windows-1252`. */
  encoding: string
  /** Problems that did not stop decoding (replaced bytes, an odd UTF-16 length). */
  warnings: string[]
}

/** Bytes inspected for the UTF-16 and control-character tests, from the start, middle and end of the file. */
const SAMPLE_BYTES = 64 * 1024
/** Share of UTF-16 code units in the sample whose other byte is NUL, above which NUL-padded text is UTF-16. */
const UTF16_NUL_SHARE = 0.3
/** Share of control bytes (other than tab, line ends, form feed, escape) above which content is binary. */
const BINARY_CONTROL_SHARE = 0.03

const utf8Fatal = new TextDecoder('utf-8', { fatal: true })
const utf8Lenient = new TextDecoder('utf-8')

/**
 * Decodes the bytes of a text file whose encoding nobody declared: a BOM wins; then NUL-padded ASCII
 * (UTF-16 without BOM); then UTF-8 when the bytes are valid UTF-8 or mostly so (the bad sequences become
 * U+FFFD, with a warning); anything else is Windows-1252, which every byte decodes in. Throws
 * `UnreadableFileError` for binary content.
 */
export function decodeText(bytes: Uint8Array, displayPath: string): DecodedText {
  const bom = detectBom(bytes)
  if (bom === 'utf-8') return decodeUtf8(bytes.subarray(3))
  if (bom !== undefined) return decodeUtf16(bytes.subarray(2), bom, displayPath)

  const unmarkedUtf16 = detectUnmarkedUtf16(bytes)
  if (unmarkedUtf16 !== undefined) return decodeUtf16(bytes, unmarkedUtf16, displayPath)

  const nulOffset = bytes.indexOf(0)
  if (nulOffset !== -1) throw binaryContent(displayPath, `NUL byte at offset ${nulOffset}`)
  rejectControlHeavy(bytes, displayPath)
  return decodeUtf8(bytes)
}

/** Plain text: the whole file is one block, kept as decoded. Empty or blank files yield nothing. */
export const readText: FormatReader = async function* (source: SourceBytes, options: ExtractOptions): AsyncGenerator<ExtractedDocument> {
  options.signal?.throwIfAborted()
  const { text, warnings } = decodeText(await source.readAll(), source.displayPath)
  if (!/\S/.test(text)) return
  yield { locator: '', blocks: [{ text }], ...(warnings.length > 0 ? { warnings } : {}) }
}

function detectBom(bytes: Uint8Array): 'utf-8' | 'utf-16le' | 'utf-16be' | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8'
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le'
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be'
  return undefined
}

/** Latin-script UTF-16 has a NUL in the high byte of most code units: odd offsets for LE, even for BE. */
function detectUnmarkedUtf16(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  const sampleLength = Math.min(bytes.length, SAMPLE_BYTES) & ~1
  if (sampleLength < 2) return undefined
  let nulAtEven = 0
  let nulAtOdd = 0
  for (let i = 0; i < sampleLength; i += 2) {
    if (bytes[i] === 0) nulAtEven++
    if (bytes[i + 1] === 0) nulAtOdd++
  }
  const units = sampleLength / 2
  // Text has NULs on one side only; NULs on both sides mean binary data (or UTF-32, which we don't read).
  if (nulAtOdd > units * UTF16_NUL_SHARE && nulAtEven < units * 0.02) return 'utf-16le'
  if (nulAtEven > units * UTF16_NUL_SHARE && nulAtOdd < units * 0.02) return 'utf-16be'
  return undefined
}

function isBinaryControl(code: number): boolean {
  // Tab, LF, VT, FF, CR and ESC (ANSI colours in logs) occur in text; other C0 controls and DEL don't.
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0b && code !== 0x0c && code !== 0x0d && code !== 0x1b) || code === 0x7f
}

/** Counts control characters in samples from the start, middle and end; a whole-file scan would cost more than decoding. */
function rejectControlHeavy(bytes: Uint8Array, displayPath: string): void {
  const samples = sampleRanges(bytes.length)
  let inspected = 0
  let controls = 0
  for (const [start, end] of samples) {
    for (let i = start; i < end; i++) if (isBinaryControl(bytes[i] as number)) controls++
    inspected += end - start
  }
  if (inspected > 0 && controls > inspected * BINARY_CONTROL_SHARE) {
    throw binaryContent(displayPath, `${Math.round((controls / inspected) * 100)}% control characters`)
  }
}

function sampleRanges(length: number): Array<[number, number]> {
  if (length <= 3 * SAMPLE_BYTES) return [[0, length]]
  const middle = Math.floor(length / 2 - SAMPLE_BYTES / 2)
  return [
    [0, SAMPLE_BYTES],
    [middle, middle + SAMPLE_BYTES],
    [length - SAMPLE_BYTES, length],
  ]
}

function decodeUtf8(bytes: Uint8Array): DecodedText {
  try {
    return { text: utf8Fatal.decode(bytes), encoding: 'utf-8', warnings: [] }
  } catch {
    // Not valid UTF-8: decide below whether it is damaged UTF-8 or a legacy 8-bit encoding.
  }
  const scan = scanUtf8(bytes)
  if (scan.validMultibyte > 0 && scan.validMultibyte >= scan.invalidCount) {
    const text = utf8Lenient.decode(bytes)
    const warning =
      `invalid UTF-8 at byte ${scan.firstInvalidOffset}: ${scan.invalidCount} invalid ` +
      `${scan.invalidCount === 1 ? 'sequence' : 'sequences'} replaced with U+FFFD`
    return { text, encoding: 'utf-8', warnings: [warning] }
  }
  return { text: decodeWindows1252(bytes), encoding: 'windows-1252', warnings: [] }
}

/** Characters of Windows-1252 bytes 0x80–0x9F; the rest of the encoding is Latin-1. Unassigned bytes stay C1 controls. */
const WINDOWS_1252_80_TO_9F =
  '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F' +
  '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178'

/**
 * Decodes Windows-1252 (what HTML calls ISO-8859-1 and US-ASCII too). Node 20's TextDecoder decodes this
 * label as plain Latin-1, turning curly quotes and the euro sign into C1 controls, so this maps 0x80–0x9F itself.
 */
export function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
  return latin1.replace(/[\x80-\x9f]/g, (char) => WINDOWS_1252_80_TO_9F.charAt(char.charCodeAt(0) - 0x80))
}

function decodeUtf16(bytes: Uint8Array, encoding: 'utf-16le' | 'utf-16be', displayPath: string): DecodedText {
  const warnings: string[] = []
  let units = bytes
  if (bytes.length % 2 === 1) {
    warnings.push(`${encoding.toUpperCase()} text has an odd number of bytes; the last byte was dropped`)
    units = bytes.subarray(0, bytes.length - 1)
  }
  const text = new TextDecoder(encoding).decode(units)
  let controls = 0
  const inspected = Math.min(text.length, SAMPLE_BYTES)
  for (let i = 0; i < inspected; i++) {
    const code = text.charCodeAt(i)
    if (code === 0 || isBinaryControl(code)) controls++
  }
  if (controls > inspected * BINARY_CONTROL_SHARE) {
    throw binaryContent(displayPath, `${Math.round((controls / inspected) * 100)}% control characters as ${encoding.toUpperCase()}`)
  }
  return { text, encoding, warnings }
}

interface Utf8Scan {
  validMultibyte: number
  invalidCount: number
  firstInvalidOffset: number
}

/** Walks the bytes as UTF-8, counting well-formed multibyte sequences and maximal ill-formed subparts. */
function scanUtf8(bytes: Uint8Array): Utf8Scan {
  let validMultibyte = 0
  let invalidCount = 0
  let firstInvalidOffset = -1
  let i = 0
  const length = bytes.length
  while (i < length) {
    const lead = bytes[i] as number
    if (lead < 0x80) {
      i++
      continue
    }
    const sequenceLength = utf8SequenceLength(bytes, i)
    if (sequenceLength > 0) {
      validMultibyte++
      i += sequenceLength
    } else {
      invalidCount++
      if (firstInvalidOffset === -1) firstInvalidOffset = i
      i += Math.max(1, -sequenceLength)
    }
  }
  return { validMultibyte, invalidCount, firstInvalidOffset }
}

/**
 * Length of the well-formed UTF-8 sequence at `offset`, or minus the length of the ill-formed prefix to skip
 * (at least one byte), per the Unicode "maximal subpart" rule that TextDecoder also uses.
 */
function utf8SequenceLength(bytes: Uint8Array, offset: number): number {
  const lead = bytes[offset] as number
  let needed: number
  let lowerBound = 0x80
  let upperBound = 0xbf
  if (lead >= 0xc2 && lead <= 0xdf) needed = 1
  else if (lead >= 0xe0 && lead <= 0xef) {
    needed = 2
    if (lead === 0xe0) lowerBound = 0xa0
    if (lead === 0xed) upperBound = 0x9f
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    needed = 3
    if (lead === 0xf0) lowerBound = 0x90
    if (lead === 0xf4) upperBound = 0x8f
  } else return -1
  for (let k = 1; k <= needed; k++) {
    const next = bytes[offset + k]
    if (next === undefined || next < lowerBound || next > upperBound) return -k
    lowerBound = 0x80
    upperBound = 0xbf
  }
  return needed + 1
}

function binaryContent(displayPath: string, evidence: string): UnreadableFileError {
  return new UnreadableFileError(displayPath, `binary content, not text (${evidence})`)
}

/**
 * A reader for a format whose whole file is one document: decode the bytes (reporting what was odd), turn
 * the text into blocks. Nothing is yielded when no block has text.
 */
export function wholeFileReader(decode: (bytes: Uint8Array, displayPath: string) => DecodedText, toBlocks: (text: string) => { title?: string; blocks: ExtractedBlock[] }): FormatReader {
  return async function* (source: SourceBytes, options: ExtractOptions): AsyncGenerator<ExtractedDocument> {
    options.signal?.throwIfAborted()
    const { text, warnings } = decode(await source.readAll(), source.displayPath)
    const { title, blocks } = toBlocks(text)
    if (blocks.length === 0) return
    yield { locator: '', ...(title === undefined ? {} : { title }), blocks, ...(warnings.length > 0 ? { warnings } : {}) }
  }
}
