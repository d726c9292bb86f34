import type { ExtractedBlock } from './formats/types.js'

/** Where a block of the source landed in the cleaned document text. */
export interface TextSegment {
  /** UTF-16 offsets into the cleaned text, end exclusive. */
  start: number
  end: number
  page: number | null
  section: string | null
}

export interface CleanDocument {
  text: string
  segments: TextSegment[]
}

/** Block separator in the cleaned text: a paragraph break. */
export const PARAGRAPH_BREAK = '\n\n'

const LIGATURES: Record<string, string> = {
  '\uFB00': 'ff',
  '\uFB01': 'fi',
  '\uFB02': 'fl',
  '\uFB03': 'ffi',
  '\uFB04': 'ffl',
  '\uFB05': 'st',
  '\uFB06': 'st',
}

// Non-ASCII characters that cleaning rewrites: ligatures, invisible characters (soft hyphen, zero-width
// space/joiners, BOM), no-break and other wide spaces, Unicode line/paragraph separators, C1 controls.
const SPECIAL_NON_ASCII = /[\uFB00-\uFB06\u00AD\u200B-\u200D\u2060\uFEFF\u00A0\u2000-\u200A\u202F\u205F\u3000\u2028\u2029\u0080-\u009F]/g
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NON_ASCII = /[^\x00-\x7F]/
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const ASCII_CONTROLS = /[\x00-\x08\x0B\x0E-\x1F\x7F]/g
const LINE_ENDS = /\r\n?|\f|\v/g
const TRAILING_SPACE = /[ \t]+(?=\n|$)/g
const INNER_SPACE_RUNS = /(\S)[ \t]{2,}(?=\S)/g
const EXTRA_BLANK_LINES = /\n{3,}/g
// Any of the above, in one scan: most text from a reader is already clean.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NEEDS_CLEANING = /[\r\f\v\x00-\x08\x0E-\x1F\x7F]|[ \t](?:[ \t\n]|$)|\n\n\n/

function replaceSpecial(char: string): string {
  const ligature = LIGATURES[char]
  if (ligature !== undefined) return ligature
  if (char === '\u2028') return '\n'
  if (char === '\u2029') return PARAGRAPH_BREAK
  const code = char.charCodeAt(0)
  if (code === 0xa0 || (code >= 0x2000 && code <= 0x200a) || code === 0x202f || code === 0x205f || code === 0x3000) return ' '
  return ''
}

/**
 * Cleans one piece of text: Unicode NFC, ligatures spelled out, invisible and control characters removed,
 * line ends unified, trailing spaces trimmed, runs of spaces inside a line collapsed (leading indentation is
 * kept, for code), at most one blank line in a row. Paragraph breaks survive as "\n\n".
 */
export function normalizeText(raw: string): string {
  let text = raw
  if (NON_ASCII.test(text)) text = text.normalize('NFC').replace(SPECIAL_NON_ASCII, replaceSpecial)
  if (!NEEDS_CLEANING.test(text)) return trimBlankLines(text)
  return text
    .replace(LINE_ENDS, '\n')
    .replace(ASCII_CONTROLS, '')
    .replace(TRAILING_SPACE, '')
    .replace(INNER_SPACE_RUNS, '$1 ')
    .replace(EXTRA_BLANK_LINES, PARAGRAPH_BREAK)
    .replace(/^\n+|\n+$/g, '')
}

function trimBlankLines(text: string): string {
  let start = 0
  let end = text.length
  while (start < end && text.charCodeAt(start) === 10) start++
  while (end > start && text.charCodeAt(end - 1) === 10) end--
  return start === 0 && end === text.length ? text : text.slice(start, end)
}

/**
 * Cleans every block and joins them with paragraph breaks, remembering which part of the cleaned text each
 * block became, so chunks can name their page and section. Blocks that clean to nothing are dropped.
 */
export function cleanDocument(blocks: readonly ExtractedBlock[]): CleanDocument {
  const parts: string[] = []
  const segments: TextSegment[] = []
  let offset = 0
  for (const block of blocks) {
    const text = normalizeText(block.text)
    if (text.trim() === '') continue
    if (parts.length > 0) offset += PARAGRAPH_BREAK.length
    segments.push({ start: offset, end: offset + text.length, page: block.page ?? null, section: block.section === undefined ? null : normalizeText(block.section).replace(/\s+/g, ' ').trim() || null })
    parts.push(text)
    offset += text.length
  }
  return { text: parts.join(PARAGRAPH_BREAK), segments }
}
