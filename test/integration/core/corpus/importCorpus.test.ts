import { appendFile, mkdir, unlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { CorpusBrowser } from '../../../../src-main/core/corpus/CorpusBrowser.js'
import { importCorpus, type ImportCorpusOptions } from '../../../../src-main/core/corpus/importCorpus.js'
import { Project } from '../../../../src-main/core/project/Project.js'
import { PreparerPool, WorkerPreparer } from '../../../../src-main/core/corpus/SourcePreparer.js'
import type { JobWorkerData } from '../../../../src-main/core/jobs/workerProtocol.js'
import { sourceJobWorker } from '../../../../src-main/devbridge/sourceJobWorker.js'
import type { ImportSummary } from '../../../../src-main/shared/types/corpus.js'
import { proseParagraphs, writeBadFiles, writeGoodFiles, writeInvalidUtf8 } from '../../../fixtures/corpus/writeCorpusFolder.js'
import { chunkRows, corpusSnapshot } from '../../../support/corpusSnapshot.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

async function newProject(): Promise<Project> {
  return Project.create(join(await tempDir(), 'project'), 'corpus test')
}

async function runImport(project: Project, paths: string[], options: ImportCorpusOptions = {}): Promise<ImportSummary> {
  return importCorpus(project.db, paths, { progressIntervalMs: 0, ...options })
}

function documentText(project: Project, path: string, locator = ''): string {
  const row = project.db.prepare('SELECT d.text FROM documents d JOIN corpus_files f ON f.id = d.file_id WHERE f.path = ? AND d.locator = ?').get(path, locator) as { text: string } | undefined
  if (!row) throw new Error(`no document for ${path} ${locator}`)
  return row.text
}

describe('importCorpus', () => {
  it('imports a file of every format: clean text, pages, sections, and spans that slice the document exactly', async () => {
    const root = await tempDir()
    const good = await writeGoodFiles(root)
    const project = await newProject()
    const summary = await runImport(project, [root], { settings: { chunkTokens: 48, overlapTokens: 8 } })

    expect(summary.failed).toEqual([])
    expect(summary.files.failed).toBe(0)
    // 9 plain files + 2 archive members; JSONL and CSV give one document per record.
    expect(summary.files.added).toBe(12)
    expect(summary.documents).toBe(10 + 3 + 2 + 2 - 3 + 1)
    for (const row of chunkRows(project.db)) {
      const text = documentText(project, row.path, row.locator)
      expect(text.slice(row.char_start, row.char_end)).toBe(row.text)
      expect(row.text).toBe(row.text.trim())
    }

    const pdfText = documentText(project, good['pdf']!)
    expect(pdfText).not.toMatch(/ACME Corp - Internal|Page \d of 3/)
    expect(pdfText).toContain(proseParagraphs(11, 2, 3)[0])
    const pdfChunks = chunkRows(project.db).filter((r) => r.path === good['pdf'])
    expect(pdfChunks[0]!.page_start).toBe(1)
    expect(pdfChunks.at(-1)!.page_end).toBe(3)
    for (const chunk of pdfChunks) {
      // A chunk's pages are the pages its text came from.
      const page = [1, 2, 3].find((n) => proseParagraphs(10 + n, 2, 3).some((p) => p.includes(chunk.text.slice(0, 30))))
      if (page !== undefined) expect(chunk.page_start).toBe(page)
    }

    expect(documentText(project, good['utf16']!)).toContain('Café résumé naïve — unicode in UTF-16.')
    expect(documentText(project, good['cp1252']!)).toBe('He said \u201cfianc\u00e9\u201d and left.')
    const markdown = documentText(project, good['markdown']!)
    expect(markdown).not.toMatch(/^---|title:|#|\*\*/m)
    expect(markdown).toContain('first point')
    const html = documentText(project, good['html']!)
    expect(html).toContain('Refund policy')
    expect(html).not.toMatch(/Home|About|Copyright|var x/)
    expect(documentText(project, good['docx']!)).toMatch(/Lease agreement[\s\S]*Rent\t1200/)
    const epubChunks = chunkRows(project.db).filter((r) => r.path === good['epub'])
    expect(new Set(epubChunks.map((c) => c.section))).toEqual(new Set(['Chapter 1', 'Chapter 2']))
    expect(documentText(project, good['jsonl']!, 'line 2')).toBe(proseParagraphs(6, 3)[1])
    expect(documentText(project, good['csv']!, 'row 1')).toBe(proseParagraphs(7, 2)[0])
    expect(documentText(project, `${good['zip']}!/inner/one.txt`)).toBe(proseParagraphs(8, 2).join('\n\n'))

    const totals = summary.corpus
    expect(totals.documents).toBe(summary.documents)
    expect(totals.chunks).toBe(summary.chunks)
    expect(totals.activeChunks).toBe(summary.chunks - summary.exactDuplicateChunks - summary.nearDuplicateChunks)
    project.close()
  })

  it('records every malformed file with a reason and imports the rest, never crashing', async () => {
    const root = await tempDir()
    const good = await writeGoodFiles(root)
    const { bad, skipped } = await writeBadFiles(root)
    const invalidUtf8 = await writeInvalidUtf8(root)
    // A file listed by the walk that disappears before it is read.
    const vanishing = join(root, 'zz-last', 'vanish.txt')
    await mkdir(join(root, 'zz-last'), { recursive: true })
    await writeFile(join(root, 'zz-last', 'a-first.txt'), 'The first file of the last folder.')
    await writeFile(vanishing, 'This file is removed while the import runs.')
    const project = await newProject()
    const summary = await runImport(project, [root], {
      onProgress: (progress) => {
        if (progress.currentPath?.endsWith('a-first.txt')) void unlink(vanishing).catch(() => undefined)
      },
    })

    const failed = new Map(summary.failed.map((f) => [f.path, f.reason]))
    for (const { path, reasonIncludes } of bad) expect(failed.get(path), path).toMatch(reasonIncludes)
    expect(failed.get(vanishing)).toMatch(/disappeared/)
    expect(summary.files.failed).toBe(bad.length + 1)
    expect(summary.skipped.map((s) => s.path)).toEqual(skipped)
    expect(summary.files.empty).toBe(1)
    expect(summary.warnings.find((w) => w.path === invalidUtf8)?.reason).toMatch(/UTF-8/)
    expect(documentText(project, invalidUtf8)).toContain('\uFFFD')
    for (const path of Object.values(good)) expect(project.db.prepare("SELECT status FROM corpus_files WHERE path = ?").get(path)).toEqual({ status: 'imported' })
    const browser = new CorpusBrowser(project.db)
    expect(browser.listFiles({ statuses: ['failed'] }).files.map((f) => f.path).sort()).toEqual([...bad.map((b) => b.path), vanishing].sort())
    project.close()
  }, 60_000)

  it('is idempotent: a second run changes nothing, a changed file is replaced, a touched file is not re-read', async () => {
    const root = await tempDir()
    const good = await writeGoodFiles(root)
    const project = await newProject()
    await runImport(project, [root])
    const before = corpusSnapshot(project.db)

    const again = await runImport(project, [root])
    expect(again.files.unchanged).toBe(again.files.seen - 0)
    expect(again.documents).toBe(0)
    expect(again.chunks).toBe(0)
    expect(corpusSnapshot(project.db)).toEqual(before)

    await utimes(good['text']!, new Date(), new Date(Date.now() + 5000))
    await appendFile(good['markdown']!, '\nA new closing sentence was added to the guide.\n')
    const third = await runImport(project, [root])
    expect(third.files.updated).toBe(1)
    expect(third.files.unchanged).toBe(third.files.seen - 1)
    expect(documentText(project, good['markdown']!)).toContain('A new closing sentence')
    const documents = project.db.prepare('SELECT COUNT(*) AS n FROM documents d JOIN corpus_files f ON f.id = d.file_id WHERE f.path = ?').get(good['markdown']!)
    expect(documents).toEqual({ n: 1 })
    project.close()
  })

  it('records exact and near duplicates, keeps them restorable, and promotes a duplicate when its original goes', async () => {
    const root = await tempDir()
    const paragraphs = proseParagraphs(40, 8)
    const original = join(root, 'a-original.txt')
    await writeFile(original, paragraphs.join('\n\n'))
    await writeFile(join(root, 'b-copy.txt'), paragraphs.join('\n\n'))
    // Same text with a handful of words changed: near duplicates chunk by chunk.
    const edited = paragraphs.map((p, i) => (i % 2 === 0 ? p.replace('(item', '(entry') : p)).join('\n\n')
    await writeFile(join(root, 'c-edited.txt'), edited)
    const project = await newProject()
    const summary = await runImport(project, [root], { settings: { chunkTokens: 128, overlapTokens: 0, nearDuplicateThreshold: 0.7 } })

    expect(summary.duplicateDocuments).toBe(1)
    const rows = chunkRows(project.db)
    const editedRows = rows.filter((r) => r.path.endsWith('c-edited.txt'))
    expect(editedRows.length).toBeGreaterThan(1)
    const nearOrExact = editedRows.filter((r) => r.duplicate_kind !== null)
    expect(nearOrExact.length).toBeGreaterThan(0)
    expect(nearOrExact.every((r) => r.original?.startsWith(original))).toBe(true)
    expect(editedRows.some((r) => r.duplicate_kind === 'near')).toBe(true)

    const browser = new CorpusBrowser(project.db)
    const nearId = (project.db.prepare("SELECT id FROM chunks WHERE duplicate_kind = 'near' AND duplicate_of IS NOT NULL LIMIT 1").get() as { id: number }).id
    const restored = browser.restoreChunk(nearId)
    expect(restored.duplicateOf).toBeNull()
    expect(restored.keptByUser).toBe(true)
    const copyDocument = (project.db.prepare("SELECT d.id FROM documents d JOIN corpus_files f ON f.id = d.file_id WHERE f.path LIKE '%b-copy.txt'").get() as { id: number }).id
    expect(browser.restoreDocument(copyDocument).chunks).toBeGreaterThan(0)

    // The original changes: the duplicates that pointed at its chunks take their place.
    await writeFile(original, proseParagraphs(99, 4).join('\n\n'))
    await runImport(project, [root])
    const after = chunkRows(project.db).filter((r) => r.path.endsWith('c-edited.txt'))
    expect(after.filter((r) => r.duplicate_kind !== null && r.original?.startsWith(original))).toEqual([])
    const dangling = project.db.prepare('SELECT COUNT(*) AS n FROM chunks WHERE duplicate_of IS NOT NULL AND duplicate_of NOT IN (SELECT id FROM chunks)').get()
    expect(dangling).toEqual({ n: 0 })
    project.close()
  })

  it('after a cancel mid-import, running it again ends with exactly the corpus of an uninterrupted import', async () => {
    const root = await tempDir()
    await writeGoodFiles(root)
    for (let i = 0; i < 12; i++) await writeFile(join(root, `bulk-${String(i).padStart(2, '0')}.jsonl`), proseParagraphs(200 + i, 40).map((text) => JSON.stringify({ text })).join('\n'))
    const uninterrupted = await newProject()
    await runImport(uninterrupted, [root], { settings: { chunkTokens: 64, overlapTokens: 16 } })

    const interrupted = await newProject()
    const controller = new AbortController()
    await expect(
      runImport(interrupted, [root], {
        settings: { chunkTokens: 64, overlapTokens: 16 },
        signal: controller.signal,
        onProgress: (p) => {
          if (p.chunks > 200) controller.abort()
        },
      }),
    ).rejects.toThrow()
    const partial = interrupted.db.prepare('SELECT COUNT(*) AS n FROM chunks').get() as { n: number }
    expect(partial.n).toBeGreaterThan(0)
    await runImport(interrupted, [root])
    expect(corpusSnapshot(interrupted.db)).toEqual(corpusSnapshot(uninterrupted.db))
    uninterrupted.close()
    interrupted.close()
  }, 60_000)

  it('re-chunks the whole corpus when the chunk settings change, and keeps them for later imports', async () => {
    const root = await tempDir()
    await writeFile(join(root, 'long.txt'), proseParagraphs(50, 20).join('\n\n'))
    const project = await newProject()
    const first = await runImport(project, [root], { settings: { chunkTokens: 256, overlapTokens: 32 } })
    const second = await runImport(project, [root], { settings: { chunkTokens: 64, overlapTokens: 0 } })
    expect(second.corpus.chunks).toBeGreaterThan(first.corpus.chunks * 3)
    expect(second.files.unchanged).toBe(1)
    const third = await runImport(project, [root])
    expect(third.settings).toMatchObject({ chunkTokens: 64, overlapTokens: 0 })
    expect(third.corpus.chunks).toBe(second.corpus.chunks)
    const maxTokens = project.db.prepare('SELECT MAX(token_count) AS n FROM chunks').get() as { n: number }
    expect(maxTokens.n).toBeLessThanOrEqual(64)
    project.close()
  })

  it('gives the same corpus when worker threads prepare the files while this one writes', async () => {
    const root = await tempDir()
    await writeGoodFiles(root)
    await writeBadFiles(root)
    for (let i = 0; i < 6; i++) await writeFile(join(root, `bulk-${i}.txt`), proseParagraphs(500 + (i % 3), 30).join('\n\n'))
    const inThread = await newProject()
    await runImport(inThread, [root], { settings: { chunkTokens: 64, overlapTokens: 16 } })
    const withWorker = await newProject()
    const workerScript = sourceJobWorker().workerScript as string
    const workerData: JobWorkerData = { role: 'corpusPreparer', workerScript, workerExecArgv: [] }
    const summary = await runImport(withWorker, [root], {
      settings: { chunkTokens: 64, overlapTokens: 16 },
      // Two workers taking files in turn: the import must still write them in walk order.
      startPreparer: (config) => new PreparerPool([0, 1].map(() => new WorkerPreparer(new Worker(workerScript, { workerData }), config))),
    })
    expect(summary.failed.length).toBeGreaterThan(0)
    expect(corpusSnapshot(withWorker.db)).toEqual(corpusSnapshot(inThread.db))
    inThread.close()
    withWorker.close()
  }, 120_000)
})
