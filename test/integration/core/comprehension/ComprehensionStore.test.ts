import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ComprehensionStore } from '../../../../src-main/core/comprehension/ComprehensionStore.js'
import { mineCorpus } from '../../../../src-main/core/comprehension/runComprehension.js'
import { importCorpus } from '../../../../src-main/core/corpus/importCorpus.js'
import { Project } from '../../../../src-main/core/project/Project.js'
import { comprehensionDocument } from '../../../fixtures/corpus/comprehensionProse.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

async function importedProject(): Promise<{ project: Project; store: ComprehensionStore; files: string[] }> {
  const root = await tempDir()
  const files = [join(root, 'a.txt'), join(root, 'b.txt')]
  await writeFile(files[0]!, comprehensionDocument('harbour', 0))
  await writeFile(files[1]!, comprehensionDocument('orchard', 1))
  const project = await Project.create(join(root, 'project'), 'store test')
  await importCorpus(project.db, files, { progressIntervalMs: 0, settings: { chunkTokens: 128, overlapTokens: 16 } })
  return { project, store: new ComprehensionStore(project.db), files }
}

/** Records one generation per chunk: a kept pair mentioning the chunk, a rejected one, for chunks in `ids`. */
function recordGenerations(store: ComprehensionStore, ids: number[]): void {
  for (const chunk of store.chunks(ids)) {
    store.writeGeneration({
      chunkId: chunk.id,
      documentId: chunk.documentId,
      generator: 'test',
      status: 'ok',
      rawOutput: '[]',
      error: null,
      promptTokens: 10,
      outputTokens: 5,
      elapsedMs: 1,
      pairs: [
        { question: `What closed in chunk ${chunk.id}?`, answer: `The ledger of chunk ${chunk.id}.`, rejectReason: null, rejectDetail: null },
        { question: `Why ${chunk.id}?`, answer: 'x', rejectReason: 'not_grounded', rejectDetail: '0% of the answer words occur in the chunk' },
      ],
    })
  }
}

describe('ComprehensionStore on a real project database', () => {
  it('finds, sorts, pages, edits and decides QA pairs; user decisions and bulk rejection are kept with their reason', async () => {
    const { project, store } = await importedProject()
    const ids = store.activeChunks().map((c) => c.id)
    expect(ids.length).toBeGreaterThan(4)
    recordGenerations(store, ids)

    expect(store.listQaPairs().total).toBe(2 * ids.length)
    expect(store.listQaPairs({ status: 'rejected', reason: 'not_grounded' }).total).toBe(ids.length)
    const search = store.listQaPairs({ search: `chunk ${ids[2]}?` })
    expect(search.pairs.map((p) => p.question)).toEqual([`What closed in chunk ${ids[2]}?`])
    // LIKE wildcards in a search are literal.
    expect(store.listQaPairs({ search: '%' }).total).toBe(0)
    const page = store.listQaPairs({ sort: 'answerLength', descending: true, offset: 1, limit: 3 })
    expect(page.pairs).toHaveLength(3)
    const lengths = store.listQaPairs({ sort: 'answerLength', descending: true }).pairs.map((p) => p.answer.length)
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a))

    const kept = search.pairs[0]!
    const edited = store.updateQaPair(kept.id, { answer: 'The harbour ledger.' })!
    expect(edited).toMatchObject({ answer: 'The harbour ledger.', edited: true, status: 'accepted', decidedBy: 'user' })
    const rejected = store.updateQaPair(kept.id, { status: 'rejected' })!
    expect(rejected).toMatchObject({ status: 'rejected', rejectReason: 'user', edited: true })
    const accepted = store.updateQaPair(store.listQaPairs({ reason: 'not_grounded', limit: 1 }).pairs[0]!.id, { status: 'accepted' })!
    expect(accepted).toMatchObject({ status: 'accepted', rejectReason: null, rejectDetail: null, decidedBy: 'user' })
    expect(store.updateQaPair(999_999, { status: 'accepted' })).toBeNull()

    expect(store.rejectMatching({ search: `chunk ${ids[0]}?` })).toBe(1)
    expect(store.listQaPairs({ reason: 'user' }).total).toBe(2)
    const totals = store.totals()
    expect(totals).toMatchObject({ generations: { ok: ids.length, timeout: 0, unparsable: 0, error: 0 }, activeChunks: ids.length })
    expect(totals.acceptedPairs + totals.rejectedPairs).toBe(2 * ids.length)
    expect(totals.rejectedByReason).toEqual({ not_grounded: ids.length - 1, user: 2 })
    project.close()
  })

  it('regenerating a chunk replaces its pairs, failed chunks are retried only when asked, and a changed file drops its data', async () => {
    const { project, store, files } = await importedProject()
    const ids = store.activeChunks().map((c) => c.id)
    recordGenerations(store, ids.slice(0, 3))
    const [first] = store.chunks([ids[0]!])
    store.writeGeneration({ chunkId: first!.id, documentId: first!.documentId, generator: 'test', status: 'timeout', rawOutput: '', error: 'cut off after 1 s', promptTokens: 0, outputTokens: 0, elapsedMs: 1000, pairs: [] })
    expect(store.listQaPairs({ chunkId: first!.id }).total).toBe(0)
    expect(store.countPending('llm')).toBe(ids.length - 3)
    expect(store.countPending('llm', { retryFailed: true })).toBe(ids.length - 2)

    await mineCorpus(store, { seed: 1, domain: null, limit: null, preview: null })
    expect(store.countPending('regex')).toBe(0)
    const before = store.totals()
    expect(before.rcChunks).toBe(ids.length)

    await writeFile(files[0]!, comprehensionDocument('harbour', 7))
    await importCorpus(project.db, files, { progressIntervalMs: 0 })
    const after = store.totals()
    const fileB = store.activeChunks().filter((c) => !ids.includes(c.id))
    expect(fileB.length).toBeGreaterThan(0)
    // Only the new chunks of the changed file lack data; nothing of the old file's chunks is left.
    expect(store.countPending('regex')).toBe(fileB.length)
    expect(after.rcChunks).toBe(store.activeChunks().length - fileB.length)
    expect(store.listQaPairs().pairs.every((p) => !fileB.some((c) => c.id === p.chunkId))).toBe(true)
    project.close()
  })
})
