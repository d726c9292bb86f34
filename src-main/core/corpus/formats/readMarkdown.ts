import { DomUtils, parseDocument } from 'htmlparser2'
import { marked, type Token, type Tokens } from 'marked'
import { htmlToBlocks } from './readHtml.js'
import { decodeText, wholeFileReader } from './readText.js'
import type { ExtractedBlock, FormatReader } from './types.js'
import { SectionBlocks } from './SectionBlocks.js'

export interface MarkdownText {
  title?: string
  blocks: ExtractedBlock[]
}

/** Headings up to this depth split the text into blocks; deeper ones stay paragraphs of the current block. */
const SECTION_HEADING_DEPTH = 3
const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/
/** Front matter is YAML: its first line is a `key:`. Otherwise the opening "---" is a rule and the text is content. */
const YAML_FIRST_LINE = /^\s*[\w"'-][^:\n]*:/
const FRONT_MATTER_TITLE = /^title[ \t]*:[ \t]*(.+?)[ \t]*$/m
const CHARACTER_REFERENCE = /&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);/gi

/** Markdown files: one document whose blocks are the sections between headings, as plain text. */
export const readMarkdown: FormatReader = wholeFileReader(decodeText, markdownToBlocks)

/**
 * Markdown to plain text without its syntax: link and image targets dropped (their text kept), code kept
 * verbatim, list items and table rows one per line (cells joined by " | "), embedded HTML reduced to its
 * text. YAML front matter is dropped; its `title:` (else the first heading) is the title.
 */
export function markdownToBlocks(markdown: string): MarkdownText {
  const candidate = FRONT_MATTER.exec(markdown)
  const frontMatter = candidate !== null && YAML_FIRST_LINE.test(candidate[1] ?? '') ? candidate : null
  const body = frontMatter === null ? markdown : markdown.slice(frontMatter[0].length)
  const frontMatterTitle = frontMatter === null ? undefined : unquote(FRONT_MATTER_TITLE.exec(frontMatter[1] ?? '')?.[1])

  const writer = new SectionWriter()
  for (const token of marked.lexer(body)) writeBlockToken(token, writer)
  const blocks = writer.finish()
  const title = frontMatterTitle || writer.firstHeading
  return title ? { title, blocks } : { blocks }
}

class SectionWriter {
  firstHeading: string | undefined
  private readonly sections = new SectionBlocks()

  paragraph(text: string): void {
    const trimmed = text.replace(/^\n+|\s+$/g, '')
    if (trimmed.trim() !== '') this.sections.addParagraph(trimmed)
  }

  heading(text: string, depth: number): void {
    if (this.firstHeading === undefined && text !== '') this.firstHeading = text
    if (depth <= SECTION_HEADING_DEPTH) this.sections.startSection(text)
    this.paragraph(text)
  }

  finish(): ExtractedBlock[] {
    return this.sections.finish()
  }
}

function writeBlockToken(token: Token, writer: SectionWriter): void {
  switch (token.type) {
    case 'heading': {
      const heading = token as Tokens.Heading
      writer.heading(inlineText(heading.tokens).replace(/\s+/g, ' ').trim(), heading.depth)
      return
    }
    case 'paragraph':
      writer.paragraph(inlineText((token as Tokens.Paragraph).tokens))
      return
    case 'code':
      writer.paragraph((token as Tokens.Code).text)
      return
    case 'list':
      writer.paragraph(listLines(token as Tokens.List).join('\n'))
      return
    case 'table':
      writer.paragraph(tableLines(token as Tokens.Table).join('\n'))
      return
    case 'blockquote':
      for (const child of (token as Tokens.Blockquote).tokens) writeBlockToken(child, writer)
      return
    case 'html':
      for (const block of htmlToBlocks((token as Tokens.HTML).text, { keepWholeBody: true }).blocks) writer.paragraph(block.text)
      return
    case 'text': {
      const text = token as Tokens.Text
      writer.paragraph(text.tokens === undefined ? decodeCharacterReferences(text.text) : inlineText(text.tokens))
      return
    }
    default:
      // space, hr and link definitions carry no text.
      return
  }
}

/** Each item on its own line; nested lists and further paragraphs of an item follow on lines below it. */
function listLines(list: Tokens.List): string[] {
  const lines: string[] = []
  for (const item of list.items) {
    for (const child of item.tokens) {
      if (child.type === 'list') lines.push(...listLines(child as Tokens.List))
      else if (child.type === 'code') lines.push((child as Tokens.Code).text)
      else if (child.type === 'checkbox') continue
      else {
        const tokens = 'tokens' in child && Array.isArray(child.tokens) ? (child.tokens as Token[]) : undefined
        const text = tokens !== undefined ? inlineText(tokens) : 'text' in child && typeof child.text === 'string' ? decodeCharacterReferences(child.text) : ''
        if (text.trim() !== '') lines.push(text.trim())
      }
    }
  }
  return lines
}

function tableLines(table: Tokens.Table): string[] {
  const row = (cells: Tokens.TableCell[]): string => cells.map((cell) => inlineText(cell.tokens).trim()).join(' | ')
  return [row(table.header), ...table.rows.map(row)]
}

function inlineText(tokens: Token[]): string {
  let text = ''
  for (const token of tokens) {
    switch (token.type) {
      case 'br':
        text += '\n'
        break
      case 'codespan':
      case 'escape':
        text += (token as Tokens.Codespan | Tokens.Escape).text
        break
      case 'image':
        text += (token as Tokens.Image).text
        break
      case 'html':
        // Inline tags arrive one at a time; their text comes as separate tokens, so only <br> is kept.
        if (/^<br\b/i.test((token as Tokens.Tag).text)) text += '\n'
        break
      case 'checkbox':
        break
      default:
        if ('tokens' in token && Array.isArray(token.tokens)) text += inlineText(token.tokens as Token[])
        else if ('text' in token && typeof token.text === 'string') text += decodeCharacterReferences(token.text)
    }
  }
  return text
}

/** Markdown keeps HTML character references (`&amp;`, `&#8212;`) in its text; they stand for characters. */
function decodeCharacterReferences(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(CHARACTER_REFERENCE, (reference) => DomUtils.textContent(parseDocument(reference).children) || reference)
}

function unquote(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const quoted = /^(["'])(.*)\1$/.exec(value)
  return quoted === null ? value : quoted[2]
}
