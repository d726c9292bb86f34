import { LecternError } from '../../shared/errors.js'
import { packKnapsack } from '../cluster/packKnapsack.js'

/** What goes into a sequence: a whole item (`piece` null) or one piece of an item that was too long for any sequence. */
export interface PackUnit {
  item: number
  piece: number | null
  /** The unit's own tokens; it also costs one EOS after it. */
  tokens: number
}

export interface PackedSequence {
  /** In the order they are written. */
  units: PackUnit[]
  /** The units' tokens plus one EOS per unit: at most seqLen. */
  tokens: number
}

export interface DatasetPacking {
  seqLen: number
  sequences: PackedSequence[]
  /** Tokens placed, EOS separators included. */
  usedTokens: number
  /** usedTokens / (sequences · seqLen); 0 with no sequence. */
  fillRatio: number
  /** Items that were split, with the token counts of their pieces. */
  splitItems: Map<number, number[]>
}

export interface PackDatasetOptions {
  /** Tokens per training sequence, EOS separators included. */
  seqLen: number
  /**
   * Cuts item `item` (longer than seqLen − 1 tokens) on token boundaries into pieces of at most `maxTokens` tokens
   * and returns the pieces' token counts, in order. Called once per such item.
   */
  splitItem: (item: number, maxTokens: number) => readonly number[]
  /** Units the knapsack chooses from at a time. Defaults to 256. */
  poolSize?: number
}

export const DEFAULT_POOL_SIZE = 256

/**
 * The tiebreak that makes the knapsack prefer older units among equally full fills, so a unit does not wait in the
 * pool longer than needed. Its sum over a whole pool stays far below one token, so it never costs fill.
 */
const AGE_PREFERENCE = 1e-7

/**
 * Packs items into sequences of at most `seqLen` tokens (domain-rc.md §2.2 step 4), each item costing its tokens
 * plus one EOS. Items that cannot fit even alone are split by `splitItem` first; everything else stays whole. A
 * pool of the next `poolSize` units (in input order) is filled into one sequence by a 0/1 knapsack maximizing the
 * tokens placed, the sequence is emitted, the pool is topped up, and so on until every unit is placed: no unit is
 * lost or placed twice. Deterministic for the same inputs.
 */
export function packDataset(itemTokens: readonly number[], options: PackDatasetOptions): DatasetPacking {
  const { seqLen, splitItem, poolSize = DEFAULT_POOL_SIZE } = options
  if (!Number.isSafeInteger(seqLen) || seqLen < 2) throw new LecternError('invalid_argument', `The sequence length must be an integer of at least 2 tokens; got ${seqLen}`)
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new LecternError('invalid_argument', `The packing pool size must be a positive integer; got ${poolSize}`)

  const maxUnitTokens = seqLen - 1
  const units: PackUnit[] = []
  const splitItems = new Map<number, number[]>()
  itemTokens.forEach((tokens, item) => {
    if (!Number.isSafeInteger(tokens) || tokens < 0) throw new LecternError('invalid_argument', `Item ${item} has ${tokens} tokens; expected an integer ≥ 0`)
    if (tokens <= maxUnitTokens) {
      units.push({ item, piece: null, tokens })
      return
    }
    const pieces = [...splitItem(item, maxUnitTokens)]
    if (pieces.length === 0) throw new LecternError('invalid_argument', `Splitting item ${item} (${tokens} tokens) gave no pieces`)
    pieces.forEach((pieceTokens, piece) => {
      if (!Number.isSafeInteger(pieceTokens) || pieceTokens < 0 || pieceTokens > maxUnitTokens) {
        throw new LecternError('invalid_argument', `Splitting item ${item} gave a piece ${piece} of ${pieceTokens} tokens; each piece must hold 0 to ${maxUnitTokens} tokens`)
      }
      units.push({ item, piece, tokens: pieceTokens })
    })
    splitItems.set(item, pieces)
  })

  const sequences: PackedSequence[] = []
  let pool: PackUnit[] = []
  let next = 0
  let usedTokens = 0
  while (pool.length > 0 || next < units.length) {
    while (pool.length < poolSize && next < units.length) pool.push(units[next++]!)
    const choice = packKnapsack(
      pool.map((unit, age) => ({ tokens: unit.tokens + 1, value: unit.tokens + 1 + (pool.length - age) * AGE_PREFERENCE })),
      seqLen,
    )
    // Every unit fits alone, so the best fill is never empty; taking the oldest unit keeps the loop finite regardless.
    const chosen = new Set(choice.chosen.length > 0 ? choice.chosen : [0])
    const sequenceUnits = pool.filter((_, i) => chosen.has(i))
    const tokens = sequenceUnits.reduce((sum, unit) => sum + unit.tokens + 1, 0)
    sequences.push({ units: sequenceUnits, tokens })
    usedTokens += tokens
    pool = pool.filter((_, i) => !chosen.has(i))
  }
  const fillRatio = sequences.length === 0 ? 0 : usedTokens / (sequences.length * seqLen)
  return { seqLen, sequences, usedTokens, fillRatio, splitItems }
}
