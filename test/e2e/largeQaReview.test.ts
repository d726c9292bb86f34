import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ComprehensionStore } from '../../src-main/core/comprehension/ComprehensionStore.js'
import { writeComprehensionCorpus } from '../fixtures/corpus/comprehensionProse.js'
import { startAppHarness, type AppHarness } from '../support/browserHarness.js'

const PAIRS = 3_000
/** Comfortably more than a 70vh grid shows plus its overscan, and far fewer than the pairs. */
const MAX_RENDERED_ROWS = 80

let app: AppHarness

beforeAll(async () => {
  app = await startAppHarness()
})
afterAll(async () => {
  await app?.close()
})

describe('A project with thousands of QA pairs, in Chromium', () => {
  it('scrolls its virtualized review grid to the last pair with a bounded number of rows in the page', async () => {
    const { page } = app
    const sourceDir = join(app.workDir, 'sources')
    await writeComprehensionCorpus(sourceDir, ['harbour'], 1)
    await page.getByLabel('Name').fill('Many pairs')
    await page.locator('input[name="project-folder"]').fill(join(app.workDir, 'project'))
    await page.getByRole('button', { name: 'Create project' }).click()
    await page.getByTestId('project-name').filter({ hasText: 'Many pairs' }).waitFor()
    const steps = page.getByRole('navigation', { name: 'Steps' })
    await steps.getByRole('button', { name: /Import/ }).click()
    await page.locator('input[name="import-path"]').fill(sourceDir)
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await page.getByRole('button', { name: 'Start import' }).click()
    await page.locator('[data-testid="import-progress"][data-state="succeeded"]').waitFor({ timeout: 60_000 })

    // The pairs go straight into the project's database through its store, as a long generation run would leave them.
    const store = new ComprehensionStore(app.services.workspace.project.db)
    const chunks = store.activeChunks()
    const perChunk = Math.ceil(PAIRS / chunks.length)
    let written = 0
    for (const chunk of chunks) {
      const count = Math.min(perChunk, PAIRS - written)
      const pairs = Array.from({ length: count }, (_, i) => ({
        question: `Question ${written + i + 1} about chunk ${chunk.id}?`,
        answer: i % 7 === 0 ? `A longer answer that wraps over several lines in the grid. `.repeat(4) : `Answer ${written + i + 1}.`,
        rejectReason: null,
        rejectDetail: null,
      }))
      store.writeGeneration({ chunkId: chunk.id, documentId: chunk.documentId, generator: 'e2e', status: 'ok', rawOutput: '', error: null, promptTokens: 0, outputTokens: 0, elapsedMs: 0, pairs })
      written += count
    }
    expect(written).toBe(PAIRS)

    await steps.getByRole('button', { name: /Comprehension/ }).click()
    await expect.poll(() => page.getByTestId('qa-count').textContent()).toBe('3,000 pair(s)')
    const grid = page.getByRole('grid', { name: 'Question/answer pairs' })
    const rows = page.getByTestId('qa-row')
    await expect.poll(() => rows.count()).toBeGreaterThan(5)
    expect(await rows.count()).toBeLessThan(MAX_RENDERED_ROWS)
    expect(await grid.getAttribute('aria-rowcount')).toBe(String(PAIRS + 1))

    await grid.focus()
    await page.keyboard.press('End')
    const last = page.getByTestId('qa-question').filter({ hasText: `Question ${PAIRS} about` })
    await last.waitFor({ timeout: 15_000 })
    await expect.poll(() => last.isVisible()).toBe(true)
    expect(await rows.count()).toBeLessThan(MAX_RENDERED_ROWS)
    const activeId = await grid.getAttribute('aria-activedescendant')
    expect(await page.locator(`[id="${activeId}"]`).getAttribute('aria-rowindex')).toBe(String(PAIRS + 1))

    // Enter goes into the active row, Escape back to the grid; the grid is one tab stop both ways.
    const focused = (): Promise<string> => page.evaluate<string>("document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.tagName ?? ''")
    await page.keyboard.press('Enter')
    expect(await focused()).toBe(`Edit pair ${PAIRS}`)
    await page.keyboard.press('Escape')
    expect(await focused()).toBe('Question/answer pairs')
    await page.keyboard.press('Tab')
    expect(await grid.evaluate((element) => element.contains(element.ownerDocument.activeElement))).toBe(false)
    await page.keyboard.press('Shift+Tab')
    expect(await focused()).toBe('Question/answer pairs')

    // Scrolling the list back to its middle renders the rows there, still a bounded number; of the rows at the end only
    // the active one stays (it may hold focus), out of view.
    await page.locator('[data-testid="qa-pairs"] [role="rowgroup"][tabindex="-1"]').evaluate((viewport) => (viewport.scrollTop = viewport.scrollHeight / 2))
    await expect.poll(() => page.getByTestId('qa-question').filter({ hasText: `Question ${PAIRS - 1} about` }).count()).toBe(0)
    expect(await last.isVisible()).toBe(true)
    expect(await last.evaluate((cell) => cell.getBoundingClientRect().top > cell.closest('[role="rowgroup"]')!.getBoundingClientRect().bottom)).toBe(true)
    await expect.poll(() => page.getByText(/^Question 1\d\d\d about/).count()).toBeGreaterThan(0)
    expect(await rows.count()).toBeLessThan(MAX_RENDERED_ROWS)
    // Measuring rows must not re-render within the observer's own frame, which the app would show as an error.
    expect(await page.getByText(/ResizeObserver loop/).count()).toBe(0)
    await app.screenshot('large-qa-review')
  })

  it('ran without page errors or CSP violations', () => {
    expect(app.problems).toEqual([])
  })
})
