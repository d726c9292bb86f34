import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Project } from '../../src-main/core/project/Project.js'
import { createProject, startAppHarness, type AppHarness } from '../support/browserHarness.js'

let app: AppHarness

beforeAll(async () => {
  app = await startAppHarness()
})
afterAll(async () => {
  await app?.close()
})

describe('Lectern in Chromium, through the real handlers', () => {
  it('creates a project, lists it among recent projects and reopens it', async () => {
    const { page } = app
    const dir = join(app.workDir, 'contracts')
    await createProject(page, 'Contracts 2026', dir)
    expect((await readFile(join(dir, 'project.db'))).subarray(0, 15).toString()).toBe('SQLite format 3')
    await app.screenshot('01-project-created')

    await page.getByRole('button', { name: 'Close project' }).click()
    const recent = page.getByRole('region', { name: 'Recent projects' })
    await recent.getByRole('button', { name: /^Contracts 2026/ }).waitFor()
    await app.screenshot('02-recent-projects')
    await recent.getByRole('button', { name: /^Contracts 2026/ }).click()
    await page.getByTestId('project-name').filter({ hasText: 'Contracts 2026' }).waitFor()
  })

  it('runs a demo job with live progress, cancels it, and shows it cancelled and resumable', async () => {
    const { page } = app
    await page.getByRole('button', { name: 'Run demo job' }).click()
    const job = page.locator('li.job').first()
    await job.locator('[data-testid="job-state"]', { hasText: 'Running' }).waitFor()
    // Progress arrives as server-sent events from the worker, through the real job queue.
    const stepsDone = async (): Promise<number> => Number(/(\d+) (?:\/|of) \d+/.exec((await job.getByTestId('job-progress').textContent()) ?? '')?.[1] ?? 0)
    await expect.poll(stepsDone, { timeout: 30_000 }).toBeGreaterThanOrEqual(3)
    await app.screenshot('03-job-running')
    await job.getByRole('button', { name: 'Cancel' }).click()
    await job.locator('[data-testid="job-state"]', { hasText: 'Cancelled' }).waitFor()
    await job.getByRole('button', { name: 'Resume' }).waitFor()
    await app.screenshot('04-job-cancelled')

    const jobId = await job.getAttribute('data-job-id')
    const project = await Project.open(join(app.workDir, 'contracts'), { readonly: true })
    const stored = project.jobs.get(jobId!)
    project.close()
    expect(stored).toMatchObject({ state: 'cancelled', resumable: true, kind: 'demo' })
    expect(stored.progress.done).toBeGreaterThanOrEqual(3)
    expect(stored.progress.done).toBeLessThan(stored.progress.total)

    await job.getByRole('button', { name: 'Resume' }).click()
    await job.locator('[data-testid="job-state"]', { hasText: 'Done' }).waitFor({ timeout: 30_000 })
    await job.getByRole('button', { name: 'Log' }).click()
    await expect.poll(() => job.getByRole('list', { name: /Log of job/ }).textContent()).toContain('Resuming at step')
    await app.screenshot('05-job-resumed-and-done')
  })

  it('shows a clear error when creating a project where one exists, keeping the open one', async () => {
    const { page } = app
    await page.getByRole('button', { name: 'Close project' }).click()
    await page.getByLabel('Name').fill('Duplicate')
    await page.locator('input[name="project-folder"]').fill(join(app.workDir, 'contracts'))
    await page.getByRole('button', { name: 'Create project' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('already holds a Lectern project; open it instead')
    await app.screenshot('06-create-error')
    const project = await Project.open(join(app.workDir, 'contracts'), { readonly: true })
    expect(project.name).toBe('Contracts 2026')
    project.close()
  })

  it('reports hardware from the main process and saves the thread setting', async () => {
    const { page } = app
    await page.getByRole('region', { name: 'Recent projects' }).getByRole('button', { name: /^Contracts 2026/ }).click()
    await page.getByRole('button', { name: 'Settings' }).click()
    await expect.poll(() => page.getByRole('region', { name: 'Hardware' }).textContent()).toContain('Logical cores')
    await page.locator('select[name="compute-threads"]').selectOption('1')
    await page.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => page.getByTestId('effective-threads').textContent()).toBe('1')
    await app.screenshot('07-settings')
    const saved = JSON.parse(await readFile(join(app.appDataDir, 'settings.json'), 'utf8'))
    expect(saved).toEqual({ computeThreads: 1, offline: true })
  })

  it('ran without page errors or CSP violations', () => {
    expect(app.problems).toEqual([])
  })
})
