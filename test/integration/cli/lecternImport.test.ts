import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { proseParagraphs, writeBadFiles, writeGoodFiles } from '../../fixtures/corpus/writeCorpusFolder.js'
import { runCliProcess, startCli } from '../../support/cli.js'
import { corpusSnapshot } from '../../support/corpusSnapshot.js'
import { useTempDirs } from '../../support/tempDir.js'

const tempDir = useTempDirs()

function chunkCount(projectDir: string): number {
  try {
    const db = new BetterSqlite3(join(projectDir, 'project.db'), { readonly: true, fileMustExist: true })
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM chunks').get() as { n: number }).n
    } finally {
      db.close()
    }
  } catch {
    return 0
  }
}

function snapshotOf(projectDir: string): unknown {
  const db = new BetterSqlite3(join(projectDir, 'project.db'), { readonly: true })
  try {
    return corpusSnapshot(db)
  } finally {
    db.close()
  }
}

async function corpusFolder(): Promise<string> {
  const root = await tempDir()
  await writeGoodFiles(root)
  await writeBadFiles(root)
  for (let i = 0; i < 24; i++) await writeFile(join(root, `bulk-${String(i).padStart(2, '0')}.txt`), proseParagraphs(300 + i, 60).join('\n\n'))
  return root
}

describe('lectern import', () => {
  it('prints a summary with counts and every failed or skipped file with its reason; status shows the corpus', async () => {
    const root = await corpusFolder()
    const project = join(await tempDir(), 'p')
    expect((await runCliProcess(['init', project, '--name', 'import test'])).code).toBe(0)
    const result = await runCliProcess(['import', project, root, '--chunk-tokens', '128', '--overlap', '16', '--near-dup', '0.8'])
    expect(result.stderr).toMatch(/encrypted\.pdf: .*(encrypt|password)/i)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/Files\s+\d+ seen: 36 new, 0 changed, 0 unchanged, 1 empty, 1 skipped, 7 failed/)
    expect(result.stdout).toMatch(/Settings\s+128-token chunks, overlap 16, near-duplicate Jaccard ≥ 0\.8/)
    expect(result.stdout).toMatch(/Failed:\n(\s+.*\n){7}/)
    expect(result.stdout).toMatch(/bomb\.zip: archive bomb/)
    expect(result.stdout).toMatch(/picture\.bmp: unsupported file type \(\.bmp\)/)

    const json = await runCliProcess(['import', project, root, '--json'])
    expect(json.code).toBe(0)
    const detail = JSON.parse(json.stdout) as { result: { files: { unchanged: number; failed: number }; chunks: number; settings: { chunkTokens: number } } }
    expect(detail.result.files.unchanged).toBe(37) // the archive counts once, its members are not opened
    expect(detail.result.chunks).toBe(0)
    expect(detail.result.settings.chunkTokens).toBe(128)

    const status = await runCliProcess(['status', project])
    expect(status.stdout).toMatch(/Corpus files\s+36 imported, 1 empty, 1 skipped, 7 failed/)
    expect(status.stdout).toMatch(/Chunks\s+\d+ in use/)
    const failedFiles = JSON.parse((await runCliProcess(['corpus', project, 'files', '--status', 'failed', '--json'])).stdout) as { total: number; files: { path: string; reason: string }[] }
    expect(failedFiles.total).toBe(7)
    expect(failedFiles.files.every((f) => f.reason.length > 0)).toBe(true)
    const chunk = await runCliProcess(['corpus', project, 'chunk', '1'])
    expect(chunk.stdout).toMatch(new RegExp(`Source\\s+${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\S+.*characters \\d+–\\d+`))
    expect((await runCliProcess(['corpus', project, 'chunk', '999999'])).stderr).toMatch(/Chunk 999999 does not exist/)
    const usage = await runCliProcess(['import', project, root, '--overlap', '200', '--chunk-tokens', '100'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toMatch(/overlap/)
  }, 120_000)

  it('killed mid-import (SIGKILL) and run again, ends with exactly the corpus of an uninterrupted import', async () => {
    const root = await corpusFolder()
    const dir = await tempDir()
    const reference = join(dir, 'reference')
    const killed = join(dir, 'killed')
    for (const project of [reference, killed]) expect((await runCliProcess(['init', project, '--name', 'p'])).code).toBe(0)
    expect((await runCliProcess(['import', reference, root, '--chunk-tokens', '96', '--overlap', '24'])).code).toBe(0)
    const total = chunkCount(reference)

    const { child, done } = startCli(['import', killed, root, '--chunk-tokens', '96', '--overlap', '24'])
    const poll = setInterval(() => {
      const n = chunkCount(killed)
      if (n > total * 0.3) child.kill('SIGKILL')
    }, 10)
    const outcome = await done
    clearInterval(poll)
    expect(outcome.signal).toBe('SIGKILL')
    const partial = chunkCount(killed)
    expect(partial).toBeGreaterThan(0)
    expect(partial).toBeLessThan(total)

    const again = await runCliProcess(['import', killed, root])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/\d+ unchanged/)
    expect(snapshotOf(killed)).toEqual(snapshotOf(reference))
  }, 180_000)
})
