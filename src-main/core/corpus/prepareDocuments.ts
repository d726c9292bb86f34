import { createHash } from 'node:crypto'
import { chunkDocument, type TextChunk, type TokenCounter } from './chunkDocument.js'
import type { ExtractedDocument, ExtractOptions, FormatReader, SourceBytes } from './formats/types.js'
import { lshBandingFor, lshBandKeys, MINHASH_SIZE, minHashSignature, type LshBanding } from './minHash.js'
import { cleanDocument, type TextSegment } from './normalizeText.js'

export interface ChunkSettings {
  chunkTokens: number
  overlapTokens: number
  /** Jaccard similarity from which a chunk counts as a near-duplicate of an earlier one. */
  nearDuplicateThreshold: number
}

/** A chunk's place in its document (its ordinal is its index). */
export type PreparedChunk = Omit<TextChunk, 'ordinal'>

/**
 * A document's chunks with everything deduplication needs that does not depend on the rest of the corpus
 * (hashes, signatures, LSH band keys), in typed arrays so that a worker can hand them over without copying.
 */
export interface PreparedChunks {
  chunks: PreparedChunk[]
  tokenCount: number
  /** 16 bytes per chunk: the start of the SHA-256 of its text. */
  hashes: Uint8Array
  /** MINHASH_SIZE values per chunk; `hasSignature[i]` is 0 for a chunk without words. */
  signatures: Uint32Array
  hasSignature: Uint8Array
  /** `banding.bands` keys per chunk. */
  bandKeys: Float64Array
}

/** A cleaned document, chunked, ready to be written. */
export interface PreparedDocument extends PreparedChunks {
  locator: string
  title: string | null
  text: string
  textSha256: string
  segments: TextSegment[]
}

export const CHUNK_HASH_BYTES = 16

/** What chunking and signing need, built once per import (or per worker). */
export class ChunkPreparer {
  readonly settings: ChunkSettings
  readonly banding: LshBanding
  private readonly countTokens: TokenCounter

  constructor(settings: ChunkSettings, countTokens: TokenCounter) {
    this.settings = settings
    this.countTokens = countTokens
    this.banding = lshBandingFor(settings.nearDuplicateThreshold)
  }

  chunk(text: string, segments: readonly TextSegment[]): PreparedChunks {
    const chunks = [...chunkDocument({ text, segments: [...segments] }, { ...this.settings, countTokens: this.countTokens })].map(
      ({ start, end, tokenCount, pageStart, pageEnd, section }): PreparedChunk => ({ start, end, tokenCount, pageStart, pageEnd, section }),
    )
    const bands = this.banding.bands
    const hashes = new Uint8Array(chunks.length * CHUNK_HASH_BYTES)
    const signatures = new Uint32Array(chunks.length * MINHASH_SIZE)
    const hasSignature = new Uint8Array(chunks.length)
    const bandKeys = new Float64Array(chunks.length * bands)
    let tokenCount = 0
    chunks.forEach((chunk, i) => {
      const chunkText = text.slice(chunk.start, chunk.end)
      hashes.set(createHash('sha256').update(chunkText).digest().subarray(0, CHUNK_HASH_BYTES), i * CHUNK_HASH_BYTES)
      const signature = minHashSignature(chunkText)
      if (signature !== null) {
        signatures.set(signature, i * MINHASH_SIZE)
        hasSignature[i] = 1
        bandKeys.set(lshBandKeys(signature, this.banding), i * bands)
      }
      tokenCount += chunk.tokenCount
    })
    return { chunks, tokenCount, hashes, signatures, hasSignature, bandKeys }
  }

  /** Cleans and chunks an extracted document; null when it holds no text. */
  prepare(extracted: ExtractedDocument): PreparedDocument | null {
    const clean = cleanDocument(extracted.blocks)
    if (clean.text === '') return null
    return {
      locator: extracted.locator,
      title: extracted.title?.trim() || null,
      text: clean.text,
      textSha256: createHash('sha256').update(clean.text).digest('hex'),
      segments: clean.segments,
      ...this.chunk(clean.text, clean.segments),
    }
  }
}

/** The typed arrays of prepared documents, for `postMessage`'s transfer list. */
export function transferablesOf(documents: readonly PreparedChunks[]): ArrayBuffer[] {
  return documents.flatMap((d) => [d.hashes.buffer, d.signatures.buffer, d.hasSignature.buffer, d.bandKeys.buffer] as ArrayBuffer[])
}

export interface PreparedBatch {
  documents: PreparedDocument[]
  warnings: string[]
}

/** Extracted text held before a batch is handed on, for formats that yield many documents (JSONL, CSV). */
const BATCH_CHARS = 4 * 1024 * 1024

/** Reads a source with its format's reader and prepares its documents, in batches of a few MB of text. */
export async function* prepareSource(reader: FormatReader, source: SourceBytes, extractOptions: ExtractOptions, preparer: ChunkPreparer): AsyncGenerator<PreparedBatch> {
  let batch: PreparedBatch = { documents: [], warnings: [] }
  let batchChars = 0
  for await (const extracted of reader(source, extractOptions)) {
    extractOptions.signal?.throwIfAborted()
    if (extracted.warnings) batch.warnings.push(...extracted.warnings)
    const prepared = preparer.prepare(extracted)
    if (prepared === null) continue
    batch.documents.push(prepared)
    batchChars += prepared.text.length
    if (batchChars >= BATCH_CHARS) {
      yield batch
      batch = { documents: [], warnings: [] }
      batchChars = 0
    }
  }
  if (batch.documents.length > 0 || batch.warnings.length > 0) yield batch
}
