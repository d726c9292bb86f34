import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Token } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { measurePerplexity, perplexityWindows } from '../../../../src-main/core/eval/perplexity.js'
import { tokenizeForScoring } from '../../../../src-main/core/eval/SequenceScorer.js'
import { loadCheckedLlamaModel, type LoadedLlamaModel } from '../../../../src-main/core/llm/loadLlamaModel.js'
import { writeTinyGgufModel, type TinyModel } from '../../../fixtures/tinyModels.js'
import { testLlama } from '../../../support/llamaCpp.js'
import { referenceLogits, softmax } from '../../../support/referenceForward.js'

const SHORT_TEXTS = ['The heart pumps blood through the arteries.', 'Insulin lowers the level of glucose in blood.']
const LONG_TEXT = 'Mitochondria make most of the energy a cell uses. They hold their own small genome and divide on their own. '.repeat(2)

/** Summed float64 NLL of tokens[from..] under the reference forward pass over `tokens`. */
function referenceNll(model: TinyModel, tokens: readonly Token[], from = 1): { sum: number; count: number } {
  const probabilities = referenceLogits(model.hyperparameters, model.weights, [...tokens]).map(softmax)
  let sum = 0
  for (let i = from; i < tokens.length; i++) sum -= Math.log(probabilities[i - 1]![tokens[i]!]!)
  return { sum, count: tokens.length - from }
}

describe('perplexityWindows', () => {
  it('scores every token after the first exactly once, with at least contextSize − stride tokens of context', () => {
    for (const [length, contextSize, stride] of [[1, 8, 4], [2, 8, 4], [8, 8, 4], [9, 8, 4], [100, 16, 5], [100, 16, 15], [37, 10, 1]] as const) {
      const scored = new Array<number>(length).fill(0)
      for (const w of perplexityWindows(length, contextSize, stride)) {
        expect(w.end - w.start).toBeLessThanOrEqual(contextSize)
        expect(w.scoreFrom).toBeGreaterThan(w.start)
        if (w.start > 0) expect(w.scoreFrom - w.start).toBeGreaterThanOrEqual(contextSize - stride)
        for (let i = w.scoreFrom; i < w.end; i++) scored[i]!++
      }
      expect(scored).toEqual(Array.from({ length }, (_, i) => (i === 0 ? 0 : 1)))
    }
  })

  it('rejects a stride that would leave tokens without context', () => {
    expect(() => perplexityWindows(10, 8, 8)).toThrow(/stride/)
    expect(() => perplexityWindows(10, 8, 0)).toThrow(/stride/)
  })
})

describe('measurePerplexity on a tiny GGUF', () => {
  let tiny: TinyModel & { ggufPath: string }
  let other: TinyModel & { ggufPath: string }
  let loaded: LoadedLlamaModel
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lectern-eval-'))
    tiny = await writeTinyGgufModel(join(dir, 'a'), { architecture: 'llama', seed: 3, gain: 0.5 })
    other = await writeTinyGgufModel(join(dir, 'b'), { architecture: 'llama', seed: 4, gain: 0.5 })
    loaded = await loadCheckedLlamaModel(tiny.ggufPath, { llama: await testLlama() })
  })
  afterAll(async () => {
    await loaded?.dispose()
    await rm(dir, { recursive: true, force: true })
  })

  it('equals exp(mean NLL) of a float64 forward pass on short texts', async () => {
    let sum = 0
    let count = 0
    const perText = SHORT_TEXTS.map((text) => {
      const tokens = tokenizeForScoring(loaded.model, text)
      expect(tokens[0]).toBe(loaded.model.tokens.bos)
      const nll = referenceNll(tiny, tokens)
      sum += nll.sum
      count += nll.count
      return nll
    })
    for (const accurateKvCache of [true, false]) {
      const result = await measurePerplexity(loaded, SHORT_TEXTS, { contextSize: 64, accurateKvCache })
      expect(result.tokens).toBe(count)
      expect(result.perplexity).toBeCloseTo(Math.exp(result.meanNll), 10)
      const expectedPpl = Math.exp(sum / count)
      console.log(`accurate KV cache ${accurateKvCache}: perplexity ${result.perplexity.toFixed(4)} vs reference ${expectedPpl.toFixed(4)}`)
      expect(Math.abs(result.perplexity / expectedPpl - 1)).toBeLessThan(accurateKvCache ? 0.005 : 0.03)
      result.perText.forEach((t, i) => {
        expect(t.tokens).toBe(perText[i]!.count)
        expect(Math.abs(t.meanNll - perText[i]!.sum / perText[i]!.count)).toBeLessThan(0.02)
      })
    }
  })

  it('scores each token once with a sliding window and matches the windowed reference', async () => {
    const tokens = tokenizeForScoring(loaded.model, LONG_TEXT)
    expect(tokens.length).toBeGreaterThan(100)
    const contextSize = 48
    const stride = 16
    let scoredByProgress = 0
    const result = await measurePerplexity(loaded, [LONG_TEXT], { contextSize, stride, accurateKvCache: true, onProgress: (p) => (scoredByProgress = p.tokensScored) })
    expect(result.tokens).toBe(tokens.length - 1)
    expect(scoredByProgress).toBe(tokens.length - 1)
    let sum = 0
    for (const w of perplexityWindows(tokens.length, contextSize, stride)) sum += referenceNll(tiny, tokens.slice(w.start, w.end), w.scoreFrom - w.start).sum
    expect(Math.abs(result.meanNll - sum / (tokens.length - 1))).toBeLessThan(0.01)
    // Less context per token than one window over the whole text, so a different number.
    const whole = await measurePerplexity(loaded, [LONG_TEXT], { contextSize: 256, accurateKvCache: true })
    expect(whole.tokens).toBe(result.tokens)
    expect(whole.meanNll).not.toBeCloseTo(result.meanNll, 4)
  })

  it('gives the single-window result whatever the stride when the text fits one window', async () => {
    const single = await measurePerplexity(loaded, SHORT_TEXTS, { contextSize: 64, accurateKvCache: true })
    const strided = await measurePerplexity(loaded, SHORT_TEXTS, { contextSize: 64, stride: 7, accurateKvCache: true, contexts: 2 })
    expect(strided.tokens).toBe(single.tokens)
    expect(strided.meanNll).toBeCloseTo(single.meanNll, 5)
  })

  it('loads a GGUF by path, and two different models give different perplexities', async () => {
    const llama = await testLlama()
    const a = await measurePerplexity({ modelPath: tiny.ggufPath, llama }, SHORT_TEXTS, { contextSize: 64 })
    const b = await measurePerplexity({ modelPath: other.ggufPath, llama }, SHORT_TEXTS, { contextSize: 64 })
    expect(a.tokens).toBe(b.tokens)
    expect(Math.abs(a.meanNll - b.meanNll)).toBeGreaterThan(0.01)
  })

  it('reports its speed per 1k tokens', async () => {
    const texts = Array.from({ length: 8 }, (_, i) => `${i}: ${LONG_TEXT}`)
    for (const contexts of [1, 2]) {
      const started = performance.now()
      const result = await measurePerplexity(loaded, texts, { contextSize: 128, stride: 64, contexts })
      const ms = performance.now() - started
      console.log(`${contexts} context(s): ${result.tokens} tokens in ${ms.toFixed(0)} ms = ${((ms / result.tokens) * 1000).toFixed(0)} ms per 1k tokens`)
      expect(result.tokens).toBeGreaterThan(1000)
    }
  })

  it('stops when aborted, before or during the run', async () => {
    const before = new AbortController()
    before.abort()
    await expect(measurePerplexity(loaded, SHORT_TEXTS, { contextSize: 64, signal: before.signal })).rejects.toThrow(/abort/i)
    const during = new AbortController()
    let calls = 0
    const run = measurePerplexity(loaded, [LONG_TEXT, LONG_TEXT, LONG_TEXT], {
      contextSize: 32,
      stride: 8,
      signal: during.signal,
      onProgress: () => {
        if (++calls === 3) during.abort()
      },
    })
    await expect(run).rejects.toThrow(/abort/i)
    expect(calls).toBeLessThan(6)
    // The model is still usable afterwards.
    const again = await measurePerplexity(loaded, SHORT_TEXTS, { contextSize: 64 })
    expect(again.tokens).toBeGreaterThan(0)
  })
})
