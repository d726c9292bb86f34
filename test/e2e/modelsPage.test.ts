import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeTruncatedGguf, writeUnknownArchitectureGguf } from '../fixtures/badModelFiles.js'
import { writeTinyGgufModel } from '../fixtures/tinyModels.js'
import { createProject, startAppHarness, type AppHarness } from '../support/browserHarness.js'

let app: AppHarness
let good: string
let truncated: string
let alien: string

beforeAll(async () => {
  app = await startAppHarness()
  good = (await writeTinyGgufModel(join(app.workDir, 'model'), { architecture: 'qwen2', hyperparameters: { contextLength: 4096 } }, 'Q8_0')).ggufPath
  truncated = await writeTruncatedGguf(good, join(app.workDir, 'truncated.gguf'))
  alien = await writeUnknownArchitectureGguf(good, 'qwen2', join(app.workDir, 'alien.gguf'), 'zork9')
})
afterAll(async () => {
  await app?.close()
})

describe('Models page in Chromium, through the real handlers', () => {
  it('adds a good tiny model, refuses bad files with their path and reason, and keeps working', async () => {
    const { page } = app
    // Models are app-wide: the first run reaches them before any project exists.
    await page.getByRole('button', { name: 'Models…' }).click()
    await page.getByTestId('models-empty').waitFor()
    await page.getByRole('button', { name: '← Projects' }).click()
    await createProject(page, 'Models test', join(app.workDir, 'project'))
    await page.getByRole('button', { name: 'Models', exact: true }).click()
    await page.getByTestId('models-empty').waitFor()
    await expect.poll(() => page.getByTestId('recommended-model').count()).toBeGreaterThan(0)
    expect(await page.getByTestId('offline-note').textContent()).toContain('Offline mode is on')
    expect(await page.getByTestId('recommended-model').first().getByRole('button', { name: 'Download' }).isDisabled()).toBe(true)

    const path = page.locator('input[name="model-path"]')
    await path.fill(truncated)
    await page.getByRole('button', { name: 'Add model' }).click()
    const failure = page.getByTestId('model-failure')
    await failure.waitFor({ timeout: 30_000 })
    expect(await failure.textContent()).toContain(`Could not add ${truncated}`)
    expect(await failure.textContent()).toMatch(/truncated or damaged/)

    await path.fill(alien)
    await page.getByRole('button', { name: 'Add model' }).click()
    await expect.poll(() => failure.count(), { timeout: 30_000 }).toBe(2)
    expect(await failure.nth(1).textContent()).toContain('architecture "zork9" is not one llama.cpp can load')
    await app.screenshot('models-01-refused')

    await path.fill(good)
    await page.getByRole('button', { name: 'Add model' }).click()
    const card = page.getByTestId('model-card')
    await card.waitFor({ timeout: 30_000 })
    expect(await card.getByTestId('model-architecture').textContent()).toBe('qwen2')
    expect(await card.getByTestId('model-quantization').textContent()).toBe('Q8_0')
    expect(await card.getByTestId('model-chat-template').textContent()).toBe('yes')
    expect(await card.getByRole('checkbox', { name: /Generator/ }).isChecked()).toBe(true)
    await card.getByText('Show chat template').click()
    expect(await card.locator('details pre').textContent()).toContain('<|im_start|>')
    await card.getByRole('checkbox', { name: /Base for training/ }).uncheck()
    await expect.poll(async () => (await app.services.models.list())[0]?.roles).toEqual(['generator'])
    await app.screenshot('models-02-added')

    // The rest of the app still works after the refusals.
    await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: /Import/ }).click()
    await page.locator('input[name="import-path"]').waitFor()
    await page.getByRole('button', { name: 'Models', exact: true }).click()
    await expect.poll(() => page.getByTestId('model-card').count()).toBe(1)
  })

  it('turns the offline switch off in Settings, which enables downloads', async () => {
    const { page } = app
    await page.getByRole('button', { name: 'Settings', exact: true }).click()
    const offline = page.getByRole('checkbox', { name: 'Offline mode' })
    expect(await offline.isChecked()).toBe(true)
    await offline.uncheck()
    await expect.poll(() => app.services.settings.get().offline).toBe(false)
    await page.getByRole('button', { name: 'Models', exact: true }).click()
    await expect.poll(() => page.getByTestId('recommended-model').first().getByRole('button', { name: 'Download' }).isDisabled()).toBe(false)
    expect(await page.getByTestId('offline-note').count()).toBe(0)
  })

  it('ran without page errors or CSP violations', () => {
    expect(app.problems).toEqual([])
  })
})
