import { freemem, totalmem } from 'node:os'
import { LecternError } from '../../shared/errors.js'
import { ARCHITECTURES } from '../model/architectures.js'
import { expectedHfTensorShapes, type ModelHyperparameters } from '../model/hyperparameters.js'
import type { ExecutionProviderName } from './executionProviders.js'

/**
 * Will one training step fit in memory? The estimate follows the training design (specs/onnxruntime-node.md
 * §2, §5): one fused fp32 graph (forward, generated backward, AdamW) per step, frozen base weights as
 * initializers in an external-data file, adapter parameters and AdamW state fed in and returned each step,
 * and no activation checkpointing, so every activation backward needs stays alive until backward uses it.
 *
 * Letters (decoder.ts): B batch, T tokens per sequence, C width, V vocabulary, L blocks, F SwiGLU width,
 * H query heads, K key/value heads, D head width, q = H·D, kv = K·D, S adapter sites, P trainable values.
 *
 *   baseWeights         = every HF tensor (expectedHfTensorShapes), plus V·C when the head is tied: the
 *                         head multiplies by a (C, V) copy of the (V, C) embedding the gather reads. The
 *                         file is memory-mapped but all of it is read every step, so all of it is resident.
 *   adapterAndOptimizer = P × 4 (parameter, AdamW m, AdamW v, gradient) × 2 (the step's inputs and the
 *                         updated outputs exist at once).
 *   activations         = (saved + transient) values, where
 *     saved per token per block = 4C       residual stream into both RMSNorms, and both normed outputs
 *                                          (projection inputs that the adapter gradients read)
 *                               + 2        the two RMSNorm scales
 *                               + 4q       q after RoPE, k and v repeated to H heads (QKᵀ and P·V keep their
 *                                          inputs), the merged attention output (o_proj's input)
 *                               + q + kv   qwen3 only: the q/k norm inputs
 *                               + 2·H·T    exp(scores) and the probabilities, which softmax's backward reads
 *                               + 11F      SiLU from primitives (layers.ts, the overflow-safe σ): gate, −gate,
 *                                          e = exp(−|gate|), [gate ≥ 0], 1 − [gate ≥ 0], (1 − [·])·e, 1 + e,
 *                                          σ, up, silu, silu·up (down_proj's input)
 *                               + S/L·√(P/S)  each adapter's inner activation: LoRA's x·A (rank r) or MoRA's
 *                                          compressed input (r̂ = √(params per site)); √(P/S) ≥ r for LoRA,
 *                                          so this is exact for MoRA and an upper bound for LoRA
 *     saved                     = L·B·T·(the above) + B·T·C (the final norm's input)
 *                                 + 2·B·T·M: with adapter dropout, each adapted site's (B, T, in) mask is a
 *                                 graph input and its masked input is kept for the adapter's gradient
 *                                 (M = the sum of `in` over masked sites)
 *     transient                 = B·T·(2·H·T + 3F + 4C): one block's backward at a time holds the gradients
 *                                 of the probabilities and scores, of the three MLP branches, and of the
 *                                 residual stream and normed input, on top of what is saved
 *   logits              = 4·B·T·V: cross-entropy through logSoftmax keeps exp(shifted logits), and its backward
 *                         builds the scattered gradient, its expansion and dlogits, all (B, T, V)
 *   workspace           = 15% of the allocated terms (adapters, activations, logits): ORT's arena rounds
 *                         allocations up to size bins and its memory planner cannot reuse every freed block;
 *                         plus a fixed runtime allowance (RUNTIME_ALLOWANCE_BYTES). Base weights are exact
 *                         (mmapped on CPU, one allocation per initializer on a GPU) and get no margin.
 *
 * Every term is in values × `elementBytes` (4: fp32, the only type the train graph uses).
 */

export interface PlanFitInput {
  hyperparameters: ModelHyperparameters
  /** P: adapter parameters that train (LoRA A and B, MoRA's square matrices …). */
  trainableParameters: number
  /** S: adapted projections in the whole model. Defaults to 7 per block (every projection), the upper bound. */
  adapterSites?: number
  /** M: the sum of the input widths of the sites whose input gets a dropout mask; `0` without dropout. Defaults to `0`. */
  dropoutMaskedFeatures?: number
  /** T: tokens per sequence. */
  seqLen: number
  /** B: sequences per step. */
  batch: number
  provider: ExecutionProviderName
  /** Memory the step may use: RAM for the CPU, the GPU's memory otherwise (see `availableMemoryBytes`). */
  availableBytes: number
  /** Bytes per value. Defaults to `4`: the train graph is fp32. */
  elementBytes?: 4
}

export interface FitBreakdown {
  baseWeights: number
  adapterAndOptimizer: number
  activations: number
  logits: number
  workspace: number
}

export interface FitPlan {
  fits: boolean
  /** The sum of `breakdown`, in bytes. */
  estimateBytes: number
  /** Bytes per term; see the formula at the top of fitPlanner.ts. */
  breakdown: FitBreakdown
  /** What to change when it does not fit, in words (not repeated in `message`); `null` when it fits or nothing smaller fits either. */
  suggestion: string | null
  /** The batch and sequence length `suggestion` proposes; `null` with it. */
  suggestedShape: { batch: number; seqLen: number } | null
  /** What the step needs and what is available, with the sizes in GiB, whether or not it fits. */
  message: string
}

/** Fixed memory beyond the formula: ORT's library, thread pools and session state, and the worker's own heap
 * (ORT and one session measured at ≈50 MiB RSS on CPU); a CUDA context with cuBLAS/cuDNN workspaces; Dawn's
 * device and staging buffers. Allowances, not measurements of a train step; calibrate them against one. */
export const RUNTIME_ALLOWANCE_BYTES: Record<ExecutionProviderName, number> = {
  cpu: 256 * 2 ** 20,
  webgpu: 512 * 2 ** 20,
  cuda: 1024 * 2 ** 20,
}

const WORKSPACE_FRACTION = 0.15
const MIN_SUGGESTED_SEQ_LEN = 64

export function planFit(input: PlanFitInput): FitPlan {
  const { hyperparameters: h, trainableParameters, batch, seqLen, provider, availableBytes } = input
  const adapterSites = input.adapterSites ?? 7 * h.blockCount
  const elementBytes = input.elementBytes ?? 4
  const maskedFeatures = input.dropoutMaskedFeatures ?? 0
  for (const [name, value] of [
    ['batch', batch],
    ['seqLen', seqLen],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new LecternError('invalid_argument', `planFit: ${name} must be a positive integer (got ${value})`)
  }
  if (!Number.isInteger(trainableParameters) || trainableParameters < 0) throw new LecternError('invalid_argument', `planFit: trainableParameters must be a non-negative integer (got ${trainableParameters})`)
  if (!Number.isInteger(maskedFeatures) || maskedFeatures < 0) throw new LecternError('invalid_argument', `planFit: dropoutMaskedFeatures must be a non-negative integer (got ${maskedFeatures})`)
  if (!Number.isInteger(adapterSites) || adapterSites < 1) throw new LecternError('invalid_argument', `planFit: adapterSites must be a positive integer (got ${adapterSites})`)
  if (!(availableBytes >= 0) || !Number.isFinite(availableBytes)) throw new LecternError('invalid_argument', `planFit: availableBytes must be a finite number ≥ 0 (got ${availableBytes})`)

  const estimate = (b: number, t: number): FitBreakdown => breakdownFor(h, trainableParameters, adapterSites, maskedFeatures, b, t, provider, elementBytes)
  const total = (b: number, t: number): number => sum(estimate(b, t))
  const fitsAt = (b: number, t: number): boolean => total(b, t) <= availableBytes

  const breakdown = estimate(batch, seqLen)
  const estimateBytes = sum(breakdown)
  const where = provider === 'cpu' ? 'memory' : 'GPU memory'
  const shape = `batch ${batch} × ${seqLen} tokens`
  const parts = describe(breakdown)
  if (estimateBytes <= availableBytes) {
    return {
      fits: true,
      estimateBytes,
      breakdown,
      suggestion: null,
      suggestedShape: null,
      message: `Training at ${shape} needs about ${gib(estimateBytes)} of the ${gib(availableBytes)} of ${where} available (${parts}).`,
    }
  }

  const smallestSeqLen = Math.min(seqLen, MIN_SUGGESTED_SEQ_LEN)
  let suggestedShape: { batch: number; seqLen: number } | null = null
  if (fitsAt(1, seqLen)) {
    suggestedShape = { batch: largestFitting(1, batch - 1, (b) => fitsAt(b, seqLen)), seqLen }
  } else if (fitsAt(1, smallestSeqLen)) {
    let t = smallestSeqLen
    for (let next = MIN_SUGGESTED_SEQ_LEN * 2; next < seqLen && fitsAt(1, next); next *= 2) t = next
    suggestedShape = { batch: largestFitting(1, batch, (b) => fitsAt(b, t)), seqLen: t }
  }

  const needs = `Training at ${shape} needs about ${gib(estimateBytes)} (${parts}), but only ${gib(availableBytes)} of ${where} is available`
  if (suggestedShape === null) {
    const floor = estimate(1, smallestSeqLen)
    const fixed = floor.baseWeights + floor.adapterAndOptimizer
    return {
      fits: false,
      estimateBytes,
      breakdown,
      suggestion: null,
      suggestedShape: null,
      message:
        `${needs}. Even batch 1 × ${smallestSeqLen} tokens needs ${gib(sum(floor))}, of which the base weights (${formatCount(baseParameterCount(h))} parameters, fp32) ` +
        `and the adapters with their optimizer state take ${gib(fixed)}: the model is too large for this machine.`,
    }
  }
  const suggestedBytes = total(suggestedShape.batch, suggestedShape.seqLen)
  const change =
    suggestedShape.seqLen === seqLen
      ? `lower the batch to ${suggestedShape.batch}`
      : `shorten sequences to ${suggestedShape.seqLen} tokens${suggestedShape.batch === 1 ? ' with batch 1' : ` and use batch ${suggestedShape.batch}`}`
  const suggestion = `${change.charAt(0).toUpperCase()}${change.slice(1)} (about ${gib(suggestedBytes)}).`
  return { fits: false, estimateBytes, breakdown, suggestion, suggestedShape, message: `${needs}.` }
}

/**
 * Memory a training step may use on this provider. CPU: physical memory minus a reserve for the OS and the
 * app's own windows (2 GiB + 5%), and no more than is free now less 512 MiB on Linux and Windows, where the
 * free figure counts reclaimable cache (on macOS it leaves out inactive and compressible pages and would
 * understate). GPU: `null`, onnxruntime-node reports no device memory; the caller must say it cannot check.
 */
export function availableMemoryBytes(provider: ExecutionProviderName): number | null {
  if (provider !== 'cpu') return null
  const total = totalmem()
  const budget = total - (2 * 2 ** 30 + 0.05 * total)
  const limit = process.platform === 'darwin' ? budget : Math.min(budget, freemem() - 512 * 2 ** 20)
  return Math.max(0, Math.floor(limit))
}

/** The parameters of the model as stored (HF tensors), without the tied head's extra copy. */
export function baseParameterCount(h: ModelHyperparameters): number {
  let count = 0
  for (const dims of expectedHfTensorShapes(h).values()) count += dims.reduce((a, b) => a * b, 1)
  return count
}

function breakdownFor(
  h: ModelHyperparameters,
  trainable: number,
  sites: number,
  maskedFeatures: number,
  B: number,
  T: number,
  provider: ExecutionProviderName,
  elementBytes: number,
): FitBreakdown {
  const { embeddingLength: C, vocabSize: V, blockCount: L, feedForwardLength: F, headCount: H, headCountKv: K, headDim: D } = h
  const q = H * D
  const kv = K * D
  const qkNorm = ARCHITECTURES[h.architecture].hasQkNorm ? q + kv : 0
  const adapterWidthPerBlock = trainable === 0 ? 0 : (sites / L) * Math.sqrt(trainable / sites)
  const savedPerTokenPerBlock = 4 * C + 2 + 4 * q + qkNorm + 2 * H * T + 11 * F + adapterWidthPerBlock
  const saved = L * B * T * savedPerTokenPerBlock + B * T * C + 2 * B * T * maskedFeatures
  const transient = B * T * (2 * H * T + 3 * F + 4 * C)
  const baseWeights = (baseParameterCount(h) + (h.tiedEmbeddings ? V * C : 0)) * elementBytes
  const adapterAndOptimizer = trainable * 4 * 2 * elementBytes
  const activations = Math.ceil((saved + transient) * elementBytes)
  const logits = 4 * B * T * V * elementBytes
  const workspace = Math.ceil(WORKSPACE_FRACTION * (adapterAndOptimizer + activations + logits)) + RUNTIME_ALLOWANCE_BYTES[provider]
  return { baseWeights, adapterAndOptimizer, activations, logits, workspace }
}

/** The largest n in [low, high] with fits(n), given fits(low) and that fits is monotone (true, then false). */
function largestFitting(low: number, high: number, fits: (n: number) => boolean): number {
  let lo = low
  let hi = Math.max(low, high)
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (fits(mid)) lo = mid
    else hi = mid - 1
  }
  return lo
}

function sum(b: FitBreakdown): number {
  return b.baseWeights + b.adapterAndOptimizer + b.activations + b.logits + b.workspace
}

function describe(b: FitBreakdown): string {
  return `base weights ${gib(b.baseWeights)}, adapters and optimizer ${gib(b.adapterAndOptimizer)}, activations ${gib(b.activations)}, logits ${gib(b.logits)}, workspace ${gib(b.workspace)}`
}

function gib(bytes: number): string {
  const value = bytes / 2 ** 30
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} GiB`
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)}M`
  return String(n)
}
