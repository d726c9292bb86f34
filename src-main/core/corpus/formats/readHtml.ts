import { DomUtils, ElementType, parseDocument } from 'htmlparser2'
import { decodeText, decodeWindows1252, wholeFileReader, type DecodedText } from './readText.js'
import type { ExtractedBlock, FormatReader } from './types.js'
import { SectionBlocks } from './SectionBlocks.js'

type HtmlDocument = ReturnType<typeof parseDocument>
type HtmlNode = HtmlDocument['children'][number]
type HtmlElement = Parameters<typeof DomUtils.getAttributeValue>[0]

export interface HtmlToBlocksOptions {
  /** Parse as XML (XHTML in EPUB): case-sensitive names, self-closing tags honoured. Defaults to false. */
  xml?: boolean
  /**
   * Keep everything in the body: no main-content selection and no boilerplate heuristics (navigation,
   * headers, sidebars…). For documents that are all content, such as EPUB chapters. Defaults to false.
   */
  keepWholeBody?: boolean
}

export interface HtmlText {
  title?: string
  blocks: ExtractedBlock[]
}

/** Never text: code, styling, embedded documents and metadata. */
const SKIPPED_ELEMENTS = new Set(['head', 'title', 'script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'embed', 'canvas', 'select', 'datalist'])
/** Page furniture rather than content; skipped unless `keepWholeBody`. */
const BOILERPLATE_ELEMENTS = new Set(['nav', 'footer', 'aside', 'form', 'button', 'dialog', 'menu'])
const BOILERPLATE_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'complementary', 'search', 'menu', 'menubar', 'dialog', 'alertdialog'])
/** Words in an id or class that mark page furniture; matched as whole words of the name ("site-nav", "cookie_banner"). */
const BOILERPLATE_NAME =
  /(?:^|[^a-z])(?:nav|navbar|navigation|menu|sidebar|cookies?|consent|banner|breadcrumbs?|footer|header|masthead|advert|advertisement|ads|share|sharing|social|comments?|related|subscribe|newsletter|popup|modal)(?:[^a-z]|$)/i
/** Elements that start a new paragraph. */
const BLOCK_ELEMENTS = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'caption', 'center', 'dd', 'details', 'dialog', 'div', 'dl', 'dt',
  'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr',
  'html', 'legend', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'tfoot', 'thead',
  'tr', 'ul',
])
/** Headings that split the text into blocks; lower ones stay paragraphs of the current block. */
const SECTION_HEADINGS = new Set(['h1', 'h2', 'h3'])
/** A boilerplate-looking id or class is ignored on an element holding at least this share of the page's text. */
const BOILERPLATE_MAX_TEXT_SHARE = 0.5
/** Bytes searched for a `<meta charset>` declaration, as the HTML standard's prescan does. */
const CHARSET_PRESCAN_BYTES = 2048

/**
 * Turns HTML into text blocks: one block per h1–h3 section (the heading is the block's `section` and its first
 * paragraph), paragraph breaks at block elements, `<br>` as a line break, `<pre>` kept verbatim, table cells
 * joined by " | ". Unless `keepWholeBody`, only `<main>` / role=main, or else the `<article>`s, are kept when
 * present, and navigation, headers, footers, sidebars, cookie banners and the like are dropped.
 */
export function htmlToBlocks(html: string, options: HtmlToBlocksOptions = {}): HtmlText {
  const { xml = false, keepWholeBody = false } = options
  const document = parseDocument(html, { xmlMode: xml, decodeEntities: true })
  const titleElement = DomUtils.findOne((element) => localName(element) === 'title', document.children, true)
  const pageTitle = titleElement === null ? undefined : collapseSpaces(DomUtils.textContent(titleElement))

  const roots = keepWholeBody ? [bodyOf(document)] : contentRoots(document)
  const writer = new BlockWriter()
  const walker = new ContentWalker(writer, { keepWholeBody, pageTextLength: roots.reduce((sum, root) => sum + visibleTextLength(root), 0) })
  for (const root of roots) {
    walker.walk(root)
    writer.paragraphBreak()
  }
  const blocks = writer.finish()
  const title = pageTitle || walker.firstH1
  return title ? { title, blocks } : { blocks }
}

/** HTML files: decoded by their `<meta charset>` when they declare one, else detected like plain text. */
export const readHtml: FormatReader = wholeFileReader(decodeHtml, htmlToBlocks)

/** Decodes HTML bytes: a BOM wins, then a charset declared in the first 2 KB, then plain-text detection. */
export function decodeHtml(bytes: Uint8Array, displayPath: string): DecodedText {
  const hasBom = (bytes[0] === 0xef && bytes[1] === 0xbb) || (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)
  const declared = hasBom ? undefined : declaredCharset(bytes)
  // A UTF-8 declaration is checked like undeclared text (so damaged bytes are reported); UTF-16 cannot be
  // declared in ASCII-compatible bytes, so such a declaration is wrong.
  if (declared === undefined || declared === 'utf-8' || declared.startsWith('utf-16')) return decodeText(bytes, displayPath)
  const decoder = decoderFor(declared)
  if (decoder === undefined) {
    const decoded = decodeText(bytes, displayPath)
    return { ...decoded, warnings: [`unknown charset "${declared}" declared; detected ${decoded.encoding}`, ...decoded.warnings] }
  }
  if (decoder.encoding === 'windows-1252') return { text: decodeWindows1252(bytes), encoding: decoder.encoding, warnings: [] }
  return { text: decoder.decode(bytes), encoding: decoder.encoding, warnings: [] }
}

function decoderFor(label: string): InstanceType<typeof TextDecoder> | undefined {
  try {
    return new TextDecoder(label)
  } catch {
    return undefined
  }
}

function declaredCharset(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder('windows-1252').decode(bytes.subarray(0, CHARSET_PRESCAN_BYTES))
  for (const meta of head.matchAll(/<meta\b[^>]*>/gi)) {
    const charset = /\bcharset\s*=\s*["']?\s*([\w.:-]+)/i.exec(meta[0])?.[1]
    if (charset !== undefined) return charset.toLowerCase()
  }
  return undefined
}

function localName(element: HtmlElement): string {
  const name = element.name.toLowerCase()
  const colon = name.indexOf(':')
  return colon === -1 ? name : name.slice(colon + 1)
}

function isElement(node: HtmlNode | HtmlDocument): node is HtmlElement {
  return ElementType.isTag(node)
}

function bodyOf(document: HtmlDocument): HtmlDocument | HtmlElement {
  return DomUtils.findOne((element) => localName(element) === 'body', document.children, true) ?? document
}

/** `<main>` or role=main when present, else every outermost `<article>`, else the body. */
function contentRoots(document: HtmlDocument): Array<HtmlDocument | HtmlElement> {
  for (const test of [isMainElement, (element: HtmlElement) => localName(element) === 'article']) {
    const found = DomUtils.findAll(test, document.children).filter((element) => !hasAncestor(element, test))
    if (found.length > 0) return found
  }
  return [bodyOf(document)]
}

function isMainElement(element: HtmlElement): boolean {
  return localName(element) === 'main' || element.attribs['role']?.toLowerCase() === 'main'
}

function isContentRoot(element: HtmlElement): boolean {
  return isMainElement(element) || localName(element) === 'article'
}

function hasAncestor(element: HtmlElement, test: (element: HtmlElement) => boolean): boolean {
  for (let parent = element.parent; parent !== null; parent = parent.parent) {
    if (isElement(parent) && test(parent)) return true
  }
  return false
}

/** Length of the text a reader would see (scripts and styles excluded), without whitespace normalization. */
function visibleTextLength(node: HtmlNode | HtmlDocument): number {
  if (node.type === 'text') return node.data.length
  if (!('children' in node)) return 0
  if (isElement(node) && SKIPPED_ELEMENTS.has(localName(node))) return 0
  let length = 0
  for (const child of node.children) length += visibleTextLength(child)
  return length
}

class ContentWalker {
  firstH1: string | undefined
  private readonly writer: BlockWriter
  private readonly keepWholeBody: boolean
  private readonly pageTextLength: number
  private tableCellIndex = 0

  constructor(writer: BlockWriter, options: { keepWholeBody: boolean; pageTextLength: number }) {
    this.writer = writer
    this.keepWholeBody = options.keepWholeBody
    this.pageTextLength = options.pageTextLength
  }

  walk(root: HtmlDocument | HtmlElement): void {
    const children = isElement(root) ? [root] : root.children
    for (const child of children) this.visit(child, false, true)
  }

  /** `insideContentRoot`: below `<main>`/`<article>`, where a `<header>` holds the article's title. */
  private visit(node: HtmlNode, insideContentRoot: boolean, isRoot = false): void {
    if (node.type === 'text') {
      this.writer.write(node.data)
      return
    }
    if (!isElement(node)) return
    const name = localName(node)
    if (SKIPPED_ELEMENTS.has(name) || (!isRoot && this.isBoilerplate(node, name, insideContentRoot))) return

    if (name === 'br') {
      this.writer.lineBreak()
      return
    }
    if (SECTION_HEADINGS.has(name)) {
      const heading = collapseSpaces(DomUtils.textContent(node))
      if (name === 'h1' && this.firstH1 === undefined && heading) this.firstH1 = heading
      this.writer.startSection(heading)
    }
    const isBlock = BLOCK_ELEMENTS.has(name)
    if (isBlock) this.writer.paragraphBreak()
    if (name === 'tr') this.tableCellIndex = 0
    if (name === 'td' || name === 'th') {
      if (this.tableCellIndex > 0) this.writer.write(' | ')
      this.tableCellIndex++
    }
    const wasPreformatted = this.writer.preformatted
    if (name === 'pre') this.writer.preformatted = true
    for (const child of node.children) this.visit(child, insideContentRoot || isContentRoot(node))
    this.writer.preformatted = wasPreformatted
    if (isBlock) this.writer.paragraphBreak()
  }

  private isBoilerplate(element: HtmlElement, name: string, insideContentRoot: boolean): boolean {
    if (this.keepWholeBody) return false
    if (BOILERPLATE_ELEMENTS.has(name)) return true
    if (name === 'header' && !insideContentRoot) return true
    if (element.attribs['aria-hidden'] === 'true' || element.attribs['hidden'] !== undefined) return true
    const role = element.attribs['role']?.toLowerCase()
    if (role !== undefined && BOILERPLATE_ROLES.has(role)) return true
    const names = `${element.attribs['id'] ?? ''} ${element.attribs['class'] ?? ''}`
    if (!BOILERPLATE_NAME.test(names)) return false
    // "page-with-sidebar" on a wrapper around the whole article is a layout class, not furniture.
    return visibleTextLength(element) < this.pageTextLength * BOILERPLATE_MAX_TEXT_SHARE
  }
}

const HTML_WHITESPACE = /[ \t\n\r\f]+/g

function collapseSpaces(text: string): string {
  return text.replace(HTML_WHITESPACE, ' ').trim()
}

/** Accumulates text into lines, paragraphs and section blocks. */
class BlockWriter {
  /** Inside `<pre>`: text is kept verbatim, each newline ends a line, blank lines included. */
  preformatted = false
  private readonly sections = new SectionBlocks()
  private lines: string[] = []
  private line = ''

  write(text: string): void {
    if (this.preformatted) {
      const pieces = text.split(/\r\n?|\n/)
      pieces.forEach((piece, index) => {
        if (index > 0) this.endLine()
        this.line += piece
      })
      return
    }
    const collapsed = text.replace(HTML_WHITESPACE, ' ')
    this.line += this.line === '' || this.line.endsWith(' ') ? collapsed.trimStart() : collapsed
  }

  lineBreak(): void {
    // A <br> on an empty line (the second of two) ends the paragraph.
    if (this.line.trim() === '' && !this.preformatted) this.paragraphBreak()
    else this.endLine()
  }

  paragraphBreak(): void {
    if (this.line.trim() !== '') this.endLine()
    this.line = ''
    while (this.lines.length > 0 && this.lines[this.lines.length - 1] === '') this.lines.pop()
    while (this.lines.length > 0 && this.lines[0] === '') this.lines.shift()
    if (this.lines.length > 0) this.sections.addParagraph(this.lines.join('\n'))
    this.lines = []
  }

  startSection(heading: string): void {
    this.paragraphBreak()
    this.sections.startSection(heading)
  }

  finish(): ExtractedBlock[] {
    this.paragraphBreak()
    return this.sections.finish()
  }

  private endLine(): void {
    this.lines.push(this.preformatted ? this.line.trimEnd() : this.line.trim())
    this.line = ''
  }
}
