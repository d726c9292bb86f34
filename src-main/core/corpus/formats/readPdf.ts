import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type * as PdfJsModule from 'pdfjs-dist/legacy/build/pdf.mjs'
import type { ExtractedBlock, ExtractedDocument, ExtractOptions, FormatReader, SourceBytes } from './types.js'
import { UnreadableFileError } from './UnreadableFileError.js'

type PdfJs = typeof PdfJsModule

/** The part of a pdf.js text item that layout needs. */
interface PdfTextItem {
  str: string
  /** [scaleX, skewY, skewX, scaleY, x, y] in PDF user space (y grows upwards). */
  transform: number[]
  width: number
  hasEOL: boolean
}

/** One visual line of a page. */
interface PdfLine {
  text: string
  /** Baseline of the line's first item. */
  y: number
  fontSize: number
}

/** Lines at each end of a page that may be a running header or footer. */
const MARGIN_LINES_PER_EDGE = 2
/** A margin line is a running header/footer when it repeats at the same edge on this share of the pages with text… */
const RUNNING_LINE_PAGE_SHARE = 0.25
/** …and on at least this many pages. */
const RUNNING_LINE_MIN_PAGES = 2
/** Gap between baselines, relative to the document's usual line spacing, above which a new paragraph starts. */
const PARAGRAPH_GAP_FACTOR = 1.4
/** Percentile of the document's line gaps taken as its line spacing. */
const LINE_SPACING_PERCENTILE = 0.1
/** Line spacing, relative to font size, assumed when no page has two lines in a row to measure it from. */
const DEFAULT_LINE_SPACING = 1.2
/** Horizontal gap between items, relative to font size, that means a space the PDF did not draw. */
const WORD_GAP_FACTOR = 0.15
/** Pages listed by number in the "no text" warning. */
const MAX_PAGES_LISTED = 10

const BARE_PAGE_NUMBER = /^(?:page\s+)?[-–—]?\s*(?:\d{1,5}|[ivxlcdm]{1,7})\s*[-–—]?(?:\s*(?:of|\/)\s*\d{1,5})?$/i
const HYPHENATED_LINE_END = /\p{L}[-\u00AD\u2010]$/u
const STARTS_LOWERCASE = /^\p{Ll}/u

let pdfjsPromise: Promise<PdfJs> | undefined

/** pdf.js is large; load it the first time a PDF is read. */
function loadPdfJs(): Promise<PdfJs> {
  pdfjsPromise ??= import('pdfjs-dist/legacy/build/pdf.mjs')
  return pdfjsPromise
}

/** Folders of pdf.js data files: CMaps for CJK text, metrics of the 14 standard fonts. */
function pdfJsDataUrls(): { cMapUrl: string; standardFontDataUrl: string } {
  const packageDir = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'))
  return { cMapUrl: join(packageDir, 'cmaps') + '/', standardFontDataUrl: join(packageDir, 'standard_fonts') + '/' }
}

/**
 * PDF files: one block per page with text (`page` is 1-based), lines rebuilt from the text layer, lines joined
 * into paragraphs by vertical gaps, words hyphenated across lines rejoined, running headers/footers and bare
 * page numbers removed. Throws `UnreadableFileError` for encrypted, damaged or image-only PDFs.
 */
export const readPdf: FormatReader = async function* (source: SourceBytes, options: ExtractOptions): AsyncGenerator<ExtractedDocument> {
  const pdfjs = await loadPdfJs()
  // pdf.js takes ownership of the buffer (it may transfer it), so it gets a copy of its own.
  const data = (await source.readAll()).slice()
  const loadingTask = pdfjs.getDocument({
    data,
    isEvalSupported: false,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
    useSystemFonts: false,
    disableFontFace: true,
    isOffscreenCanvasSupported: false,
    ...pdfJsDataUrls(),
  })
  let document: ExtractedDocument | undefined
  try {
    document = await extractDocument(loadingTask, source.displayPath, options.signal)
  } catch (error) {
    throw toUnreadable(error, source.displayPath)
  } finally {
    await loadingTask.destroy()
  }
  if (document !== undefined) yield document
}

async function extractDocument(
  loadingTask: ReturnType<PdfJs['getDocument']>,
  displayPath: string,
  signal: AbortSignal | undefined,
): Promise<ExtractedDocument | undefined> {
  const pdf = await loadingTask.promise
  const warnings: string[] = []
  const pagesLines: PdfLine[][] = []
  const pagesWithoutText: number[] = []
  const unreadablePages: number[] = []
  let firstPageError: unknown

  for (let pageNumber = 1; pageNumber <= pdf.numPages; pageNumber++) {
    signal?.throwIfAborted()
    try {
      const page = await pdf.getPage(pageNumber)
      const content = await page.getTextContent()
      page.cleanup()
      const lines = buildLines(content.items.filter((item) => 'str' in item))
      if (lines.length === 0) pagesWithoutText.push(pageNumber)
      pagesLines.push(lines)
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortException') throw error
      firstPageError ??= error
      unreadablePages.push(pageNumber)
      pagesLines.push([])
    }
  }

  if (pagesWithoutText.length + unreadablePages.length === pdf.numPages) {
    if (firstPageError !== undefined) throw firstPageError
    throw new UnreadableFileError(displayPath, 'PDF has no text layer (scanned images?); OCR is not supported')
  }
  if (unreadablePages.length > 0) warnings.push(`damaged PDF: ${describePages(unreadablePages)} could not be read and ${unreadablePages.length === 1 ? 'was' : 'were'} skipped`)
  if (pagesWithoutText.length > 0) warnings.push(`no text layer on ${describePages(pagesWithoutText)} (scanned images?); OCR is not supported`)

  removeRunningLines(pagesLines)
  const lineSpacing = typicalLineSpacing(pagesLines)
  const blocks: ExtractedBlock[] = []
  pagesLines.forEach((lines, index) => {
    const text = joinParagraphs(lines, lineSpacing)
    if (text !== '') blocks.push({ text, page: index + 1 })
  })

  // Pages whose only text was running headers and page numbers: the file is empty, not unreadable.
  if (blocks.length === 0) return undefined
  const title = await documentTitle(pdf)
  return { locator: '', ...(title === undefined ? {} : { title }), blocks, ...(warnings.length > 0 ? { warnings } : {}) }
}

async function documentTitle(pdf: Awaited<ReturnType<PdfJs['getDocument']>['promise']>): Promise<string | undefined> {
  try {
    const { info } = await pdf.getMetadata()
    const title = (info as { Title?: unknown } | undefined)?.Title
    return typeof title === 'string' && title.trim() !== '' ? title.trim() : undefined
  } catch {
    return undefined
  }
}

function describePages(pages: number[]): string {
  const listed = pages.slice(0, MAX_PAGES_LISTED).join(', ')
  const more = pages.length > MAX_PAGES_LISTED ? ` and ${pages.length - MAX_PAGES_LISTED} more` : ''
  return `${pages.length === 1 ? 'page' : 'pages'} ${listed}${more}`
}

function toUnreadable(error: unknown, displayPath: string): unknown {
  if (error instanceof UnreadableFileError) return error
  if (!(error instanceof Error)) return new UnreadableFileError(displayPath, `damaged PDF: ${String(error)}`, { cause: error })
  if (error.name === 'AbortException' || error.name === 'AbortError') return error
  if (error.name === 'PasswordException') {
    return new UnreadableFileError(displayPath, 'PDF is encrypted: a password is required', { cause: error })
  }
  const reason = error.message.replace(/\.$/, '') || error.name
  return new UnreadableFileError(displayPath, `damaged PDF: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`, { cause: error })
}

/** Groups text items into lines: pdf.js marks most line ends (`hasEOL`); a baseline jump marks the rest. */
function buildLines(items: PdfTextItem[]): PdfLine[] {
  const lines: PdfLine[] = []
  let current: PdfLine | undefined
  let previous: PdfTextItem | undefined
  const endLine = (): void => {
    if (current !== undefined && current.text.trim() !== '') lines.push({ ...current, text: current.text.trim() })
    current = undefined
    previous = undefined
  }

  for (const item of items) {
    const [scaleX = 0, skewY = 0, skewX = 0, scaleY = 0, x = 0, y = 0] = item.transform
    const fontSize = Math.hypot(skewX, scaleY) || Math.hypot(scaleX, skewY) || 1
    if (current !== undefined && previous !== undefined && Math.abs(y - current.y) > fontSize * 0.5) endLine()
    if (item.str !== '') {
      if (current === undefined) current = { text: item.str, y, fontSize }
      else {
        const previousEnd = (previous?.transform[4] ?? x) + (previous?.width ?? 0)
        const needsSpace = x - previousEnd > fontSize * WORD_GAP_FACTOR && !/\s$/.test(current.text) && !/^\s/.test(item.str)
        current.text += (needsSpace ? ' ' : '') + item.str
        current.fontSize = Math.max(current.fontSize, fontSize)
      }
      previous = item
    }
    if (item.hasEOL) endLine()
  }
  endLine()
  return lines
}

function maskDigits(text: string): string {
  return text.replace(/\d+/g, '#').replace(/\s+/g, ' ').toLowerCase()
}

/** Keys of the lines nearest the top and bottom edges of a page, where running headers and footers sit. */
function marginKeys(lines: PdfLine[]): Map<PdfLine, string[]> {
  const byHeight = [...lines].sort((a, b) => b.y - a.y)
  const keys = new Map<PdfLine, string[]>()
  const add = (line: PdfLine, edge: string): void => {
    keys.set(line, [...(keys.get(line) ?? []), `${edge}:${maskDigits(line.text)}`])
  }
  for (const line of byHeight.slice(0, MARGIN_LINES_PER_EDGE)) add(line, 'top')
  for (const line of byHeight.slice(-MARGIN_LINES_PER_EDGE)) add(line, 'bottom')
  return keys
}

/**
 * Drops running headers/footers (lines at the same edge repeating across pages, digits masked, so that
 * "Page 3 of 9" matches "Page 4 of 9") and bare page numbers at the edges.
 */
function removeRunningLines(pagesLines: PdfLine[][]): void {
  const pagesWithText = pagesLines.filter((lines) => lines.length > 0).length
  const pagesMargins = pagesLines.map(marginKeys)
  const pagesPerKey = new Map<string, number>()
  for (const margins of pagesMargins) {
    for (const key of new Set([...margins.values()].flat())) pagesPerKey.set(key, (pagesPerKey.get(key) ?? 0) + 1)
  }
  const minPages = Math.max(RUNNING_LINE_MIN_PAGES, Math.ceil(pagesWithText * RUNNING_LINE_PAGE_SHARE))
  pagesLines.forEach((lines, index) => {
    const margins = pagesMargins[index] as Map<PdfLine, string[]>
    pagesLines[index] = lines.filter((line) => {
      const keys = margins.get(line)
      if (keys === undefined) return true
      return !BARE_PAGE_NUMBER.test(line.text) && keys.every((key) => (pagesPerKey.get(key) ?? 0) < minPages)
    })
  })
}

/**
 * Usual distance between the baselines of consecutive lines in a paragraph, relative to font size. Gaps
 * between paragraphs are wider, and may be the majority (many one-line paragraphs), so this takes a low
 * percentile of all gaps in the document rather than the median.
 */
function typicalLineSpacing(pagesLines: PdfLine[][]): number {
  const ratios: number[] = []
  for (const lines of pagesLines) {
    for (let i = 1; i < lines.length; i++) {
      const previous = lines[i - 1] as PdfLine
      const line = lines[i] as PdfLine
      const ratio = (previous.y - line.y) / previous.fontSize
      if (ratio >= 0.8 && ratio < 4) ratios.push(ratio)
    }
  }
  if (ratios.length === 0) return DEFAULT_LINE_SPACING
  ratios.sort((a, b) => a - b)
  return ratios[Math.floor((ratios.length - 1) * LINE_SPACING_PERCENTILE)] as number
}

/**
 * Lines become paragraphs ("\n\n" apart) at wide vertical gaps, upward jumps (a new column) and font size
 * changes. Inside a paragraph, lines are joined with a space: a PDF's line breaks are layout, not text.
 */
function joinParagraphs(lines: PdfLine[], lineSpacing: number): string {
  const paragraphs: string[] = []
  let paragraph = ''
  let previous: PdfLine | undefined
  for (const line of lines) {
    if (previous === undefined) paragraph = line.text
    else if (startsParagraph(previous, line, lineSpacing)) {
      paragraphs.push(paragraph)
      paragraph = line.text
    } else if (HYPHENATED_LINE_END.test(paragraph) && STARTS_LOWERCASE.test(line.text)) {
      paragraph = paragraph.slice(0, -1) + line.text
    } else paragraph += ' ' + line.text
    previous = line
  }
  if (paragraph !== '') paragraphs.push(paragraph)
  return paragraphs.join('\n\n')
}

function startsParagraph(previous: PdfLine, line: PdfLine, lineSpacing: number): boolean {
  const gap = previous.y - line.y
  if (gap <= 0) return true
  const sizeRatio = line.fontSize / previous.fontSize
  if (sizeRatio > 1.2 || sizeRatio < 1 / 1.2) return true
  return gap > previous.fontSize * lineSpacing * PARAGRAPH_GAP_FACTOR
}
