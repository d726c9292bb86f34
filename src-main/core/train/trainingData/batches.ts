import { LecternError } from '../../../shared/errors.js'
import { derivedRandom } from '../random.js'
import type { PackedDataset } from './packSequences.js'

/**
 * Where the data stream stands: the next sequence is `batchOrder(N, epoch, seed)[position]`. Plain JSON, stored in
 * checkpoints, so a resumed run draws exactly the batches the uninterrupted run would have drawn.
 */
export interface BatchCursor {
  epoch: number
  position: number
}

/** One micro-batch. Dimension letters: B = batch size, T = seqLen. */
export interface Batch {
  /** (B, T) input ids. */
  tokenIds: BigInt64Array
  /**
   * (B, T) target ids: the token after each input. Plain int32, because the loss wants flat indices
   * n·V + target (`flatTargetIndices` in autodiff/layers.ts), which need the vocabulary size.
   */
  targets: Int32Array
  /** (B, T) loss weight of each target. */
  weights: Float32Array
  /** (B) which packed sequence each row is. */
  sequences: Uint32Array
  /** The cursor after this batch (at an epoch's end: the next epoch at position 0). */
  cursor: BatchCursor
}

/**
 * The order of the N packed sequences in `epoch`: a Fisher-Yates shuffle driven by the stream
 * `randomStream(seed, 'batchOrder', epoch)`, so it depends on (N, seed, epoch) only and differs between epochs.
 */
export function batchOrder(sequenceCount: number, epoch: number, seed: number): Uint32Array {
  return Uint32Array.from(cachedOrder(sequenceCount, epoch, seed))
}

/**
 * The next B sequences after `cursor`, as inputs, targets and weights. A batch that reaches the end of an epoch
 * continues with the next epoch's order (so a row may repeat within a batch when B > N).
 */
export function nextBatch(dataset: PackedDataset, cursor: BatchCursor, batchSize: number, seed: number): Batch {
  const { sequenceCount: count, seqLen: T } = dataset
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new LecternError('invalid_argument', `The batch size must be a positive integer; got ${batchSize}`)
  if (count < 1 || dataset.tokens.length !== count * (T + 1) || dataset.weights.length !== count * T) {
    throw new LecternError('invalid_argument', `A packed dataset of ${count} sequences of ${T} tokens needs ${count * (T + 1)} tokens and ${count * T} weights; got ${dataset.tokens.length} and ${dataset.weights.length}`)
  }
  const { epoch: startEpoch, position: startPosition } = cursor
  if (!Number.isSafeInteger(startEpoch) || startEpoch < 0 || !Number.isSafeInteger(startPosition) || startPosition < 0 || startPosition > count) {
    throw new LecternError('invalid_argument', `The data cursor ${JSON.stringify(cursor)} does not fit a dataset of ${count} sequences`)
  }
  let epoch = startEpoch
  let position = startPosition
  const tokenIds = new BigInt64Array(batchSize * T) // (B, T)
  const targets = new Int32Array(batchSize * T) // (B, T)
  const weights = new Float32Array(batchSize * T) // (B, T)
  const sequences = new Uint32Array(batchSize) // (B)
  for (let b = 0; b < batchSize; b++) {
    if (position === count) {
      epoch++
      position = 0
    }
    const k = cachedOrder(count, epoch, seed)[position++]!
    sequences[b] = k
    const window = dataset.tokens.subarray(k * (T + 1), (k + 1) * (T + 1))
    for (let t = 0; t < T; t++) {
      tokenIds[b * T + t] = BigInt(window[t]!)
      targets[b * T + t] = window[t + 1]!
    }
    weights.set(dataset.weights.subarray(k * T, (k + 1) * T), b * T)
  }
  if (position === count) {
    epoch++
    position = 0
  }
  return { tokenIds, targets, weights, sequences, cursor: { epoch, position } }
}

/** Optimizer steps in one epoch: ceil(N / (batch × gradAccum)), the last step running into the next epoch. */
export function stepsPerEpoch(sequenceCount: number, batchSize: number, gradAccum = 1): number {
  for (const [name, value] of [['sequence count', sequenceCount], ['batch size', batchSize], ['gradient accumulation', gradAccum]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new LecternError('invalid_argument', `The ${name} must be a positive integer; got ${value}`)
  }
  return Math.ceil(sequenceCount / (batchSize * gradAccum))
}

// nextBatch asks for the same order on every call of an epoch; keep the last two (an epoch and the next).
const orders = new Map<string, Uint32Array>()

function cachedOrder(sequenceCount: number, epoch: number, seed: number): Uint32Array {
  const key = `${sequenceCount}:${epoch}:${seed}`
  let order = orders.get(key)
  if (order === undefined) {
    order = shuffledOrder(sequenceCount, epoch, seed)
    orders.set(key, order)
    if (orders.size > 2) orders.delete(orders.keys().next().value!)
  }
  return order
}

function shuffledOrder(sequenceCount: number, epoch: number, seed: number): Uint32Array {
  if (!Number.isSafeInteger(sequenceCount) || sequenceCount < 0 || sequenceCount > 0xffffffff) throw new LecternError('invalid_argument', `Cannot order ${sequenceCount} sequences`)
  const random = derivedRandom(seed, 'batchOrder', epoch)
  const order = new Uint32Array(sequenceCount)
  for (let i = 0; i < sequenceCount; i++) order[i] = i
  for (let i = sequenceCount - 1; i > 0; i--) {
    const j = random.nextBelow(i + 1)
    const swap = order[i]!
    order[i] = order[j]!
    order[j] = swap
  }
  return order
}
