import type { ChunkInfo } from '../../../../src-main/shared/types/corpus'

/** `p. 3`, `p. 3–4`, or null for sources without pages. */
export function formatPages(chunk: Pick<ChunkInfo, 'pageStart' | 'pageEnd'>): string | null {
  if (chunk.pageStart === null) return null
  return chunk.pageEnd === null || chunk.pageEnd === chunk.pageStart ? `p. ${chunk.pageStart}` : `p. ${chunk.pageStart}–${chunk.pageEnd}`
}

/** `chars 1200–3400`: UTF-16 offsets into the cleaned document text, end exclusive. */
export function formatCharSpan(chunk: Pick<ChunkInfo, 'charStart' | 'charEnd'>): string {
  return `chars ${chunk.charStart}–${chunk.charEnd}`
}

/** `Near duplicate (similarity 0.91) of chunk #12`, or null for a chunk in use that never was one. */
export function describeDuplicate(chunk: Pick<ChunkInfo, 'duplicateOf' | 'duplicateKind' | 'similarity' | 'keptByUser'>): string | null {
  const kind = chunk.duplicateKind === 'near' ? 'Near' : 'Exact'
  const similarity = chunk.similarity !== null && chunk.duplicateKind === 'near' ? ` (similarity ${chunk.similarity.toFixed(2)})` : ''
  if (chunk.duplicateOf !== null) return `${kind} duplicate${similarity} of chunk #${chunk.duplicateOf}`
  if (chunk.keptByUser && chunk.duplicateKind !== null) return `Restored by you (was ${chunk.duplicateKind === 'near' ? 'a near' : 'an exact'} duplicate${similarity})`
  return null
}
