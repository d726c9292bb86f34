import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ComprehensionStore } from '../../../../src-main/core/comprehension/ComprehensionStore.js'
import { LlamaQaGenerator } from '../../../../src-main/core/comprehension/generate/LlamaQaGenerator.js'
import { generateQaPairs, type GenerateQaOptions } from '../../../../src-main/core/comprehension/runComprehension.js'
import { importCorpus } from '../../../../src-main/core/corpus/importCorpus.js'
import { Project } from '../../../../src-main/core/project/Project.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { testLlama } from '../../../support/llamaCpp.js'
import { useTempDirs } from '../../../support/tempDir.js'
import { TINY_CHUNKS, TINY_LIMITS } from './tinyChunks.js'

const tempDir = useTempDirs()

const OPTIONS: GenerateQaOptions = { pairs: 2, temperature: 0.8, seed: 3, domain: null, retryFailed: false, filters: { minGrounding: 0 }, preview: null, limit: null }

describe('generateQaPairs over a project with a real llama.cpp generator', () => {
  it('records a generation cut off by its watchdog as timed out, goes on, and redoes it only when asked', async () => {
    const root = await tempDir()
    const files = await Promise.all(
      TINY_CHUNKS.map(async (text, i) => {
        const path = join(root, `passage-${i}.txt`)
        await writeFile(path, text)
        return path
      }),
    )
    const project = await Project.create(join(root, 'project'), 'generation test')
    await importCorpus(project.db, files, { progressIntervalMs: 0 })
    const store = new ComprehensionStore(project.db)
    const modelPath = (await writeTinyGgufModel(join(root, 'model'), { architecture: 'llama' })).ggufPath
    const llama = await testLlama()

    // A watchdog far shorter than any generation: every chunk stalls past it.
    const stalled = await LlamaQaGenerator.create({ modelPath, llama, contexts: 2, contextSize: 1024, maxOutputTokens: 400, timeoutMs: 5, bannedTokenPolicy: 'nonAscii', ...TINY_LIMITS })
    const started = performance.now()
    const first = await generateQaPairs(store, stalled, OPTIONS).finally(() => stalled.close())
    expect(performance.now() - started).toBeLessThan(30_000)
    expect(first.processed).toBe(TINY_CHUNKS.length)
    expect(first.failed).toEqual({ timeout: TINY_CHUNKS.length })
    const recorded = project.db.prepare('SELECT status, error FROM qa_generations').all() as { status: string; error: string }[]
    expect(recorded).toHaveLength(TINY_CHUNKS.length)
    for (const row of recorded) {
      expect(row.status).toBe('timeout')
      expect(row.error).toMatch(/\d/)
    }
    expect(store.countPending('llm')).toBe(0)

    const healthy = await LlamaQaGenerator.create({ modelPath, llama, contexts: 2, contextSize: 1024, maxOutputTokens: 400, bannedTokenPolicy: 'nonAscii', ...TINY_LIMITS })
    try {
      expect((await generateQaPairs(store, healthy, OPTIONS)).processed).toBe(0)
      const retried = await generateQaPairs(store, healthy, { ...OPTIONS, retryFailed: true })
      expect(retried.processed).toBe(TINY_CHUNKS.length)
      expect(retried.failed).toEqual({})
    } finally {
      await healthy.close()
    }
    expect(store.totals().generations).toEqual({ ok: TINY_CHUNKS.length, unparsable: 0, timeout: 0, error: 0 })
    expect(store.listQaPairs().total).toBeGreaterThanOrEqual(TINY_CHUNKS.length)
    project.close()
  }, 120_000)
})
