import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Token } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HeldOutQa } from '../../../../src-main/core/dataset/writeDataset.js'
import { closedBookPrompt, drawDistractors, evaluateClosedBookQa } from '../../../../src-main/core/eval/closedBookQa.js'
import { commonPrefixLength, SequenceScorer, tokenizeForScoring } from '../../../../src-main/core/eval/SequenceScorer.js'
import { loadCheckedLlamaModel, type LoadedLlamaModel } from '../../../../src-main/core/llm/loadLlamaModel.js'
import { writeTinyGgufModel, type TinyModel } from '../../../fixtures/tinyModels.js'
import { argmax } from '../../../support/distributions.js'
import { testLlama } from '../../../support/llamaCpp.js'
import { referenceLogits, softmax } from '../../../support/referenceForward.js'

const ITEMS: HeldOutQa[] = [
  { question: 'Which organ pumps blood?', answer: 'the heart', document_id: 1 },
  { question: 'What lowers blood glucose?', answer: 'insulin', document_id: 1 },
  { question: 'Where is bile stored?', answer: 'the gallbladder', document_id: 2 },
  { question: 'What carries oxygen in blood?', answer: 'haemoglobin', document_id: 2 },
  { question: 'Which cells make antibodies?', answer: 'plasma cells', document_id: 3 },
  { question: 'Which organ pumps blood around the body?', answer: 'The heart.', document_id: 3 },
]

describe('drawDistractors', () => {
  it('draws distinct answers of other questions, never a normalized copy of the reference, reproducibly by seed', () => {
    const first = drawDistractors(ITEMS, 0, 3, 7)
    expect(first).toHaveLength(3)
    expect(new Set(first).size).toBe(3)
    expect(first).not.toContain('the heart')
    expect(first).not.toContain('The heart.')
    expect(drawDistractors(ITEMS, 0, 3, 7)).toEqual(first)
    const seeds = new Set(Array.from({ length: 10 }, (_, seed) => drawDistractors(ITEMS, 0, 3, seed).join('|')))
    expect(seeds.size).toBeGreaterThan(1)
    // Only four distinct other answers exist for question 0.
    expect(drawDistractors(ITEMS, 0, 10, 7)).toHaveLength(4)
  })
})

describe('evaluateClosedBookQa on a tiny GGUF', () => {
  let tiny: TinyModel & { ggufPath: string }
  let loaded: LoadedLlamaModel
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lectern-eval-qa-'))
    tiny = await writeTinyGgufModel(dir, { architecture: 'llama', seed: 5, gain: 0.5 })
    loaded = await loadCheckedLlamaModel(tiny.ggufPath, { llama: await testLlama() })
  })
  afterAll(async () => {
    await loaded?.dispose()
    await rm(dir, { recursive: true, force: true })
  })

  it('ranks the option with the lowest mean NLL, as a float64 forward pass scores them', async () => {
    const result = await evaluateClosedBookQa(loaded, ITEMS, { contextSize: 128, accurateKvCache: true, seed: 11, contexts: 2 })
    expect(result.questions).toBe(ITEMS.length)
    expect(result.records).toHaveLength(ITEMS.length)
    for (const record of result.records) {
      expect(record.options.filter((o) => o.isReference)).toHaveLength(1)
      expect(record.options.length).toBe(4)
      const lowest = Math.min(...record.options.map((o) => o.meanNll))
      expect(record.options.find((o) => o.text === record.ranked)!.meanNll).toBe(lowest)
      expect(record.correct).toBe(record.ranked === record.reference && record.options.filter((o) => o.meanNll === lowest).length === 1)
      expect(record.prediction).not.toBeNull()
      expect(record.prediction).not.toContain('\n')
    }
    expect(result.accuracy).toBeCloseTo(result.records.filter((r) => r.correct).length / ITEMS.length, 12)

    // Question 0 by hand: the prompt tokens are masked, the option tokens averaged.
    const record = result.records[0]!
    const prompt = closedBookPrompt(record.question)
    const promptTokens = tokenizeForScoring(loaded.model, prompt)
    const expected = record.options.map((option) => {
      const tokens = tokenizeForScoring(loaded.model, `${prompt} ${option.text}`)
      const masked = commonPrefixLength(promptTokens, tokens)
      expect(masked).toBeGreaterThan(1)
      const probabilities = referenceLogits(tiny.hyperparameters, tiny.weights, tokens).map(softmax)
      let nll = 0
      for (let i = masked; i < tokens.length; i++) nll -= Math.log(probabilities[i - 1]![tokens[i]!]!)
      expect(option.tokens).toBe(tokens.length - masked)
      return nll / (tokens.length - masked)
    })
    record.options.forEach((option, i) => expect(Math.abs(option.meanNll - expected[i]!)).toBeLessThan(1e-2))
    const referenceBest = expected.indexOf(Math.min(...expected))
    expect(record.options[referenceBest]!.text).toBe(record.ranked)
  })

  it('gives the same records with one context or several, and greedy answers are deterministic', async () => {
    const one = await evaluateClosedBookQa(loaded, ITEMS, { contextSize: 128, seed: 3, maxAnswerTokens: 16 })
    const two = await evaluateClosedBookQa(loaded, ITEMS, { contextSize: 128, seed: 3, maxAnswerTokens: 16, contexts: 2 })
    expect(two.records.map((r) => [r.ranked, r.prediction])).toEqual(one.records.map((r) => [r.ranked, r.prediction]))
    two.records.forEach((r, i) => r.options.forEach((o, j) => expect(o.meanNll).toBeCloseTo(one.records[i]!.options[j]!.meanNll, 3)))
    expect(one.exactMatch).toBeCloseTo(one.records.reduce((s, r) => s + r.exactMatch!, 0) / ITEMS.length, 12)
    expect(one.f1).toBeCloseTo(one.records.reduce((s, r) => s + r.f1!, 0) / ITEMS.length, 12)
  })

  it('generates greedily, as the argmax of a float64 forward pass, up to the token limit', async () => {
    const prompt = tokenizeForScoring(loaded.model, closedBookPrompt(ITEMS[1]!.question))
    const steps = 6
    const expected: number[] = []
    for (let i = 0; i < steps; i++) {
      const logits = referenceLogits(tiny.hyperparameters, tiny.weights, [...prompt, ...expected]).at(-1)!
      const next = argmax(logits)
      if (loaded.model.isEogToken(next as Token)) break
      expected.push(next)
    }
    expect(expected.length).toBeGreaterThan(2)
    const scorer = await SequenceScorer.create(loaded.model, { contextSize: 64, accurateKvCache: true })
    try {
      expect(await scorer.greedy(prompt, steps, () => false)).toEqual(expected)
      // Again on the same sequence: the cached prompt is reused, and a stop rule cuts generation short.
      expect(await scorer.greedy(prompt, steps, (tokens) => tokens.length === 2)).toEqual(expected.slice(0, 2))
    } finally {
      await scorer.dispose()
    }
  })

  it('skips generation when asked, and stops when aborted', async () => {
    const scoredOnly = await evaluateClosedBookQa(loaded, ITEMS, { contextSize: 128, generate: false })
    expect(scoredOnly.exactMatch).toBeNull()
    expect(scoredOnly.records.every((r) => r.prediction === null && r.f1 === null)).toBe(true)
    const controller = new AbortController()
    const run = evaluateClosedBookQa(loaded, ITEMS, {
      contextSize: 128,
      signal: controller.signal,
      onProgress: ({ done }) => {
        if (done === 2) controller.abort()
      },
    })
    await expect(run).rejects.toThrow(/abort/i)
  })
})
