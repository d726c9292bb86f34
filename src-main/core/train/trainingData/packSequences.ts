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
  if (!Number.isSafeInteger(seqLen) || seqLen < 1) throw new LecternError('invalid_argument', `The sequence length must be a positive integer; got ${seqLen}`)
  tokenized.forEach((example, i) => {
    if (example.ids.length !== example.weights.length) {
      throw new LecternError('invalid_argument', `Tokenized example ${i + 1} has ${example.ids.length} ids but ${example.weights.length} weights`)
    }
  })
  const padId = options.padId ?? tokenized.at(-1)?.ids.at(-1) ?? 0
  // Where each example starts in the stream. Window k holds stream positions [k·T, k·T + T]; an example at
  // [start, start + n) lies in one window when start and start + n − 1 do.
  const starts: number[] = []
  let streamTokens = 0
  let previousSequence: number | undefined
  for (const example of tokenized) {
    const n = example.ids.length
    // A built dataset's sequences were packed to fit one window each: start each at a window border.
    if (example.sequence !== undefined && previousSequence !== undefined && example.sequence !== previousSequence && streamTokens % seqLen !== 0) {
      streamTokens = (Math.floor(streamTokens / seqLen) + 1) * seqLen
    }
    if (example.sequence !== undefined) previousSequence = example.sequence
    const window = Math.floor(streamTokens / seqLen)
    if (example.keepWhole && n <= seqLen + 1 && n > 0 && streamTokens + n - 1 > window * seqLen + seqLen) streamTokens = (window + 1) * seqLen
    starts.push(streamTokens)
    streamTokens += n
  }
  if (tokenized.reduce((sum, e) => sum + e.ids.length, 0) < 2) {
    const count = tokenized.reduce((sum, e) => sum + e.ids.length, 0)
    throw new LecternError('invalid_argument', `Nothing to train on: the examples hold ${count} token${count === 1 ? '' : 's'}, and training needs at least 2`)
  }

  // The stream: ids and, per token, the weight of predicting it; gaps are padding at weight 0.
  const streamIds = new Int32Array(streamTokens).fill(padId)
  const streamWeights = new Float32Array(streamTokens)
  tokenized.forEach((example, i) => {
    const offset = starts[i]!
    for (let j = 0; j < example.ids.length; j++) {
      const id = example.ids[j]!
      const weight = example.weights[j]!
      if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw new LecternError('invalid_argument', `Tokenized example ${i + 1}: token ${j} is ${id}, not a token id`)
      if (!Number.isFinite(weight) || weight < 0) throw new LecternError('invalid_argument', `Tokenized example ${i + 1}: token ${j} has weight ${weight}; weights are finite and ≥ 0`)
      streamIds[offset + j] = id
      streamWeights[offset + j] = weight
    }
  })

  // Every stream token but the first is a target once; ceil((S − 1) / T) windows hold them all.
  const sequenceCount = Math.ceil((streamTokens - 1) / seqLen)
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
  if (weightedTargets === 0) throw new LecternError('invalid_argument', 'Nothing to train on: no token of the examples carries loss weight')
  return { sequenceCount, seqLen, tokens, weights, streamTokens, weightedTargets, padId }
}
