import { Parser, type Handler } from 'htmlparser2'
import { ZipArchive, ZipArchiveError } from '../archive/ZipArchive.js'
import type { ExtractedBlock, ExtractedDocument, FormatReader } from './types.js'
import { UnreadableFileError } from './UnreadableFileError.js'

const MAIN_DOCUMENT = 'word/document.xml'
const FOOTNOTES_SECTION = 'Footnotes'

/** Style ids Word gives headings in common locales (the id drops non-ASCII letters: "Überschrift1" → "berschrift1"). */
const HEADING_STYLE_ID = /^(heading|berschrift|titre|kop|rubrik|otsikko|nagwek|encabezado|titolo)\s?[1-9]$|^(title|titel|titre|titolo|ttulo)$/i
/** Built-in style names are stored in English whatever the UI language ("heading 1", "Title"). */
const HEADING_STYLE_NAME = /^(heading [1-9]|title)$/i
/** Outline levels 0–8 are heading levels 1–9; 9 means body text. */
const MAX_HEADING_OUTLINE_LEVEL = 8

/**
 * Reads a Word document (.docx): body paragraphs and tables in order, a new block at each heading (with the
 * heading as `section`), then footnotes and endnotes as a last block. The title is the document property, else
 * the first heading.
 */
export const readDocx: FormatReader = async function* readDocx(source, options) {
  const archive = await openDocxArchive(source.displayPath, await source.readAll(), options)
  try {
    const mainDocument = (await mainDocumentPart(archive)) ?? MAIN_DOCUMENT
    if (!archive.has(mainDocument)) throw new UnreadableFileError(source.displayPath, `not a valid DOCX: ${mainDocument} missing`)
    const headingStyles = archive.has('word/styles.xml') ? await readHeadingStyles(archive) : new Set<string>()

    const builder = new SectionedBlocks()
    await parseXmlStream(archive.openStream(mainDocument), new WordTextCollector(headingStyles, (paragraph) => builder.add(paragraph)))
    const notes: string[] = []
    for (const part of ['word/footnotes.xml', 'word/endnotes.xml']) {
      if (archive.has(part)) notes.push(...(await readNotes(archive, part)))
    }
    const blocks = builder.finish()
    if (notes.length > 0) blocks.push({ text: notes.join('\n\n'), section: FOOTNOTES_SECTION })

    const document: ExtractedDocument = { locator: '', blocks }
    const title = (archive.has('docProps/core.xml') ? await readCoreTitle(archive) : undefined) ?? builder.firstHeading
    if (title !== undefined) document.title = title
    const skipped = archive.rejectedEntries.map((entry) => `archive member ${entry.name} skipped: ${entry.reason}`)
    if (skipped.length > 0) document.warnings = skipped
    yield document
  } finally {
    archive.close()
  }
}

async function openDocxArchive(displayPath: string, bytes: Uint8Array, options: Parameters<FormatReader>[1]): Promise<ZipArchive> {
  try {
    return await ZipArchive.fromBytes(bytes, { displayPath, limits: options.limits, signal: options.signal })
  } catch (error) {
    if (error instanceof ZipArchiveError && error.kind === 'not_zip') {
      throw new UnreadableFileError(displayPath, 'not a valid DOCX: not a zip archive', { cause: error })
    }
    if (error instanceof ZipArchiveError && error.kind === 'damaged') {
      throw new UnreadableFileError(displayPath, `not a valid DOCX: ${error.message}`, { cause: error })
    }
    throw error
  }
}

/** The main part named by the package relationships; generators other than Word may not call it document.xml. */
async function mainDocumentPart(archive: ZipArchive): Promise<string | undefined> {
  if (!archive.has('_rels/.rels')) return undefined
  let target: string | undefined
  await parseXmlStream(archive.openStream('_rels/.rels'), {
    onopentag(name, attributes) {
      if (target === undefined && localName(name) === 'relationship' && attributes.Type?.endsWith('/officeDocument')) {
        target = attributes.Target
      }
    },
  })
  return target?.replace(/^\//, '')
}

/** Ids of paragraph styles that are headings by name or outline level, following `basedOn` chains. */
async function readHeadingStyles(archive: ZipArchive): Promise<Set<string>> {
  const styles = new Map<string, { heading: boolean; basedOn?: string }>()
  let current: { id: string; heading: boolean; basedOn?: string } | undefined
  await parseXmlStream(archive.openStream('word/styles.xml'), {
    onopentag(name, attributes) {
      if (name === 'w:style' && attributes['w:type'] === 'paragraph' && attributes['w:styleId'] !== undefined) {
        current = { id: attributes['w:styleId'], heading: false }
      } else if (current !== undefined && name === 'w:name') {
        if (HEADING_STYLE_NAME.test(attributes['w:val'] ?? '')) current.heading = true
      } else if (current !== undefined && name === 'w:basedOn' && attributes['w:val'] !== undefined) {
        current.basedOn = attributes['w:val']
      } else if (current !== undefined && name === 'w:outlineLvl') {
        if (Number(attributes['w:val']) <= MAX_HEADING_OUTLINE_LEVEL) current.heading = true
      }
    },
    onclosetag(name) {
      if (name === 'w:style' && current !== undefined) {
        styles.set(current.id, current)
        current = undefined
      }
    },
  })
  const headings = new Set<string>()
  for (const [id] of styles) {
    let style = styles.get(id)
    for (let depth = 0; style !== undefined && depth < 10; depth++) {
      if (style.heading) {
        headings.add(id)
        break
      }
      style = style.basedOn === undefined ? undefined : styles.get(style.basedOn)
    }
  }
  return headings
}

async function readNotes(archive: ZipArchive, part: string): Promise<string[]> {
  const notes: string[] = []
  let paragraphs: string[] | undefined
  const collector = new WordTextCollector(new Set(), (paragraph) => paragraphs?.push(paragraph.text))
  await parseXmlStream(archive.openStream(part), {
    onopentag(name, attributes, isImplied) {
      if (name === 'w:footnote' || name === 'w:endnote') {
        // Separators are the horizontal rules Word draws above the notes, not notes.
        const type = attributes['w:type']
        paragraphs = type === undefined || type === 'normal' ? [] : undefined
      }
      collector.onopentag(name, attributes, isImplied)
    },
    ontext: (text) => collector.ontext(text),
    onclosetag(name, isImplied) {
      collector.onclosetag(name, isImplied)
      if ((name === 'w:footnote' || name === 'w:endnote') && paragraphs !== undefined) {
        const note = paragraphs.filter((text) => text.trim() !== '').join('\n').trim()
        if (note !== '') notes.push(note)
        paragraphs = undefined
      }
    },
  })
  return notes
}

async function readCoreTitle(archive: ZipArchive): Promise<string | undefined> {
  let inTitle = false
  let title = ''
  await parseXmlStream(archive.openStream('docProps/core.xml'), {
    onopentag(name) {
      if (name === 'dc:title') inTitle = true
    },
    ontext(text) {
      if (inTitle) title += text
    },
    onclosetag(name) {
      if (name === 'dc:title') inTitle = false
    },
  })
  return title.trim() === '' ? undefined : title.trim()
}

interface WordParagraph {
  text: string
  isHeading: boolean
}

interface ParagraphState {
  parts: string[]
  styleId?: string
  outlineLevel?: number
}

interface TableState {
  rows: string[]
  cells: string[] | undefined
  cellParagraphs: string[] | undefined
}

/**
 * Turns WordprocessingML events into paragraphs. Runs' text, tabs and breaks make up a paragraph; a table becomes
 * one paragraph with cells separated by tabs and rows by newlines.
 */
class WordTextCollector implements Partial<Handler> {
  private readonly paragraphs: ParagraphState[] = []
  private readonly tables: TableState[] = []
  private runDepth = 0
  private paragraphPropertiesDepth = 0
  /** Inside mc:Fallback, which repeats the content of the mc:Choice beside it for older readers. */
  private fallbackDepth = 0
  private textRun: { text: string; preserveSpace: boolean } | undefined

  constructor(
    private readonly headingStyles: ReadonlySet<string>,
    private readonly onParagraph: (paragraph: WordParagraph) => void,
  ) {}

  onopentag(name: string, attributes: Record<string, string>, _isImplied?: boolean): void {
    if (name === 'mc:Fallback') this.fallbackDepth++
    if (this.fallbackDepth > 0) return
    const paragraph = this.paragraphs.at(-1)
    switch (name) {
      case 'w:p':
        this.paragraphs.push({ parts: [] })
        return
      case 'w:pPr':
        this.paragraphPropertiesDepth++
        return
      case 'w:pStyle':
        if (paragraph !== undefined && this.paragraphPropertiesDepth > 0) paragraph.styleId = attributes['w:val']
        return
      case 'w:outlineLvl':
        if (paragraph !== undefined && this.paragraphPropertiesDepth > 0) paragraph.outlineLevel = Number(attributes['w:val'])
        return
      case 'w:r':
        this.runDepth++
        return
      case 'w:t':
        this.textRun = { text: '', preserveSpace: attributes['xml:space'] === 'preserve' }
        return
      case 'w:tbl':
        this.tables.push({ rows: [], cells: undefined, cellParagraphs: undefined })
        return
      case 'w:tr':
        if (this.tables.at(-1) !== undefined) this.tables.at(-1)!.cells = []
        return
      case 'w:tc':
        if (this.tables.at(-1) !== undefined) this.tables.at(-1)!.cellParagraphs = []
        return
    }
    // Tabs, breaks and hyphens count only inside runs: w:tab also defines tab stops in paragraph properties.
    if (this.runDepth === 0 || paragraph === undefined) return
    if (name === 'w:tab') paragraph.parts.push('\t')
    else if (name === 'w:br' || name === 'w:cr') paragraph.parts.push('\n')
    else if (name === 'w:noBreakHyphen') paragraph.parts.push('-')
  }

  ontext(text: string): void {
    if (this.textRun !== undefined && this.fallbackDepth === 0) this.textRun.text += text
  }

  onclosetag(name: string, _isImplied?: boolean): void {
    if (name === 'mc:Fallback') {
      this.fallbackDepth--
      return
    }
    if (this.fallbackDepth > 0) return
    switch (name) {
      case 'w:t': {
        const run = this.textRun
        this.textRun = undefined
        // Without xml:space="preserve", leading and trailing white space is not part of the text.
        if (run !== undefined) this.paragraphs.at(-1)?.parts.push(run.preserveSpace ? run.text : run.text.trim())
        return
      }
      case 'w:r':
        this.runDepth = Math.max(0, this.runDepth - 1)
        return
      case 'w:pPr':
        this.paragraphPropertiesDepth = Math.max(0, this.paragraphPropertiesDepth - 1)
        return
      case 'w:p':
        this.closeParagraph()
        return
      case 'w:tc': {
        const table = this.tables.at(-1)
        if (table?.cellParagraphs === undefined) return
        table.cells?.push(table.cellParagraphs.filter((text) => text.trim() !== '').join(' '))
        table.cellParagraphs = undefined
        return
      }
      case 'w:tr': {
        const table = this.tables.at(-1)
        if (table?.cells === undefined) return
        if (table.cells.some((cell) => cell.trim() !== '')) table.rows.push(table.cells.join('\t'))
        table.cells = undefined
        return
      }
      case 'w:tbl': {
        const table = this.tables.pop()
        if (table === undefined || table.rows.length === 0) return
        const text = table.rows.join('\n')
        const outerCell = this.tables.at(-1)?.cellParagraphs
        if (outerCell !== undefined) outerCell.push(text.replace(/[\t\n]/g, ' '))
        else this.onParagraph({ text, isHeading: false })
        return
      }
    }
  }

  private closeParagraph(): void {
    const paragraph = this.paragraphs.pop()
    if (paragraph === undefined) return
    const text = paragraph.parts.join('')
    const cell = this.tables.at(-1)?.cellParagraphs
    if (cell !== undefined) {
      cell.push(text)
      return
    }
    if (text.trim() === '') return
    this.onParagraph({ text, isHeading: this.isHeading(paragraph) })
  }

  private isHeading(paragraph: ParagraphState): boolean {
    if (paragraph.outlineLevel !== undefined && paragraph.outlineLevel <= MAX_HEADING_OUTLINE_LEVEL) return true
    if (paragraph.styleId === undefined) return false
    return this.headingStyles.has(paragraph.styleId) || HEADING_STYLE_ID.test(paragraph.styleId)
  }
}

/** Groups paragraphs into blocks, starting a new block (headed by the heading itself) at each heading. */
class SectionedBlocks {
  firstHeading: string | undefined
  private readonly blocks: ExtractedBlock[] = []
  private section: string | undefined
  private paragraphs: string[] = []

  add(paragraph: WordParagraph): void {
    if (paragraph.isHeading) {
      this.flush()
      this.section = paragraph.text.replace(/\s+/g, ' ').trim()
      this.firstHeading ??= this.section
    }
    this.paragraphs.push(paragraph.text)
  }

  finish(): ExtractedBlock[] {
    this.flush()
    return this.blocks
  }

  private flush(): void {
    if (this.paragraphs.length === 0) return
    const block: ExtractedBlock = { text: this.paragraphs.join('\n\n') }
    if (this.section !== undefined) block.section = this.section
    this.blocks.push(block)
    this.paragraphs = []
  }
}

/** Feeds XML to htmlparser2 piece by piece, so a large document.xml is never held as one string. */
async function parseXmlStream(chunks: AsyncIterable<Uint8Array>, handler: Partial<Handler>): Promise<void> {
  const parser = new Parser(handler, { xmlMode: true })
  const decoder = new TextDecoder()
  for await (const chunk of chunks) parser.write(decoder.decode(chunk, { stream: true }))
  parser.write(decoder.decode())
  parser.end()
}

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1).toLowerCase()
}
