import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ZipArchive } from '../../../../../src-main/core/corpus/archive/ZipArchive.js'
import { DEFAULT_EXTRACTION_LIMITS, type ExtractionLimits } from '../../../../../src-main/core/corpus/formats/types.js'
import { writeZip, writeZipBomb } from '../../../../fixtures/corpus/zipFixtures.js'

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

async function openError(bytes: Uint8Array, limits: ExtractionLimits = DEFAULT_EXTRACTION_LIMITS): Promise<Error & { code?: string; file?: string; kind?: string }> {
  return ZipArchive.fromBytes(bytes, { displayPath: '/in/a.zip', limits }).then(
    () => expect.fail('the archive opened'),
    (error: unknown) => error as Error,
  )
}

describe('ZipArchive', () => {
  it('lists entries and reads stored and deflated members', async () => {
    const bytes = await writeZip([
      { name: 'notes/a.txt', data: 'alpha '.repeat(1000) },
      { name: 'b.txt', data: 'beta', compress: false },
    ])
    const archive = await ZipArchive.fromBytes(bytes, { displayPath: '/in/a.zip' })
    expect(archive.entries()).toEqual([
      { name: 'notes/a.txt', compressedSizeBytes: expect.any(Number), uncompressedSizeBytes: 6000, isDirectory: false },
      { name: 'b.txt', compressedSizeBytes: 4, uncompressedSizeBytes: 4, isDirectory: false },
    ])
    expect(archive.entries()[0]!.compressedSizeBytes).toBeLessThan(6000)
    expect(text(await archive.readEntry('notes/a.txt'))).toBe('alpha '.repeat(1000))
    expect(text(await archive.readEntry('b.txt'))).toBe('beta')
    await expect(archive.readEntry('missing.txt')).rejects.toMatchObject({ code: 'unreadable_file', message: 'not in the archive' })
    archive.close()
    archive.close()
  })

  it('iterates members as sources with archive display paths', async () => {
    const bytes = await writeZip([
      { name: 'x/one.txt', data: 'one' },
      { name: 'two.txt', data: 'two' },
    ])
    const archive = await ZipArchive.fromBytes(bytes, { displayPath: '/in/a.zip' })
    const seen: string[] = []
    for await (const member of archive.iterateEntries()) {
      const pieces: string[] = []
      for await (const piece of member.stream()) pieces.push(text(piece))
      seen.push(`${member.displayPath} ${member.sizeBytes} ${pieces.join('')} ${text(await member.readAll())}`)
    }
    expect(seen).toEqual(['/in/a.zip!/x/one.txt 3 one one', '/in/a.zip!/two.txt 3 two two'])
    archive.close()
  })

  it('opens a zip file from disk', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'lectern-zip-'))
    try {
      const path = join(folder, 'disk.zip')
      await writeFile(path, await writeZip([{ name: 'a.txt', data: 'from disk' }]))
      const archive = await ZipArchive.open(path)
      expect(archive.displayPath).toBe(path)
      expect(text(await archive.readEntry('a.txt'))).toBe('from disk')
      archive.close()
      await expect(ZipArchive.open(join(folder, 'nope.zip'))).rejects.toMatchObject({ kind: 'io', message: /^cannot read the file \(ENOENT/ })
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })

  it('skips and reports members whose names escape the folder, and encrypted ones', async () => {
    const bytes = await writeZip([
      { name: 'good.txt', data: 'fine' },
      { name: '../evil.txt', data: 'evil' },
      { name: '/etc/passwd', data: 'root' },
      { name: 'dir\\win.txt', data: 'win' },
      { name: 'safe/../../up.txt', data: 'up' },
      { name: 'secret.txt', data: 'locked', encrypted: true },
    ])
    const archive = await ZipArchive.fromBytes(bytes, { displayPath: '/in/a.zip' })
    expect(archive.entries().map((entry) => entry.name)).toEqual(['good.txt'])
    expect(archive.rejectedEntries).toEqual([
      { name: '../evil.txt', reason: 'unsafe name: contains a ".." segment' },
      { name: '/etc/passwd', reason: 'unsafe name: absolute path' },
      { name: 'dir\\win.txt', reason: 'unsafe name: contains a backslash' },
      { name: 'safe/../../up.txt', reason: 'unsafe name: contains a ".." segment' },
      { name: 'secret.txt', reason: 'encrypted archive member' },
    ])
    await expect(archive.readEntry('../evil.txt')).rejects.toMatchObject({ message: 'cannot read: unsafe name: contains a ".." segment' })
    archive.close()
  })

  it('refuses a zip bomb by its compression ratio before inflating anything', async () => {
    const bomb = await writeZipBomb()
    const started = performance.now()
    const error = await openError(bomb)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(error).toMatchObject({ code: 'unreadable_file', file: '/in/a.zip', kind: 'bomb' })
    expect(error.message).toMatch(/^archive bomb: zeros\.bin would inflate \d+ bytes to 52428800 bytes \(ratio \d+:1, limit 200:1\)$/)
  })

  it('refuses archives over the total size and entry count limits', async () => {
    const bytes = await writeZip([
      { name: 'a.txt', data: 'a'.repeat(600) },
      { name: 'b.txt', data: 'b'.repeat(600) },
    ])
    const small = { ...DEFAULT_EXTRACTION_LIMITS, maxArchiveBytes: 1000 }
    expect((await openError(bytes, small)).message).toBe('archive bomb: members would inflate to at least 1200 bytes, limit 1000')
    const few = { ...DEFAULT_EXTRACTION_LIMITS, maxArchiveEntries: 1 }
    expect(await openError(bytes, few)).toMatchObject({ kind: 'too_many_entries', message: 'archive lists 2 entries, limit 1' })
  })

  it('skips a member over the file size limit', async () => {
    const bytes = await writeZip([
      { name: 'big.txt', data: 'x'.repeat(2000) },
      { name: 'small.txt', data: 'ok' },
    ])
    const archive = await ZipArchive.fromBytes(bytes, { limits: { ...DEFAULT_EXTRACTION_LIMITS, maxFileBytes: 1000 } })
    expect(archive.entries().map((entry) => entry.name)).toEqual(['small.txt'])
    expect(archive.rejectedEntries).toEqual([{ name: 'big.txt', reason: 'member too large: 2000 bytes, limit 1000' }])
    archive.close()
  })

  it('stops inflating a member that grows past its declared size', async () => {
    const bytes = await writeZip([{ name: 'liar.bin', data: new Uint8Array(2 * 1024 * 1024), declaredSizeBytes: 1000 }])
    const archive = await ZipArchive.fromBytes(bytes, { displayPath: '/in/a.zip' })
    await expect(archive.readEntry('liar.bin')).rejects.toMatchObject({
      kind: 'bomb',
      message: 'archive bomb: liar.bin inflates past its declared size of 1000 bytes',
    })
    archive.close()
  })

  it('opens a zip nested in a zip under the outer archive budget', async () => {
    const inner = await writeZip([{ name: 'deep.txt', data: 'deep text' }])
    const outer = await ZipArchive.fromBytes(await writeZip([{ name: 'in/inner.zip', data: inner }]), { displayPath: '/in/a.zip' })
    const names: string[] = []
    for await (const member of outer.iterateEntries()) {
      const nested = await ZipArchive.fromBytes(await member.readAll(), { displayPath: member.displayPath, inflateBudget: outer.inflateBudget })
      for await (const deep of nested.iterateEntries()) names.push(`${deep.displayPath}: ${text(await deep.readAll())}`)
      nested.close()
    }
    expect(names).toEqual(['/in/a.zip!/in/inner.zip!/deep.txt: deep text'])
    expect(outer.inflateBudget.remainingBytes).toBe(DEFAULT_EXTRACTION_LIMITS.maxArchiveBytes - inner.byteLength - 'deep text'.length)
    outer.close()
  })

  it('shares an inflate budget with nested archives', async () => {
    const bytes = await writeZip([{ name: 'a.txt', data: 'a'.repeat(800) }])
    const budget = { remainingBytes: 1000 }
    const first = await ZipArchive.fromBytes(bytes, { inflateBudget: budget })
    await first.readEntry('a.txt')
    expect(budget.remainingBytes).toBe(200)
    const second = await ZipArchive.fromBytes(bytes, { inflateBudget: budget })
    await expect(second.readEntry('a.txt')).rejects.toMatchObject({ kind: 'bomb', message: /past the limit/ })
    first.close()
    second.close()
  })

  it('says when the bytes are not a zip archive', async () => {
    const error = await openError(new TextEncoder().encode('just some text, not a zip'))
    expect(error).toMatchObject({ code: 'unreadable_file', kind: 'not_zip', file: '/in/a.zip' })
    expect(error.message).toMatch(/^not a zip archive \(/)
  })
})
