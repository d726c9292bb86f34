import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ChatComparer } from '../../../../src-main/core/eval/ChatComparer.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

describe('ChatComparer', () => {
  it('answers one prompt with both models, greedily and repeatably, and unloads on dispose', async () => {
    const dir = await tempDir()
    const base = await writeTinyGgufModel(join(dir, 'base'), { architecture: 'llama', seed: 1 }, 'F16')
    const adapted = await writeTinyGgufModel(join(dir, 'adapted'), { architecture: 'llama', seed: 2 }, 'F16')
    const report = { baseModel: base.ggufPath, adaptedModel: adapted.ggufPath }

    const comparer = new ChatComparer()
    const first = await comparer.reply(report, 'What is the model?', 12)
    for (const side of [first.base, first.adapted]) {
      expect(side.tokens).toBeGreaterThan(0)
      expect(side.tokens).toBeLessThanOrEqual(12)
      expect(side.text.length).toBeGreaterThan(0)
      expect(side.elapsedMs).toBeGreaterThan(0)
    }
    // Different weights, different greedy replies; the same prompt again gives the same ones (two calls in flight
    // run in turn on the cached models).
    expect(first.adapted.text).not.toBe(first.base.text)
    const [again, other] = await Promise.all([comparer.reply(report, 'What is the model?', 12), comparer.reply(report, 'Where is it?', 12)])
    expect(again.base.text).toBe(first.base.text)
    expect(again.adapted.text).toBe(first.adapted.text)
    expect(other.base.tokens).toBeGreaterThan(0)
    // The base side is what a fresh comparer on the base alone says.
    const fresh = new ChatComparer()
    expect((await fresh.reply({ baseModel: base.ggufPath, adaptedModel: base.ggufPath }, 'What is the model?', 12)).adapted.text).toBe(first.base.text)
    await fresh.dispose()

    await expect(comparer.reply(report, '  ', 12)).rejects.toMatchObject({ code: 'invalid_argument' })
    await comparer.dispose()
    await comparer.dispose()
    await expect(comparer.reply(report, 'Hi', 4)).rejects.toMatchObject({ code: 'invalid_argument' })
  })
})
