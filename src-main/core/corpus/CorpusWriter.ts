import { createHash } from 'node:crypto'
import { chunkDocument, type TokenCounter } from './chunkDocument.js'
import type { CorpusStore } from './CorpusStore.js'
import type { ExtractedDocument } from './formats/types.js'
import { estimateJaccard, lshBandingFor, lshBandKeys, minHashSignature, type LshBanding } from './minHash.js'
import { cleanDocument, type TextSegment } from './normalizeText.js'

export interface ChunkSettings {
  chunkTokens: number
  overlapTokens: number
  /** Jaccard similarity from which a chunk counts as a near-duplicate of an earlier one. */
  nearDuplicateThreshold: number
}

/** What writing some documents added to the corpus. */
export interface WriteCounts {
  documents: number
  duplicateDocuments: number
  chunks: number
  tokens: number
  exactDuplicateChunks: number
  nearDuplicateChunks: number
}

export interface DuplicateDecision {
  textHash: Uint8Array
  signature: Uint32Array | null
  bandKeys: number[]
  duplicateOf: number | null
  duplicateKind: 'exact' | 'near' | null
  similarity: number | null
}

export function emptyWriteCounts(): WriteCounts {
  return { documents: 0, duplicateDocuments: 0, chunks: 0, tokens: 0, exactDuplicateChunks: 0, nearDuplicateChunks: 0 }
}

export function addWriteCounts(into: WriteCounts, more: WriteCounts): void {
  for (const key of Object.keys(into) as (keyof WriteCounts)[]) into[key] += more[key]
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

function chunkHash(text: string): Uint8Array {
  return createHash('sha256').update(text).digest().subarray(0, 16)
}

/**
 * Writes cleaned documents and their chunks, deciding duplicates as it goes: a document whose cleaned text
 * was seen before is stored but not chunked; a chunk whose text was seen before is an exact duplicate; a
 * chunk whose MinHash signature agrees with an earlier active chunk's on at least the threshold share is a
 * near duplicate. Duplicates keep a link to their original and stay restorable. Only active chunks enter
 * the LSH index, so a candidate is always an original.
 */
export class CorpusWriter {
  private readonly store: CorpusStore
  private readonly settings: ChunkSettings
  private readonly countTokens: TokenCounter
  private readonly banding: LshBanding

  constructor(store: CorpusStore, settings: ChunkSettings, countTokens: TokenCounter) {
    this.store = store
    this.settings = settings
    this.countTokens = countTokens
    this.banding = lshBandingFor(settings.nearDuplicateThreshold)
  }

  /** Cleans and stores one extracted document; returns null when it holds no text. */
  addDocument(fileId: number, extracted: ExtractedDocument): WriteCounts | null {
    const clean = cleanDocument(extracted.blocks)
    if (clean.text === '') return null
    const textSha256 = sha256Hex(clean.text)
    const duplicateOf = this.store.originalDocumentWithHash(textSha256)
    const documentId = this.store.insertDocument({
      fileId,
      locator: extracted.locator,
      title: extracted.title?.trim() || null,
      text: clean.text,
      textSha256,
      tokenCount: 0,
      segments: clean.segments,
      duplicateOf,
      keptByUser: false,
    })
    const counts = emptyWriteCounts()
    counts.documents = 1
    if (duplicateOf !== null) {
      counts.duplicateDocuments = 1
      return counts
    }
    addWriteCounts(counts, this.chunk(documentId, clean.text, clean.segments, false))
    return counts
  }

  /** Chunks a stored document (new, restored, or after the chunk settings changed). */
  chunk(documentId: number, text: string, segments: readonly TextSegment[], keptByUser: boolean): WriteCounts {
    const counts = emptyWriteCounts()
    for (const chunk of chunkDocument({ text, segments: [...segments] }, { ...this.settings, countTokens: this.countTokens })) {
      const chunkText = text.slice(chunk.start, chunk.end)
      const decision = this.classifyChunk(chunkText, keptByUser)
      const chunkId = this.store.insertChunk({
        documentId,
        ordinal: chunk.ordinal,
        start: chunk.start,
        end: chunk.end,
        text: chunkText,
        tokenCount: chunk.tokenCount,
        pageStart: chunk.pageStart,
        pageEnd: chunk.pageEnd,
        section: chunk.section,
        textHash: decision.textHash,
        minHash: decision.signature === null ? null : new Uint8Array(decision.signature.buffer, decision.signature.byteOffset, decision.signature.byteLength),
        duplicateOf: decision.duplicateOf,
        duplicateKind: decision.duplicateKind,
        similarity: decision.similarity,
        keptByUser,
      })
      counts.chunks++
      counts.tokens += chunk.tokenCount
      if (decision.duplicateKind === 'exact') counts.exactDuplicateChunks++
      else if (decision.duplicateKind === 'near') counts.nearDuplicateChunks++
      else this.store.insertBandKeys(chunkId, decision.bandKeys)
    }
    this.store.setDocumentTokenCount(documentId, counts.tokens)
    return counts
  }

  /**
   * Whether a chunk's text is an exact or near duplicate of an active chunk already stored (a chunk the user
   * kept is never one), with what the chunk row and the LSH index need.
   */
  classifyChunk(chunkText: string, keptByUser: boolean): DuplicateDecision {
    const textHash = chunkHash(chunkText)
    const signature = minHashSignature(chunkText)
    const bandKeys = signature === null ? [] : lshBandKeys(signature, this.banding)
    const decision: DuplicateDecision = { textHash, signature, bandKeys, duplicateOf: null, duplicateKind: null, similarity: null }
    if (keptByUser) return decision
    const exact = this.store.originalChunkWithHash(textHash)
    if (exact !== null) return { ...decision, duplicateOf: exact, duplicateKind: 'exact', similarity: 1 }
    if (signature === null) return decision
    const near = this.bestCandidate(signature, bandKeys)
    return near === null ? decision : { ...decision, duplicateOf: near.id, duplicateKind: 'near', similarity: near.similarity }
  }

  /** Band keys of a stored signature, for a chunk that becomes an original (restored, or heir of a deleted one). */
  bandKeysOf(minhash: Uint8Array): number[] {
    return lshBandKeys(new Uint32Array(minhash.buffer.slice(minhash.byteOffset, minhash.byteOffset + minhash.byteLength)), this.banding)
  }

  /**
   * Deletes a file's documents and chunks. Duplicates elsewhere that pointed at them are not left orphaned:
   * the oldest one becomes the new original (and is indexed, or chunked for a document) and the others point at it.
   */
  removeFileDocuments(fileId: number): WriteCounts {
    const heirDocuments = promoteHeirs(this.store.documentDependantsOfFile(fileId), (id, to) => this.store.setDocumentDuplicateOf(id, to))
    const chunkDependants = this.store.chunkDependantsOfFile(fileId)
    const heirChunks = promoteHeirs(chunkDependants, (id, to) => this.store.setChunkDuplicateOf(id, to))
    for (const heir of chunkDependants) {
      if (heirChunks.includes(heir.id) && heir.minhash !== null) this.store.insertBandKeys(heir.id, this.bandKeysOf(heir.minhash))
    }
    for (const chunk of this.store.indexedChunksOfFile(fileId)) this.store.deleteBandKeys(chunk.id, this.bandKeysOf(chunk.minhash))
    this.store.deleteDocumentsOfFile(fileId)
    const counts = emptyWriteCounts()
    for (const documentId of heirDocuments) {
      const document = this.store.documentText(documentId)
      if (document) addWriteCounts(counts, this.chunk(document.id, document.text, document.segments, document.keptByUser))
    }
    return counts
  }

  private bestCandidate(signature: Uint32Array, bandKeys: readonly number[]): { id: number; similarity: number } | null {
    let best: { id: number; similarity: number } | null = null
    for (const candidate of this.store.nearDuplicateCandidates(bandKeys)) {
      const other = new Uint32Array(candidate.minhash.buffer.slice(candidate.minhash.byteOffset, candidate.minhash.byteOffset + candidate.minhash.byteLength))
      const similarity = estimateJaccard(signature, other)
      if (similarity >= this.settings.nearDuplicateThreshold && (best === null || similarity > best.similarity)) best = { id: candidate.id, similarity }
    }
    return best
  }
}

/** For each original about to go, makes its oldest dependant the original and points the rest at that one. */
function promoteHeirs(dependants: readonly { id: number; duplicateOf: number }[], setDuplicateOf: (id: number, duplicateOf: number | null) => void): number[] {
  const heirByOriginal = new Map<number, number>()
  for (const dependant of dependants) {
    const heir = heirByOriginal.get(dependant.duplicateOf)
    if (heir === undefined) {
      heirByOriginal.set(dependant.duplicateOf, dependant.id)
      setDuplicateOf(dependant.id, null)
    } else {
      setDuplicateOf(dependant.id, heir)
    }
  }
  return [...heirByOriginal.values()]
}
