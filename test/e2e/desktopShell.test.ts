import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAppHarness, type AppHarness } from '../support/browserHarness.js'

let app: AppHarness

beforeAll(async () => {
  app = await startAppHarness()
  const { page } = app
  await page.getByLabel('Name').fill('Shell checks')
  await page.locator('input[name="project-folder"]').fill(join(app.workDir, 'shell'))
  await page.getByRole('button', { name: 'Create project' }).click()
  await page.getByTestId('project-name').filter({ hasText: 'Shell checks' }).waitFor()
})
afterAll(async () => {
  await app?.close()
})

const focusedText = (): Promise<string> => app.page.evaluate<string>("document.activeElement?.textContent?.trim() ?? ''")

describe('the desktop shell in Chromium, through the real handlers', () => {
  it('moves between the steps with the arrow keys, Home and End, wrapping around', async () => {
    const { page } = app
    const nav = page.getByRole('navigation', { name: 'Steps' })
    await nav.getByRole('button', { name: 'Overview' }).focus()
    await page.keyboard.press('ArrowDown')
    expect(await focusedText()).toBe('1Import')
    await page.keyboard.press('ArrowDown')
    expect(await focusedText()).toBe('2Comprehension')
    await page.keyboard.press('End')
    expect(await focusedText()).toBe('Settings')
    await page.keyboard.press('ArrowDown')
    expect(await focusedText()).toBe('Overview')
    await page.keyboard.press('ArrowUp')
    expect(await focusedText()).toBe('Settings')
    await page.keyboard.press('Home')
    expect(await focusedText()).toBe('Overview')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Overview' }).waitFor()
  })

  it('applies the theme setting to the document: data-theme and the resolved color-scheme', async () => {
    const { page } = app
    const documentTheme = (): Promise<[string | null, string]> =>
      page.evaluate<[string | null, string]>("[document.documentElement.getAttribute('data-theme'), getComputedStyle(document.documentElement).colorScheme]")
    expect(await documentTheme()).toEqual([null, 'light dark'])
    await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: 'Settings' }).click()
    const theme = page.getByRole('combobox', { name: 'Theme' })
    await theme.selectOption('dark')
    await expect.poll(documentTheme).toEqual(['dark', 'dark'])
    const inkColour = (): Promise<string> => page.evaluate<string>('getComputedStyle(document.body).color')
    const darkInk = await inkColour()
    await theme.selectOption('light')
    await expect.poll(documentTheme).toEqual(['light', 'light'])
    expect(await inkColour()).not.toBe(darkInk)
    expect(app.services.settings.get().theme).toBe('light')
    await theme.selectOption('system')
    await expect.poll(documentTheme).toEqual([null, 'light dark'])
  })

  it('shows a promise rejection no code handled as an error toast with its details', async () => {
    const { page } = app
    await page.evaluate(() => {
      void Promise.reject(new Error('e2e: nobody caught this'))
    })
    const toast = page.getByRole('alert').filter({ hasText: 'e2e: nobody caught this' })
    await toast.waitFor()
    expect(await toast.textContent()).toContain('Unexpected error')
    expect(await toast.getAttribute('data-code')).toBe('internal')
    await toast.getByRole('button', { name: 'Dismiss: Unexpected error' }).click()
    await toast.waitFor({ state: 'detached' })
  })

  it('acts on File menu commands: Settings, Import, Close Project, New Project', async () => {
    const { page } = app
    // The native menu sends `onMenuCommand` to its window; here the bridge carries it as any contract event.
    app.services.events.emit('onMenuCommand', 'openSettings')
    await page.getByRole('combobox', { name: 'Theme' }).waitFor()
    app.services.events.emit('onMenuCommand', 'importFiles')
    await page.getByRole('heading', { name: 'Import', level: 1 }).waitFor()
    app.services.events.emit('onMenuCommand', 'closeProject')
    await page.getByRole('region', { name: 'Recent projects' }).getByRole('button', { name: /^Shell checks/ }).waitFor()
    expect(await page.getByTestId('project-name').count()).toBe(0)
    app.services.events.emit('onMenuCommand', 'newProject')
    await expect.poll(() => page.evaluate<string | null | undefined>("document.activeElement?.getAttribute('name')")).toBe('project-name')
    app.services.events.emit('onMenuCommand', 'openProject')
    await expect.poll(() => page.evaluate<string | null | undefined>("document.activeElement?.getAttribute('name')")).toBe('open-folder')
  })

  it('shows the app-wide settings without a project, and says to open one first for Import Files', async () => {
    const { page } = app
    app.services.events.emit('onMenuCommand', 'openSettings')
    await page.getByRole('combobox', { name: 'Theme' }).waitFor()
    await page.getByRole('button', { name: '← Projects' }).click()
    await page.getByRole('region', { name: 'Recent projects' }).waitFor()
    app.services.events.emit('onMenuCommand', 'importFiles')
    const toast = page.getByRole('status').filter({ hasText: 'Open a project first' })
    await toast.waitFor()
    await toast.getByRole('button', { name: 'Dismiss: No project is open' }).click()
  })

  it('keeps the Train form across pages, and moves focus to the page when the button that led there goes away', async () => {
    const { page } = app
    await app.services.workspace.createProject(join(app.workDir, 'alpha'), 'Alpha')
    await page.getByTestId('project-name').filter({ hasText: 'Alpha' }).waitFor()
    const nav = page.getByRole('navigation', { name: 'Steps' })
    await nav.getByRole('button', { name: /Train$/ }).click()
    await page.locator('#train-base').fill('/models/alpha-base.gguf')
    await nav.getByRole('button', { name: 'Models' }).click()
    await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor()
    await nav.getByRole('button', { name: /Train$/ }).click()
    expect(await page.locator('#train-base').inputValue()).toBe('/models/alpha-base.gguf')

    await page.getByTestId('train-runs-none').getByRole('button', { name: /^Go to/ }).click()
    await page.getByRole('heading', { name: 'Comprehension', level: 1 }).waitFor()
    await expect.poll(() => page.evaluate<string>('document.activeElement?.id ?? ""')).toBe('main-content')
  })

  it('opening another project over the open one shows the new one from its overview, with fresh data and forms', async () => {
    const { page } = app
    const nav = page.getByRole('navigation', { name: 'Steps' })
    const notes = join(app.workDir, 'alpha-notes.txt')
    await writeFile(notes, 'The lease ends in March. The tenant pays the heating.\n')
    const imported = app.services.workspace.queue.enqueue({ kind: 'import', params: { paths: [notes] } })
    expect((await app.services.workspace.queue.waitFor(imported.id)).state).toBe('succeeded')
    await nav.getByRole('button', { name: 'Overview' }).click()
    const alphaImport = page.getByText(/^1 document, /)
    await alphaImport.waitFor()

    // What Open Project does in the desktop app: the backend opens the other folder, the page follows.
    await app.services.workspace.createProject(join(app.workDir, 'beta'), 'Beta')
    await page.getByTestId('project-name').filter({ hasText: 'Beta' }).waitFor()
    await page.getByText('No documents imported yet').waitFor()
    expect(await alphaImport.count()).toBe(0)
    await nav.getByRole('button', { name: /Train$/ }).click()
    expect(await page.locator('#train-base').inputValue()).toBe('')

    await app.services.workspace.openProject(join(app.workDir, 'alpha'))
    await page.getByTestId('project-name').filter({ hasText: 'Alpha' }).waitFor()
    expect(await nav.getByRole('button', { name: 'Overview' }).getAttribute('aria-current')).toBe('page')
    await alphaImport.waitFor()
    await app.services.workspace.openProject(join(app.workDir, 'beta'))
    await page.getByTestId('project-name').filter({ hasText: 'Beta' }).waitFor()
  })

  it('asks before closing a project whose jobs run, says what happens to them, and Escape keeps it open', async () => {
    const { page } = app
    const job = app.services.workspace.queue.enqueue({ kind: 'demo', params: { steps: 100_000, stepMs: 50 } })
    await page.getByLabel('Active jobs').waitFor()
    app.services.events.emit('onMenuCommand', 'closeProject')
    const dialog = page.getByRole('alertdialog', { name: 'A job is still running' })
    await dialog.waitFor()
    expect(await dialog.textContent()).toContain('marks it interrupted')
    expect(await focusedText()).toBe('Keep it open')
    await page.keyboard.press('Tab')
    expect(await focusedText()).toBe('Close project')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    expect(await page.getByTestId('project-name').textContent()).toBe('Beta')

    await page.getByRole('banner').getByRole('button', { name: 'Close project' }).click()
    await dialog.getByRole('button', { name: 'Close project' }).click()
    await page.getByRole('region', { name: 'Recent projects' }).waitFor()
    await app.services.workspace.openProject(join(app.workDir, 'beta'))
    expect(app.services.workspace.project.jobs.get(job.id).state).toBe('interrupted')
  })
})
