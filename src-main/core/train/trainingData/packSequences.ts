import { LecternError } from '../../../shared/errors.js'
import type { TokenizedExample } from './tokenizeExamples.js'

/**
 * Fixed-length training windows cut from one token stream. Dimension letters: N = sequenceCount, T = seqLen.
 */
export interface PackedDataset {
  sequenceCount: number
  seqLen: number
  /** (N, T + 1): window k is stream tokens [k·T, k·T + T]; inputs are its first T, targets its last T. */
  tokens: Int32Array
  /** (N, T): weights[k, t] is the loss weight of target tokens[k, t + 1]. */
  weights: Float32Array
  /** Stream positions: the examples' tokens and the padding that moves instruction examples to a fresh window. */
  streamTokens: number
  /** Sum of all weights: the number of predictions that count. */
  weightedTargets: number
  /** The id the last window is padded with. */
  padId: number
}

export interface PackSequencesOptions {
  /** Id for padding the last window. Defaults to the stream's last token: the EOS that `tokenizeExamples` ends every example with. */
  padId?: number
}

/**
 * Packs examples the way continued pre-training does (AdaptLLM joins documents with EOS and packs them, see
 * specs/domain-rc.md §1.1): the examples are concatenated in order into one stream, and windows of T + 1 tokens
 * are cut with stride T, so every stream token after the first is a target exactly once and each window's last
 * token is the next window's first. An example longer than T simply spans windows.
 *
 * There is no attention reset: a window may hold the end of one example and the start of the next, and the later
 * one can attend to the earlier one. That is the usual trade for packing; the EOS between them marks the border.
 *
 * Examples from a built dataset carry the packed `sequence` they belong to; where that number changes, the stream
 * moves to the next window border (padding at weight 0), so each packed sequence trains in a window of its own.
 *
 * An example marked `keepWhole` (instruction data) that fits in a window but would straddle two is moved to the
 * start of the next window instead: the gap is padding at weight 0, so no response is trained without its prompt.
 *
 * The last, partial window is padded with `padId` at weight 0 rather than dropped, so no example loses its tail.
 */
export function packSequences(tokenized: readonly TokenizedExample[], seqLen: number, options: PackSequencesOptions = {}): PackedDataset {
  checkSeqLen(seqLen)
  const { starts, streamTokens } = layOutStream(packingExtents(tokenized), seqLen)
  const padId = options.padId ?? tokenized.at(-1)?.ids.at(-1) ?? 0

  // The stream: ids and, per token, the weight of predicting it; gaps are padding at weight 0.
  const streamIds = new Int32Array(streamTokens).fill(padId)
  const streamWeights = new Float32Array(streamTokens)
  tokenized.forEach((example, i) => {
    streamIds.set(example.ids, starts[i]!)
    streamWeights.set(example.weights, starts[i]!)
  })

  const sequenceCount = windowCount(streamTokens, seqLen)
  const tokens = new Int32Array(sequenceCount * (seqLen + 1)).fill(padId) // (N, T + 1)
  const weights = new Float32Array(sequenceCount * seqLen) // (N, T), padding stays 0
  let weightedTargets = 0
  for (let k = 0; k < sequenceCount; k++) {
    const from = k * seqLen
    const to = Math.min(from + seqLen + 1, streamTokens)
    tokens.set(streamIds.subarray(from, to), k * (seqLen + 1))
    const targets = streamWeights.subarray(from + 1, to)
    weights.set(targets, k * seqLen)
    for (const w of targets) weightedTargets += w
  }
  return { sequenceCount, seqLen, tokens, weights, streamTokens, weightedTargets, padId }
}

/** What packing needs of one example to place it in the stream: its length and the rules that move it to a window border. */
export interface PackingExtent {
  length: number
  keepWhole?: boolean | undefined
  sequence?: number | undefined
}

/**
 * The examples' extents, after the checks that do not depend on the sequence length (ids and weights match and
 * are valid, something carries loss weight), so `packedSequenceCount` can count windows for any sequence length
 * without keeping the tokens.
 */
export function packingExtents(tokenized: readonly TokenizedExample[]): PackingExtent[] {
  let tokenCount = 0
  let targetWeight = 0
  tokenized.forEach((example, i) => {
    if (example.ids.length !== example.weights.length) {
      throw new LecternError('invalid_argument', `Tokenized example ${i + 1} has ${example.ids.length} ids but ${example.weights.length} weights`)
    }
    for (let j = 0; j < example.ids.length; j++) {
      const id = example.ids[j]!
      const weight = example.weights[j]!
      if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw new LecternError('invalid_argument', `Tokenized example ${i + 1}: token ${j} is ${id}, not a token id`)
      if (!Number.isFinite(weight) || weight < 0) throw new LecternError('invalid_argument', `Tokenized example ${i + 1}: token ${j} has weight ${weight}; weights are finite and ≥ 0`)
      // Every stream token but the first (the first example's first: nothing moves that one) is a target once.
      if (tokenCount > 0) targetWeight += weight
      tokenCount++
    }
  })
  if (tokenCount < 2) throw new LecternError('invalid_argument', `Nothing to train on: the examples hold ${tokenCount} token${tokenCount === 1 ? '' : 's'}, and training needs at least 2`)
  if (targetWeight === 0) throw new LecternError('invalid_argument', 'Nothing to train on: no token of the examples carries loss weight')
  return tokenized.map((example) => ({ length: example.ids.length, keepWhole: example.keepWhole, sequence: example.sequence }))
}

/** The number of windows `packSequences` cuts from examples of these extents at `seqLen`. */
export function packedSequenceCount(extents: readonly PackingExtent[], seqLen: number): number {
  checkSeqLen(seqLen)
  return windowCount(layOutStream(extents, seqLen).streamTokens, seqLen)
}

function checkSeqLen(seqLen: number): void {
  if (!Number.isSafeInteger(seqLen) || seqLen < 1) throw new LecternError('invalid_argument', `The sequence length must be a positive integer; got ${seqLen}`)
}

/**
 * Where each example starts in the stream, and the stream's length. Window k holds stream positions
 * [k·T, k·T + T]; an example at [start, start + n) lies in one window when start and start + n − 1 do.
 */
function layOutStream(extents: readonly PackingExtent[], seqLen: number): { starts: number[]; streamTokens: number } {
  const starts: number[] = []
  let streamTokens = 0
  let previousSequence: number | undefined
  for (const { length: n, keepWhole, sequence } of extents) {
    // A built dataset's sequences were packed to fit one window each: start each at a window border.
    if (sequence !== undefined && previousSequence !== undefined && sequence !== previousSequence && streamTokens % seqLen !== 0) {
      streamTokens = (Math.floor(streamTokens / seqLen) + 1) * seqLen
    }
    if (sequence !== undefined) previousSequence = sequence
    const window = Math.floor(streamTokens / seqLen)
    if (keepWhole && n <= seqLen + 1 && n > 0 && streamTokens + n - 1 > window * seqLen + seqLen) streamTokens = (window + 1) * seqLen
    starts.push(streamTokens)
    streamTokens += n
  }
  return { starts, streamTokens }
}

/** Every stream token but the first is a target once; ceil((S − 1) / T) windows hold them all. */
function windowCount(streamTokens: number, seqLen: number): number {
  return Math.ceil((streamTokens - 1) / seqLen)
}
