import { describe, expect, it } from 'vitest'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { argmax, maxAbsDiff, TINY_PARITY_CASES } from '../../../support/distributions.js'
import { llamaNextTokenProbabilities } from '../../../support/llamaCpp.js'
import { referenceLogits, softmax } from '../../../support/referenceForward.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

describe('HF safetensors → our GGUF → llama.cpp matches a float64 reference on the safetensors weights', () => {
  it.each(TINY_PARITY_CASES)('%s (tied head: %s), F32', async (architecture, tiedEmbeddings) => {
    const model = await writeTinyGgufModel(await tempDir(), { architecture, tiedEmbeddings })
    const vocab = model.hyperparameters.vocabSize
    const tokens = Array.from({ length: 24 }, (_, i) => (i * 37 + 11) % vocab)
    const expected = referenceLogits(model.hyperparameters, model.weights, tokens).map(softmax)
    const actual = await llamaNextTokenProbabilities(model.ggufPath, tokens, vocab)
    const worst = maxAbsDiff(expected, actual)
    console.log(`${architecture}${tiedEmbeddings ? ' tied' : ''}: max |Δp| = ${worst.toExponential(2)} over ${tokens.length} positions`)
    expect(worst).toBeLessThanOrEqual(1e-3)
    expect(expected.map(argmax)).toEqual(actual.map(argmax))
    // The distributions are far from uniform, so agreement is not trivial.
    expect(Math.max(...expected.map((p) => Math.max(...p)))).toBeGreaterThan(5 / vocab)
  })
})
