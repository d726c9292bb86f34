import type { LlamaContext, LlamaModel, Token } from 'node-llama-cpp'
import { LecternError } from '../../shared/errors.js'
import type { DistributionComparison, ExportType, TensorComparison, VerificationCheck } from '../../shared/types/export.js'
import { MIN_TOKEN_PROBABILITY } from '../eval/SequenceScorer.js'
import { loadCheckedLlamaModel } from '../llm/loadLlamaModel.js'
import { rowChunks, type ModelSource } from '../model/convert/ModelSource.js'
import { bfloat16BitsToFloat32, float16BitsToFloat32, float32ToBfloat16Bits, float32ToFloat16Bits } from '../model/quantize/halfFloat.js'
import type { AdapterForward } from '../train/AdapterForward.js'

/**
 * The largest mean KL(adapted ‖ exported) accepted per weight type, in nats. Float types only round (F16 keeps
 * about 3 decimal digits). Quantized types lose more, in llama.cpp's order Q8_0 < Q5_K_M < Q4_K_M, and llama.cpp
 * also quantizes activations for them; small, sharply trained models lose most (a 64-wide test model: 1.7e-2 at
 * Q8_0, 0.67 at Q4_K_M), so `distributionChecks` also accepts a quantized export whose error is small next to its
 * distance from the base. A garbled tensor costs whole nats; a merge that lost the adapter is caught by the
 * comparison with the base.
 */
export const KL_TOLERANCE: Readonly<Record<ExportType, number>> = {
  f32: 1e-4,
  f16: 1e-3,
  bf16: 1e-2,
  q8_0: 5e-2,
  q5_k_m: 1e-1,
  q4_k_m: 2.5e-1,
}

const QUANTIZED: ReadonlySet<ExportType> = new Set(['q8_0', 'q5_k_m', 'q4_k_m'])
const QUANTIZED_SHARE_OF_BASE_DISTANCE = 0.1

/** Below this mean KL(adapted ‖ base) the adapter changes nothing worth exporting. */
export const MIN_ADAPTER_EFFECT = 1e-7

/** Token ids llama.cpp evaluates per call: a whole window's distributions over a large vocabulary at once would take gigabytes. */
const LLAMA_CHUNK_TOKENS = 16

export interface CompareDistributionsInput {
  ggufPath: string
  forward: AdapterForward
  adapterValues: ReadonlyMap<string, Float32Array>
  /** Windows of exactly `forward.seqLen` token ids. */
  windows: readonly (readonly number[])[]
  type: ExportType
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
}

/**
 * A one-thread CPU context of `contextSize` tokens on `model` whose arithmetic stays close to a float64 reference:
 * flash attention off and an F32 KV cache.
 */
export function createExactContext(model: LlamaModel, contextSize: number): Promise<LlamaContext> {
  return model.createContext({ contextSize, threads: 1, flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' })
}

/**
 * Loads the written GGUF in llama.cpp and compares its next-token distribution at every position of `windows`
 * with the training engine's adapted forward (and with the base forward, the same graph with zero adapters).
 */
export async function compareDistributions(input: CompareDistributionsInput): Promise<DistributionComparison> {
  const { forward, windows } = input
  const vocab = forward.hyperparameters.vocabSize
  const baseValues = forward.zeroValues()
  const loaded = await loadCheckedLlamaModel(input.ggufPath, { gpu: false })
  try {
    const context = await createExactContext(loaded.model, forward.seqLen + 8)
    try {
      const sequence = context.getSequence()
      let positions = 0
      let klSum = 0
      let klMax = 0
      let klBaseSum = 0
      let effectSum = 0
      let agree = 0
      for (const [w, window] of windows.entries()) {
        input.signal?.throwIfAborted()
        const adapted = await forward.logits(window, input.adapterValues)
        const base = await forward.logits(window, baseValues)
        await sequence.clearHistory()
        for (let start = 0; start < window.length; start += LLAMA_CHUNK_TOKENS) {
          const chunk = window.slice(start, start + LLAMA_CHUNK_TOKENS)
          const results = await sequence.controlledEvaluate(chunk.map((t) => [t as Token, { generateNext: { probabilities: true } }]))
          for (let i = 0; i < chunk.length; i++) {
            const map = results[i]?.next.probabilities
            if (map === undefined) throw new LecternError('internal', `llama.cpp returned no distribution at position ${start + i}`)
            const exported = new Float64Array(vocab)
            for (const [token, p] of map) if (token < vocab) exported[token] = p
            const row = (start + i) * vocab
            const p = softmax(adapted.subarray(row, row + vocab))
            const b = softmax(base.subarray(row, row + vocab))
            const kl = klDivergence(p, exported)
            klSum += kl
            klMax = Math.max(klMax, kl)
            klBaseSum += klDivergence(b, exported)
            effectSum += klDivergence(p, b)
            if (argmax(p) === argmax(exported)) agree++
            positions++
          }
        }
        input.onProgress?.(w + 1, windows.length)
      }
      return {
        positions,
        meanKl: klSum / positions,
        maxKl: klMax,
        top1Agreement: agree / positions,
        meanKlToBase: klBaseSum / positions,
        adapterEffect: effectSum / positions,
        tolerance: KL_TOLERANCE[input.type],
      }
    } finally {
      await context.dispose()
    }
  } finally {
    await loaded.dispose()
  }
}

/** The pass/fail checks a distribution comparison gives. */
export function distributionChecks(d: DistributionComparison, type: ExportType): VerificationCheck[] {
  const fmt = (x: number): string => x.toExponential(2)
  const withinTolerance = d.meanKl <= d.tolerance
  // A sharply trained small model loses more to quantization than any fixed bound expects; the export still
  // carries the adaptation when its error is small next to the distance to the base (garbage is far from both).
  const smallNextToAdaptation = QUANTIZED.has(type) && d.meanKl <= QUANTIZED_SHARE_OF_BASE_DISTANCE * d.meanKlToBase
  const checks: VerificationCheck[] = [
    {
      name: 'matches the trained adapter',
      passed: withinTolerance || smallNextToAdaptation,
      detail:
        `mean KL(adapted ‖ exported) ${fmt(d.meanKl)} (max ${fmt(d.maxKl)}) over ${d.positions} positions; ${type.toUpperCase()} allows ${fmt(d.tolerance)}` +
        (!withinTolerance && smallNextToAdaptation ? `, or a tenth of the distance to the base (${fmt(d.meanKlToBase)})` : '') +
        `; top-1 agreement ${(100 * d.top1Agreement).toFixed(1)}%`,
    },
  ]
  if (d.adapterEffect < MIN_ADAPTER_EFFECT) {
    checks.push({
      name: 'differs from the base model',
      passed: false,
      detail: `the adapter changes the predictions by a mean KL of only ${fmt(d.adapterEffect)}: the export would equal the base model; train longer or with a higher learning rate`,
    })
  } else if (d.adapterEffect < d.tolerance) {
    // The adaptation is smaller than what this type's rounding moves; a comparison with the base says little.
    checks.push({
      name: 'differs from the base model',
      passed: true,
      detail: `the adapter's effect (mean KL ${fmt(d.adapterEffect)}) is below ${type.toUpperCase()}'s rounding; distance to the base ${fmt(d.meanKlToBase)}, to the adapted model ${fmt(d.meanKl)}`,
    })
  } else {
    checks.push({
      name: 'differs from the base model',
      passed: d.meanKl < d.meanKlToBase,
      detail:
        (d.meanKl < d.meanKlToBase
          ? `closer to the adapted model (KL ${fmt(d.meanKl)}) than to the base (KL ${fmt(d.meanKlToBase)})`
          : `closer to the base (KL ${fmt(d.meanKlToBase)}) than to the adapted model (KL ${fmt(d.meanKl)}): the adaptation did not reach the file`) +
        `; the adapter's own effect is ${fmt(d.adapterEffect)}`,
    })
  }
  return checks
}

/**
 * Re-reads every tensor of `written` (a model the reader opened from the exported files) and compares it with
 * `expected` (the merged model) rounded the way the writer stores `dtype`; also counts the tensors in which the
 * merged model differs from `base`.
 */
export async function compareTensors(written: ModelSource, expected: ModelSource, base: ModelSource, dtype: 'F32' | 'F16' | 'BF16', signal?: AbortSignal): Promise<TensorComparison> {
  const writtenByName = new Map(written.tensors.map((t) => [t.name, t]))
  const baseByName = new Map(base.tensors.map((t) => [t.name, t]))
  const round = storedRounding(dtype)
  let maxAbsDiff = 0
  let changedFromBase = 0
  for (const tensor of expected.tensors) {
    signal?.throwIfAborted()
    const other = writtenByName.get(tensor.name)
    if (!other) throw new LecternError('internal', `${written.name}: tensor ${tensor.name} is missing from the export`)
    if (other.shape.join(',') !== tensor.shape.join(',')) throw new LecternError('internal', `${written.name}: ${tensor.name} has shape [${other.shape}] instead of [${tensor.shape}]`)
    const baseTensor = baseByName.get(tensor.name)!
    const rowLength = tensor.shape.at(-1) ?? 1
    let row = 0
    let changed = false
    for await (const rows of rowChunks(tensor, 1 << 20)) {
      const count = rows.length / rowLength
      const [stored, original] = await Promise.all([other.readRows(row, count), baseTensor.readRows(row, count)])
      for (let i = 0; i < rows.length; i++) {
        const diff = Math.abs(stored[i]! - round(rows[i]!))
        if (diff > maxAbsDiff || Number.isNaN(diff)) maxAbsDiff = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff
        if (!changed && rows[i] !== original[i]) changed = true
      }
      row += count
    }
    if (changed) changedFromBase++
  }
  return { tensors: expected.tensors.length, maxAbsDiff, changedFromBase }
}

function storedRounding(dtype: 'F32' | 'F16' | 'BF16'): (value: number) => number {
  if (dtype === 'F16') return (v) => float16BitsToFloat32(float32ToFloat16Bits(v))
  if (dtype === 'BF16') return (v) => bfloat16BitsToFloat32(float32ToBfloat16Bits(v))
  return (v) => Math.fround(v)
}

export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity
  for (const v of logits) if (v > max) max = v
  const out = new Float64Array(logits.length)
  let sum = 0
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max)
  for (let i = 0; i < out.length; i++) out[i]! /= sum
  return out
}

/** KL(p ‖ q) in nats; q's zeros (llama.cpp's float32 underflow) count as the smallest float32. */
export function klDivergence(p: Float64Array, q: Float64Array): number {
  let kl = 0
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!
    if (pi > 0) kl += pi * Math.log(pi / Math.max(q[i]!, MIN_TOKEN_PROBABILITY))
  }
  return Math.max(0, kl)
}

function argmax(values: Float64Array): number {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i
  return best
}
