import type { CleanDocument, TextSegment } from './normalizeText.js'
import { splitSentences, type TextUnit } from './splitSentences.js'

/** Counts the tokens of `text.slice(start, end)`. */
export type TokenCounter = (text: string, start: number, end: number) => number

export interface ChunkingOptions {
  /** Most tokens in a chunk. */
  chunkTokens: number
  /** Tokens of whole sentences repeated from the end of one chunk at the start of the next (at most). */
  overlapTokens: number
  countTokens: TokenCounter
}

export interface TextChunk {
  ordinal: number
  /** UTF-16 offsets into the cleaned document text, end exclusive: `text.slice(start, end)` is the chunk. */
  start: number
  end: number
  /** Sum of the token counts of the chunk's sentences. */
  tokenCount: number
  pageStart: number | null
  pageEnd: number | null
  section: string | null
}

interface CountedUnit extends TextUnit {
  tokens: number
}

/**
 * A chunk ends early at a paragraph break once it is this full, so chunks tend to hold whole paragraphs
 * instead of a paragraph's first sentence.
 */
const PARAGRAPH_END_FILL = 0.8

/**
 * Packs whole sentences into chunks of at most `chunkTokens` tokens, repeating up to `overlapTokens` tokens
 * of whole sentences between neighbours. A sentence longer than a chunk is cut at spaces.
 */
export function* chunkDocument(document: CleanDocument, options: ChunkingOptions): Generator<TextChunk> {
  const { chunkTokens, overlapTokens } = options
  if (!(chunkTokens >= 1)) throw new RangeError(`chunkTokens must be ≥ 1 (got ${chunkTokens})`)
  if (!(overlapTokens >= 0 && overlapTokens < chunkTokens)) throw new RangeError(`overlapTokens must be in [0, chunkTokens) (got ${overlapTokens})`)
  const locate = segmentLocator(document.segments)
  let window: CountedUnit[] = []
  let windowTokens = 0
  let freshUnits = 0
  let ordinal = 0

  const emit = (): TextChunk => {
    const first = window[0] as CountedUnit
    const last = window[window.length - 1] as CountedUnit
    const startSegment = locate(first.start)
    const endSegment = locate(last.end - 1)
    freshUnits = 0
    return {
      ordinal: ordinal++,
      start: first.start,
      end: last.end,
      tokenCount: windowTokens,
      pageStart: startSegment?.page ?? null,
      pageEnd: endSegment?.page ?? null,
      section: startSegment?.section ?? null,
    }
  }

  for (const unit of countedUnits(document.text, options)) {
    const full = windowTokens + unit.tokens > chunkTokens
    const paragraphBreak = unit.startsParagraph && windowTokens >= chunkTokens * PARAGRAPH_END_FILL
    if (window.length > 0 && (full || paragraphBreak)) {
      yield emit()
      window = overlapSuffix(window, Math.min(overlapTokens, chunkTokens - unit.tokens))
      windowTokens = window.reduce((sum, u) => sum + u.tokens, 0)
    }
    window.push(unit)
    windowTokens += unit.tokens
    freshUnits++
  }
  if (freshUnits > 0 && window.length > 0) yield emit()
}

/** The longest run of sentences from the end of `window` holding at most `budget` tokens, never all of it. */
function overlapSuffix(window: readonly CountedUnit[], budget: number): CountedUnit[] {
  let tokens = 0
  let from = window.length
  while (from > 1) {
    const unit = window[from - 1] as CountedUnit
    if (tokens + unit.tokens > budget) break
    tokens += unit.tokens
    from--
  }
  return window.slice(from)
}

function* countedUnits(text: string, options: ChunkingOptions): Generator<CountedUnit> {
  for (const unit of splitSentences(text)) {
    const tokens = options.countTokens(text, unit.start, unit.end)
    if (tokens <= options.chunkTokens) {
      const counted = unit as CountedUnit
      counted.tokens = tokens
      yield counted
      continue
    }
    yield* cutLongSentence(text, unit, options)
  }
}

/** Cuts a sentence longer than a chunk into pieces at spaces (or anywhere, for a word longer than a chunk). */
function* cutLongSentence(text: string, unit: TextUnit, options: ChunkingOptions): Generator<CountedUnit> {
  const words = /\S+/g
  words.lastIndex = unit.start
  let pieceStart = -1
  let pieceEnd = -1
  let pieceTokens = 0
  let startsParagraph = unit.startsParagraph
  const flush = (): CountedUnit => {
    const piece = { start: pieceStart, end: pieceEnd, startsParagraph, tokens: pieceTokens }
    startsParagraph = false
    pieceStart = -1
    pieceTokens = 0
    return piece
  }
  for (let match = words.exec(text); match !== null && match.index < unit.end; match = words.exec(text)) {
    const wordEnd = Math.min(match.index + match[0].length, unit.end)
    let wordStart = match.index
    let wordTokens = options.countTokens(text, wordStart, wordEnd)
    while (wordTokens > options.chunkTokens) {
      // A "word" longer than a chunk (a base64 blob, a URL list): cut it by characters.
      if (pieceStart >= 0) yield flush()
      let cut = wordStart + 1
      let step = Math.max(1, Math.floor((wordEnd - wordStart) / 2))
      while (step > 0) {
        if (cut + step < wordEnd && options.countTokens(text, wordStart, cut + step) <= options.chunkTokens) cut += step
        else step = Math.floor(step / 2)
      }
      // Never between the halves of a surrogate pair: step back, or forward when the pair is all there is.
      if (isLowSurrogate(text.charCodeAt(cut))) cut += cut - 1 > wordStart ? -1 : 1
      pieceStart = wordStart
      pieceEnd = cut
      pieceTokens = options.countTokens(text, wordStart, cut)
      yield flush()
      wordStart = cut
      wordTokens = options.countTokens(text, wordStart, wordEnd)
    }
    if (pieceStart >= 0 && pieceTokens + wordTokens > options.chunkTokens) yield flush()
    if (pieceStart < 0) pieceStart = wordStart
    pieceEnd = wordEnd
    pieceTokens += wordTokens
  }
  if (pieceStart >= 0) yield flush()
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}

/** Finds the segment holding an offset; offsets must be asked for in roughly increasing order (it walks). */
function segmentLocator(segments: readonly TextSegment[]): (offset: number) => TextSegment | undefined {
  let index = 0
  return (offset) => {
    if (segments.length === 0) return undefined
    while (index > 0 && (segments[index] as TextSegment).start > offset) index--
    while (index < segments.length - 1 && (segments[index] as TextSegment).end <= offset) index++
    return segments[index]
  }
}
