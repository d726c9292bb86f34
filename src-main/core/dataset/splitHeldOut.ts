import { LecternError } from '../../shared/errors.js'
import { derivedRandom } from '../train/random.js'

export const DEFAULT_HELD_OUT_FRACTION = 0.05

export interface SplitHeldOutOptions {
  /** Share of documents held out of training, in [0, 1). Defaults to 0.05. */
  fraction?: number
  seed: number
}

/**
 * A document's place in [0, 1) for the held-out draw: a hash of (seed, document id) alone, so it does not depend on
 * which other documents the corpus holds.
 */
export function heldOutScore(seed: number, documentId: number): number {
  return derivedRandom(seed, 'held-out', documentId).nextUint32() / 2 ** 32
}

/**
 * Chooses the documents kept out of training for evaluation: those whose `heldOutScore` is below `fraction`. Adding
 * documents to the corpus never changes whether an existing one is held out, except in a corpus so small that the
 * draw picked none (or all): then the document with the lowest score is held out anyway (or the one with the
 * highest is given back to training), so a fraction above 0 always yields at least one held-out document and at
 * least one training document once there are two documents.
 */
export function splitHeldOut(documentIds: readonly number[], options: SplitHeldOutOptions): Set<number> {
  const { fraction = DEFAULT_HELD_OUT_FRACTION, seed } = options
  if (!(fraction >= 0 && fraction < 1)) throw new LecternError('invalid_argument', `The held-out fraction must be at least 0 and below 1; got ${fraction}`)
  const heldOut = new Set<number>()
  if (fraction === 0 || documentIds.length < 2) return heldOut
  const scored = [...new Set(documentIds)].map((id) => ({ id, score: heldOutScore(seed, id) }))
  for (const { id, score } of scored) if (score < fraction) heldOut.add(id)
  // Ties on the score are broken by id so that the fallbacks do not depend on input order.
  const byScore = scored.sort((a, b) => a.score - b.score || a.id - b.id)
  if (heldOut.size === 0 && byScore.length >= 2) heldOut.add(byScore[0]!.id)
  if (heldOut.size === byScore.length) heldOut.delete(byScore[byScore.length - 1]!.id)
  return heldOut
}

/** The clusters without their held-out documents; clusters left empty are dropped. */
export function withoutHeldOut(clusters: readonly (readonly number[])[], heldOut: ReadonlySet<number>): number[][] {
  return clusters.map((cluster) => cluster.filter((id) => !heldOut.has(id))).filter((cluster) => cluster.length > 0)
}
