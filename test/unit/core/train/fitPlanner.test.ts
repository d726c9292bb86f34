import { totalmem } from 'node:os'
import { describe, expect, it } from 'vitest'
import type { ModelHyperparameters } from '../../../../src-main/core/model/hyperparameters.js'
import { availableMemoryBytes, baseParameterCount, planFit, RUNTIME_ALLOWANCE_BYTES, type PlanFitInput } from '../../../../src-main/core/train/fitPlanner.js'

const GiB = 2 ** 30

function llama(overrides: Partial<ModelHyperparameters>): ModelHyperparameters {
  return {
    architecture: 'llama',
    vocabSize: 32000,
    contextLength: 4096,
    embeddingLength: 768,
    blockCount: 12,
    feedForwardLength: 2048,
    headCount: 12,
    headCountKv: 12,
    headDim: 64,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    tiedEmbeddings: true,
    ...overrides,
  }
}

/** ≈110M parameters: 12 blocks of 768, tied 32k vocabulary. */
const small = llama({})
/** Llama-2-70B's shape. */
const llama70b = llama({ vocabSize: 32000, embeddingLength: 8192, blockCount: 80, feedForwardLength: 28672, headCount: 64, headCountKv: 8, headDim: 128, tiedEmbeddings: false })
/** A 1B-class model (TinyLlama's shape), where activations matter. */
const tinyLlama = llama({ embeddingLength: 2048, blockCount: 22, feedForwardLength: 5632, headCount: 32, headCountKv: 4, headDim: 64, tiedEmbeddings: false })

/** LoRA rank 16 on every projection of every block. */
function loraParameters(h: ModelHyperparameters, rank = 16): number {
  const C = h.embeddingLength
  const q = h.headCount * h.headDim
  const kv = h.headCountKv * h.headDim
  const F = h.feedForwardLength
  const perBlock = rank * (C + q) + 2 * rank * (C + kv) + rank * (q + C) + 2 * rank * (C + F) + rank * (F + C)
  return perBlock * h.blockCount
}

function plan(h: ModelHyperparameters, overrides: Partial<PlanFitInput> = {}): ReturnType<typeof planFit> {
  return planFit({ hyperparameters: h, trainableParameters: loraParameters(h), seqLen: 256, batch: 1, provider: 'cpu', availableBytes: 24 * GiB, elementBytes: 4, ...overrides })
}

describe('planFit', () => {
  it('follows the documented formula term by term on a model small enough to count by hand', () => {
    // V=10, C=4, L=1, F=8, H=2, K=1, D=2 (q = 4, kv = 2), untied: 40 (embedding) + 4 + 4 (norms) + 16 (q)
    // + 8 (k) + 8 (v) + 16 (o) + 32·3 (MLP) + 4 (final norm) + 40 (lm_head) = 236 values.
    const h = llama({ vocabSize: 10, embeddingLength: 4, blockCount: 1, feedForwardLength: 8, headCount: 2, headCountKv: 1, headDim: 2, tiedEmbeddings: false })
    expect(baseParameterCount(h)).toBe(236)
    const result = planFit({ hyperparameters: h, trainableParameters: 0, seqLen: 3, batch: 1, provider: 'cpu', availableBytes: GiB, elementBytes: 4 })
    // saved per token per block: 4C + 2 + 4q + 2·H·T + 11F = 16 + 2 + 16 + 12 + 88 = 134; ×3 tokens, + 3·C = 414.
    // transient: 3·(2·H·T + 3F + 4C) = 3·(12 + 24 + 16) = 156.
    const activations = (414 + 156) * 4
    const logits = 4 * 3 * 10 * 4
    expect(result.breakdown).toEqual({
      baseWeights: 236 * 4,
      adapterAndOptimizer: 0,
      activations,
      logits,
      workspace: Math.ceil(0.15 * (activations + logits)) + RUNTIME_ALLOWANCE_BYTES.cpu,
    })
    expect(result.estimateBytes).toBe(236 * 4 + activations + logits + Math.ceil(0.15 * (activations + logits)) + RUNTIME_ALLOWANCE_BYTES.cpu)
    // The tied head multiplies by a (C, V) copy of the embedding: the same 40 values, now counted as that copy.
    expect(planFit({ hyperparameters: { ...h, tiedEmbeddings: true }, trainableParameters: 0, seqLen: 3, batch: 1, provider: 'cpu', availableBytes: GiB }).breakdown.baseWeights).toBe(236 * 4)
  })

  it('counts each trainable value 8 times (value, m, v, gradient; inputs and outputs of the step)', () => {
    expect(plan(small, { trainableParameters: 1_000_000 }).breakdown.adapterAndOptimizer).toBe(32_000_000)
  })

  it('adds a dropout mask and a masked input per token for every masked input feature', () => {
    const without = plan(small, { batch: 2, seqLen: 128 }).breakdown.activations
    const masked = plan(small, { batch: 2, seqLen: 128, dropoutMaskedFeatures: 1000 }).breakdown.activations
    expect(masked - without).toBe(2 * 2 * 128 * 1000 * 4)
    expect(() => plan(small, { dropoutMaskedFeatures: -1 })).toThrow(/dropoutMaskedFeatures/)
  })

  it('fits a ~100M Llama at 256 tokens, batch 1, in 24 GiB', () => {
    const parameters = baseParameterCount(small)
    expect(parameters).toBeGreaterThan(90e6)
    expect(parameters).toBeLessThan(130e6)
    const result = plan(small)
    expect(result.fits).toBe(true)
    expect(result.estimateBytes).toBeLessThan(24 * GiB)
    expect(result.suggestion).toBeNull()
    expect(result.message).toMatch(/^Training at batch 1 × 256 tokens needs about [\d.]+ GiB of the 24\.0 GiB of memory available/)
  })

  it('says a 70B model is too large for 24 GiB, naming the sizes', () => {
    const result = plan(llama70b)
    expect(result.fits).toBe(false)
    expect(result.suggestion).toBeNull()
    expect(result.suggestedShape).toBeNull()
    expect(result.breakdown.baseWeights / GiB).toBeGreaterThan(250) // ≈69B fp32 values
    expect(result.message).toContain('too large for this machine')
    expect(result.message).toContain(`base weights ${(result.breakdown.baseWeights / GiB).toFixed(0)} GiB`)
    expect(result.message).toContain('only 24.0 GiB of memory is available')
    expect(result.message).toMatch(/69\.\dB parameters/)
  })

  it('says "GPU memory" for a GPU provider and adds its runtime allowance', () => {
    const cpu = plan(small)
    const cuda = plan(small, { provider: 'cuda' })
    expect(cuda.estimateBytes - cpu.estimateBytes).toBe(RUNTIME_ALLOWANCE_BYTES.cuda - RUNTIME_ALLOWANCE_BYTES.cpu)
    expect(cuda.message).toContain('of GPU memory available')
  })

  it('grows strictly with batch and with sequence length, in activations and logits', () => {
    for (const h of [small, tinyLlama]) {
      let previous = 0
      for (const batch of [1, 2, 3, 4, 8, 16]) {
        const { estimateBytes } = plan(h, { batch })
        expect(estimateBytes).toBeGreaterThan(previous)
        previous = estimateBytes
      }
      previous = 0
      for (const seqLen of [16, 64, 100, 256, 512, 1024, 4096]) {
        const { estimateBytes, breakdown } = plan(h, { seqLen })
        expect(estimateBytes).toBeGreaterThan(previous)
        expect(breakdown.baseWeights).toBe(plan(h).breakdown.baseWeights)
        previous = estimateBytes
      }
    }
  })

  it('suggests the largest batch that fits when the sequence length alone fits', () => {
    const at = (batch: number): number => plan(tinyLlama, { batch, seqLen: 1024 }).estimateBytes
    const availableBytes = at(3) + 1 // 3 fits, 4 does not
    const result = plan(tinyLlama, { batch: 8, seqLen: 1024, availableBytes })
    expect(result.fits).toBe(false)
    expect(result.suggestedShape).toEqual({ batch: 3, seqLen: 1024 })
    expect(result.suggestion).toMatch(/^Lower the batch to 3 \(about [\d.]+ GiB\)\.$/)
    expect(result.message).toMatch(/^Training at batch 8 × 1024 tokens needs about [\d.]+ GiB \(.*\), but only [\d.]+ GiB of memory is available\.$/)
    expect(result.message).not.toContain('Lower the batch')
    expect(plan(tinyLlama, { batch: 3, seqLen: 1024, availableBytes }).fits).toBe(true)
  })

  it('shortens sequences to the largest power of two ≥ 64 that fits when batch 1 does not, then fills the batch', () => {
    const at = (batch: number, seqLen: number): number => plan(tinyLlama, { batch, seqLen }).estimateBytes
    const availableBytes = at(1, 512) + 1 // 512 tokens fit at batch 1, 1024 do not
    const result = plan(tinyLlama, { batch: 4, seqLen: 2048, availableBytes })
    expect(result.suggestedShape).toEqual({ batch: 1, seqLen: 512 })
    expect(result.suggestion).toMatch(/^Shorten sequences to 512 tokens with batch 1/)

    // With room for batch 2 at 256 tokens but not 512 tokens at batch 1, it proposes 256 × 2.
    const room = Math.max(at(2, 256), at(1, 256)) + 1
    expect(room).toBeLessThan(at(1, 512))
    expect(plan(tinyLlama, { batch: 4, seqLen: 2048, availableBytes: room }).suggestedShape).toEqual({ batch: 2, seqLen: 256 })

    // Never below 64 tokens: when 64 does not fit either, the model is too large.
    const tooSmall = plan(tinyLlama, { batch: 1, seqLen: 2048, availableBytes: at(1, 64) - 1 })
    expect(tooSmall.suggestion).toBeNull()
    expect(tooSmall.message).toContain('Even batch 1 × 64 tokens needs')
  })

  it('rejects impossible inputs', () => {
    expect(() => plan(small, { batch: 0 })).toThrow(/batch must be a positive integer/)
    expect(() => plan(small, { seqLen: 1.5 })).toThrow(/seqLen must be a positive integer/)
    expect(() => plan(small, { trainableParameters: -1 })).toThrow(/trainableParameters/)
    expect(() => plan(small, { availableBytes: Number.NaN })).toThrow(/availableBytes/)
  })
})

describe('availableMemoryBytes', () => {
  it('leaves a reserve below physical memory for the CPU, and cannot tell for a GPU', () => {
    const cpu = availableMemoryBytes('cpu')!
    expect(cpu).toBeGreaterThanOrEqual(0)
    expect(cpu).toBeLessThanOrEqual(totalmem() - 2 * GiB)
    expect(availableMemoryBytes('cuda')).toBeNull()
    expect(availableMemoryBytes('webgpu')).toBeNull()
  })
})
