import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppHarness, createProject, shownNumber, startAppHarness } from '../support/browserHarness.js'

let app: AppHarness
let sourceDir: string

/** A few paragraphs of distinct prose, so no two files deduplicate against each other. */
function prose(topic: string, paragraphs: number): string {
  return Array.from(
    { length: paragraphs },
    (_, i) =>
      `Paragraph ${i + 1} about ${topic}. The ${topic} clause number ${i * 7 + 3} sets out who pays, when notice is due, ` +
      `and what happens if the ${topic} terms are breached in year ${2000 + i}. Each party keeps a signed copy of the ${topic} schedule.`,
  ).join('\n\n')
}

beforeAll(async () => {
  app = await startAppHarness()
  sourceDir = join(app.workDir, 'sources')
  await mkdir(sourceDir, { recursive: true })
  await writeFile(join(sourceDir, 'leases.txt'), prose('lease', 12))
  await writeFile(join(sourceDir, 'loans.txt'), prose('loan', 10))
  await writeFile(join(sourceDir, 'guide.md'), `# Procurement guide\n\n## Tenders\n\n${prose('tender', 6)}\n\n## Awards\n\n${prose('award', 5)}\n`)
  await writeFile(join(sourceDir, 'policy.html'), `<!doctype html><html><head><title>Travel policy</title></head><body><h1>Travel</h1>${prose('travel', 6).split('\n\n').map((p) => `<p>${p}</p>`).join('')}</body></html>`)
  await writeFile(join(sourceDir, 'broken.pdf'), Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 97 + 13) % 256)))
  await writeFile(join(sourceDir, 'notes.xyz'), 'not a format Lectern reads')
})
afterAll(async () => {
  await app?.close()
})

describe('Import wizard in Chromium, through the real handlers and import worker', () => {
  it('imports a folder typed as a path and reports what it added, failed and skipped', async () => {
    const { page } = app
    await createProject(page, 'Corpus test', join(app.workDir, 'project'))

    await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: /Import/ }).click()
    await expect.poll(() => page.getByTestId('corpus-totals').textContent()).toContain('The corpus is empty')
    // A plain browser has no dropped-file paths and no native pickers.
    await page.getByTestId('drop-note').waitFor()
    expect(await page.getByRole('button', { name: 'Add folder…' }).count()).toBe(0)

    await page.locator('input[name="import-path"]').fill(sourceDir)
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await expect.poll(() => page.getByTestId('chosen-path').allTextContents()).toEqual([expect.stringContaining(sourceDir)])
    await app.screenshot('import-01-sources')

    await page.getByRole('button', { name: 'Start import' }).click()
    await page.locator('[data-testid="import-progress"][data-state="succeeded"]').waitFor({ timeout: 60_000 })
    await page.getByTestId('import-summary').scrollIntoViewIfNeeded()
    await app.screenshot('import-02-summary')

    const count = (key: string): Promise<number> => shownNumber(page, `summary-${key}`)
    expect(await count('added')).toBe(4)
    expect(await count('failed')).toBe(1)
    expect(await count('skipped')).toBe(1)
    expect(await count('documents')).toBeGreaterThanOrEqual(4)
    expect(await count('chunks')).toBeGreaterThanOrEqual(4)
    expect(await count('tokens')).toBeGreaterThan(0)

    const failed = page.getByTestId('import-failed').getByRole('listitem')
    expect(await failed.count()).toBe(1)
    expect(await failed.first().textContent()).toContain('broken.pdf')
    expect(await failed.first().textContent()).toMatch(/PDF/)
    expect(await page.getByTestId('import-skipped').textContent()).toContain('notes.xyz')
    await expect.poll(() => page.getByTestId('corpus-totals').textContent()).toMatch(/documents/)
  })

  it('lists the imported files, filters them by status, and opens a chunk with its source location', async () => {
    const { page } = app
    const rows = page.getByTestId('corpus-file-row')
    await expect.poll(() => rows.count()).toBe(6)
    const listed = (await rows.allTextContents()).join('\n')
    for (const name of ['leases.txt', 'loans.txt', 'guide.md', 'policy.html', 'broken.pdf', 'notes.xyz']) expect(listed).toContain(name)

    const filters = page.getByRole('group', { name: 'Show files' })
    await filters.getByRole('button', { name: 'Failed' }).click()
    await expect.poll(() => rows.count()).toBe(1)
    expect(await rows.first().getAttribute('data-status')).toBe('failed')
    expect(await rows.first().textContent()).toContain('broken.pdf')
    await filters.getByRole('button', { name: 'Skipped' }).click()
    await expect.poll(() => rows.allTextContents()).toEqual([expect.stringContaining('notes.xyz')])
    await filters.getByRole('button', { name: 'All' }).click()
    await expect.poll(() => rows.count()).toBe(6)

    const leases = join(sourceDir, 'leases.txt')
    await page.getByRole('button', { name: `Show chunks of ${leases}` }).click()
    const chunks = page.getByTestId('file-chunks').getByTestId('chunk-item')
    await expect.poll(() => chunks.count()).toBeGreaterThanOrEqual(1)
    await chunks.first().getByRole('button').click()
    const viewer = page.getByTestId('chunk-viewer')
    await viewer.waitFor()
    expect(await viewer.getByTestId('chunk-source').textContent()).toBe(leases)
    expect(await viewer.getByTestId('chunk-span').textContent()).toMatch(/^chars \d+–\d+$/)
    expect(Number(await viewer.getByTestId('chunk-tokens').textContent())).toBeGreaterThan(0)
    expect(await viewer.getByTestId('chunk-text').textContent()).toContain('Paragraph 1 about lease')
    await viewer.scrollIntoViewIfNeeded()
    await app.screenshot('import-03-chunk')
  })

  it('ran without page errors or CSP violations', () => {
    expect(app.problems).toEqual([])
  })
})
