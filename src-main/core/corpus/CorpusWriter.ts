import type { CorpusWriteCounts } from '../../shared/types/corpus.js'
import { createHash } from 'node:crypto'
import type { CorpusStore } from './CorpusStore.js'
import { hashKey, KeyFilter } from './KeyFilter.js'
import { estimateJaccard, lshBandKeys, MINHASH_SIZE, minHashSignature } from './minHash.js'
import type { TextSegment } from './normalizeText.js'
import { CHUNK_HASH_BYTES, type ChunkPreparer, type PreparedChunks, type PreparedDocument } from './prepareDocuments.js'

export type WriteCounts = CorpusWriteCounts

export interface DuplicateDecision {
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

const NOT_A_DUPLICATE: DuplicateDecision = { duplicateOf: null, duplicateKind: null, similarity: null }

/**
 * Writes prepared documents and their chunks, deciding duplicates as it goes: a document whose cleaned text
 * was seen before is stored but not chunked; a chunk whose text was seen before is an exact duplicate; a
 * chunk whose MinHash signature agrees with an earlier active chunk's on at least the threshold share is a
 * near duplicate. Duplicates keep a link to their original and stay restorable. Only active chunks enter
 * the LSH index, so a candidate is always an original.
 */
export class CorpusWriter {
  private readonly store: CorpusStore
  private readonly preparer: ChunkPreparer
  /** Filled on the first duplicate check, from what the database holds, then kept up to date. */
  private filters: { bandKeys: KeyFilter; chunkHashes: KeyFilter } | null = null

  constructor(store: CorpusStore, preparer: ChunkPreparer) {
    this.store = store
    this.preparer = preparer
  }

  /** Stores one prepared document, and its chunks unless the same text is already in the corpus. */
  addDocument(fileId: number, document: PreparedDocument): WriteCounts {
    const duplicateOf = this.store.originalDocumentWithHash(document.textSha256)
    const documentId = this.store.insertDocument({
      fileId,
      locator: document.locator,
      title: document.title,
      text: document.text,
      textSha256: document.textSha256,
      tokenCount: document.tokenCount,
      segments: document.segments,
      duplicateOf,
      keptByUser: false,
    })
    const counts = emptyWriteCounts()
    counts.documents = 1
    if (duplicateOf !== null) {
      counts.duplicateDocuments = 1
      return counts
    }
    addWriteCounts(counts, this.writeChunks(documentId, document.text, document, false))
    return counts
  }

  /** Chunks a stored document (restored, promoted, or after the chunk settings changed). */
  chunk(documentId: number, text: string, segments: readonly TextSegment[], keptByUser: boolean): WriteCounts {
    const counts = this.writeChunks(documentId, text, this.preparer.chunk(text, segments), keptByUser)
    // Rewrites the document row (its text included): fine for one document, which is why new ones get it at insert.
    this.store.setDocumentTokenCount(documentId, counts.tokens)
    return counts
  }

  /**
   * Whether a chunk's text is an exact or near duplicate of an active chunk already stored, computing its
   * hash and signature here (for measuring; imports get them prepared).
   */
  classifyText(chunkText: string): DuplicateDecision & { textHash: Uint8Array; signature: Uint32Array | null; bandKeys: number[] } {
    const textHash = createHash('sha256').update(chunkText).digest().subarray(0, CHUNK_HASH_BYTES)
    const signature = minHashSignature(chunkText)
    const bandKeys = signature === null ? [] : lshBandKeys(signature, this.preparer.banding)
    return { textHash, signature, bandKeys, ...this.classify(textHash, signature, bandKeys) }
  }

  /** Band keys of a stored signature, for a chunk that becomes an original (heir of a deleted one). */
  bandKeysOf(minhash: Uint8Array): number[] {
    return lshBandKeys(new Uint32Array(minhash.buffer.slice(minhash.byteOffset, minhash.byteOffset + minhash.byteLength)), this.preparer.banding)
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
      if (heirChunks.includes(heir.id)) this.index(heir.id, heir.textHash, heir.minhash === null ? [] : this.bandKeysOf(heir.minhash))
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

  private writeChunks(documentId: number, text: string, prepared: PreparedChunks, keptByUser: boolean): WriteCounts {
    const counts = emptyWriteCounts()
    const bands = this.preparer.banding.bands
    prepared.chunks.forEach((chunk, i) => {
      const textHash = prepared.hashes.subarray(i * CHUNK_HASH_BYTES, (i + 1) * CHUNK_HASH_BYTES)
      const signature = prepared.hasSignature[i] === 1 ? prepared.signatures.subarray(i * MINHASH_SIZE, (i + 1) * MINHASH_SIZE) : null
      const bandKeys = signature === null ? [] : Array.from(prepared.bandKeys.subarray(i * bands, (i + 1) * bands))
      const decision = keptByUser ? NOT_A_DUPLICATE : this.classify(textHash, signature, bandKeys)
      const chunkId = this.store.insertChunk({
        documentId,
        ordinal: i,
        start: chunk.start,
        end: chunk.end,
        text: text.slice(chunk.start, chunk.end),
        tokenCount: chunk.tokenCount,
        pageStart: chunk.pageStart,
        pageEnd: chunk.pageEnd,
        section: chunk.section,
        textHash,
        minHash: signature === null ? null : new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength),
        ...decision,
        keptByUser,
      })
      counts.chunks++
      counts.tokens += chunk.tokenCount
      if (decision.duplicateKind === 'exact') counts.exactDuplicateChunks++
      else if (decision.duplicateKind === 'near') counts.nearDuplicateChunks++
      else this.index(chunkId, textHash, bandKeys)
    })
    return counts
  }

  /**
   * Makes an active chunk findable: its band keys in the LSH table, its hash and keys in the filters. Every
   * chunk that becomes active must come through here, or later duplicates of it would go unnoticed.
   */
  index(chunkId: number, textHash: Uint8Array, bandKeys: readonly number[]): void {
    this.store.insertBandKeys(chunkId, bandKeys)
    if (this.filters === null) return
    this.filters.chunkHashes.add(hashKey(textHash))
    for (const key of bandKeys) this.filters.bandKeys.add(key)
  }

  private keyFilters(): { bandKeys: KeyFilter; chunkHashes: KeyFilter } {
    if (this.filters === null) {
      const filters = { bandKeys: new KeyFilter(), chunkHashes: new KeyFilter(25) }
      this.store.forEachIndexedKey(
        (key) => filters.bandKeys.add(key),
        (hash) => filters.chunkHashes.add(hashKey(hash)),
      )
      this.filters = filters
    }
    return this.filters
  }

  private classify(textHash: Uint8Array, signature: Uint32Array | null, bandKeys: readonly number[]): DuplicateDecision {
    const filters = this.keyFilters()
    const exact = filters.chunkHashes.mightContain(hashKey(textHash)) ? this.store.originalChunkWithHash(textHash) : null
    if (exact !== null) return { duplicateOf: exact, duplicateKind: 'exact', similarity: 1 }
    if (signature === null || !bandKeys.some((key) => filters.bandKeys.mightContain(key))) return NOT_A_DUPLICATE
    let best: { id: number; similarity: number } | null = null
    for (const candidate of this.store.nearDuplicateCandidates(bandKeys)) {
      const other = new Uint32Array(candidate.minhash.buffer.slice(candidate.minhash.byteOffset, candidate.minhash.byteOffset + candidate.minhash.byteLength))
      const similarity = estimateJaccard(signature, other)
      if (similarity >= this.preparer.settings.nearDuplicateThreshold && (best === null || similarity > best.similarity)) best = { id: candidate.id, similarity }
    }
    return best === null ? NOT_A_DUPLICATE : { duplicateOf: best.id, duplicateKind: 'near', similarity: best.similarity }
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
