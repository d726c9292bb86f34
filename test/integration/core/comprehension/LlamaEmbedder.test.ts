import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LlamaEmbedder } from '../../../../src-main/core/comprehension/embed/LlamaEmbedder.js'
import { LecternError } from '../../../../src-main/shared/errors.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { testLlama } from '../../../support/llamaCpp.js'
import { useTempDirs } from '../../../support/tempDir.js'
import { TINY_CHUNKS } from './tinyChunks.js'

const tempDir = useTempDirs()

function norm(vector: Float32Array): number {
  return Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0))
}

describe('LlamaEmbedder on a tiny GGUF', () => {
  it('gives unit vectors of n_embd dimensions, deterministic, the same in a batch as one by one', async () => {
    const model = await writeTinyGgufModel(await tempDir(), { architecture: 'llama' })
    const embedder = await LlamaEmbedder.create({ modelPath: model.ggufPath, llama: await testLlama(), contexts: 2, contextSize: 256 })
    try {
      expect(embedder.dimension).toBe(model.hyperparameters.embeddingLength)
      const texts = [...TINY_CHUNKS, 'the model', 'what we have', 'all of the data']
      const batch = await embedder.embed(texts)
      expect(batch).toHaveLength(texts.length)
      for (const vector of batch) {
        expect(vector).toBeInstanceOf(Float32Array)
        expect(vector.length).toBe(model.hyperparameters.embeddingLength)
        expect(norm(vector)).toBeCloseTo(1, 5)
      }
      const oneByOne: Float32Array[] = []
      for (const text of texts) oneByOne.push(...(await embedder.embed([text])))
      const again = await embedder.embed(texts)
      batch.forEach((vector, i) => {
        expect(Array.from(vector)).toEqual(Array.from(oneByOne[i] ?? []))
        expect(Array.from(vector)).toEqual(Array.from(again[i] ?? []))
      })
      // Different texts give different vectors.
      expect(Array.from(batch[0] ?? [])).not.toEqual(Array.from(batch[1] ?? []))
    } finally {
      await embedder.close()
    }
  })

  it('cuts a text longer than the context instead of failing, and embeds an empty text as zeros', async () => {
    const model = await writeTinyGgufModel(await tempDir(), { architecture: 'llama' })
    const embedder = await LlamaEmbedder.create({ modelPath: model.ggufPath, llama: await testLlama(), contexts: 1, contextSize: 64 })
    try {
      const long = 'the model was trained on the data '.repeat(40)
      const [cut, prefix, empty] = await embedder.embed([long, long.slice(0, 400), ''])
      expect(norm(cut ?? new Float32Array())).toBeCloseTo(1, 5)
      // Both are cut to the same first tokens, so they embed the same.
      expect(Array.from(cut ?? [])).toEqual(Array.from(prefix ?? []))
      expect(Array.from(empty ?? [])).toEqual(new Array(model.hyperparameters.embeddingLength).fill(0))
    } finally {
      await embedder.close()
    }
  })

  it('stops between texts when cancelled', async () => {
    const model = await writeTinyGgufModel(await tempDir(), { architecture: 'llama' })
    const embedder = await LlamaEmbedder.create({ modelPath: model.ggufPath, llama: await testLlama(), contexts: 1, contextSize: 128 })
    try {
      const controller = new AbortController()
      controller.abort()
      await expect(embedder.embed(['the model'], controller.signal)).rejects.toMatchObject({ code: 'cancelled' })
    } finally {
      await embedder.close()
    }
  })

  it('refuses a malformed file with a LecternError naming it', async () => {
    const broken = join(await tempDir(), 'embedder.gguf')
    await writeFile(broken, 'not a gguf at all')
    const error = await LlamaEmbedder.create({ modelPath: broken, llama: await testLlama() }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LecternError)
    expect((error as LecternError).message).toContain(broken)
  })
})
