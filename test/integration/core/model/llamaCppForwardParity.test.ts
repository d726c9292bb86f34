import { describe, expect, it } from 'vitest'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { llamaNextTokenProbabilities } from '../../../support/llamaCpp.js'
import { referenceLogits, softmax } from '../../../support/referenceForward.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!))
  return max
}

function argmax(values: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i
  return best
}

describe('HF safetensors → our GGUF → llama.cpp matches a float64 reference on the safetensors weights', () => {
  it.each([
    ['llama', false],
    ['llama', true],
    ['qwen2', false],
    ['qwen3', false],
  ] as const)('%s (tied head: %s), F32', async (architecture, tiedEmbeddings) => {
    const model = await writeTinyGgufModel(await tempDir(), { architecture, tiedEmbeddings })
    const vocab = model.hyperparameters.vocabSize
    const tokens = Array.from({ length: 24 }, (_, i) => (i * 37 + 11) % vocab)
    const expected = referenceLogits(model.hyperparameters, model.weights, tokens).map(softmax)
    const actual = await llamaNextTokenProbabilities(model.ggufPath, tokens, vocab)
    const diffs = expected.map((p, i) => maxAbsDiff(p, actual[i]!))
    const worst = Math.max(...diffs)
    console.log(`${architecture}${tiedEmbeddings ? ' tied' : ''}: max |Δp| = ${worst.toExponential(2)} over ${tokens.length} positions`)
    expect(worst).toBeLessThanOrEqual(1e-3)
    expect(expected.map(argmax)).toEqual(actual.map(argmax))
    // The distributions are far from uniform, so agreement is not trivial.
    expect(Math.max(...expected.map((p) => Math.max(...p)))).toBeGreaterThan(5 / vocab)
  })
})
