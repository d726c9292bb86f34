import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeTinyGgufModel } from '../fixtures/tinyModels.js'
import { createProject, startAppHarness, type AppHarness } from '../support/browserHarness.js'

let app: AppHarness
let model: string
/** A second tiny model, the one in the library: the run trains `model`, a file outside it, through "Other file…". */
let libraryModel: string
let data: string
let project: string

beforeAll(async () => {
  app = await startAppHarness()
  model = (await writeTinyGgufModel(join(app.workDir, 'model'), { architecture: 'llama' })).ggufPath
  libraryModel = (await writeTinyGgufModel(join(app.workDir, 'library-model'), { architecture: 'llama' })).ggufPath
  data = join(app.workDir, 'train.jsonl')
  const lines = Array.from({ length: 32 }, (_, i) =>
    i % 2 === 0
      ? JSON.stringify({ text: `the harbour ledger ${i} was read by the board and the clerk wrote ${i * 7} lines of it` })
      : JSON.stringify({ prompt: `Which ledger is number ${i}?`, response: ` The ledger of the orchard, page ${i * 3}.` }),
  )
  await writeFile(data, lines.join('\n') + '\n')
  project = join(app.workDir, 'project')
}, 60_000)
afterAll(async () => {
  await app?.close()
})

const points = async (id: string): Promise<number> => Number(await app.page.getByTestId(`chart-${id}`).getAttribute('data-points'))
const stepOf = async (): Promise<number> => Number(/Step (\d+) of/.exec((await app.page.getByTestId('train-message').textContent()) ?? '')?.[1] ?? 0)

describe('Train wizard in Chromium, through the real handlers, fit planner and job workers (ORT training)', () => {
  it('shows the live memory estimate, trains MoRA and draws the loss chart as steps arrive', { timeout: 180_000 }, async () => {
    const { page } = app
    await createProject(page, 'Train test', project)
    await page.getByRole('button', { name: 'Models', exact: true }).click()
    await page.locator('input[name="model-path"]').fill(libraryModel)
    await page.getByRole('button', { name: 'Add model' }).click()
    await page.getByTestId('model-card').waitFor({ timeout: 30_000 })
    await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: /Train/ }).click()

    // The library's base is preselected; "Other file…" trades it for a typed path.
    const picker = page.getByTestId('model-picker-train-base')
    await expect.poll(() => picker.getByTestId('model-picker-path').textContent(), { timeout: 30_000 }).toBe(libraryModel)
    await page.getByRole('combobox', { name: 'Base model (.gguf or Hugging Face folder)' }).selectOption({ label: 'Other file…' })
    await expect.poll(() => page.getByTestId('fit-estimate').textContent()).toContain('Choose a base model')
    await page.getByLabel('Base model (.gguf or Hugging Face folder): file path').fill(model)
    await picker.getByRole('button', { name: 'Add to library: Base model (.gguf or Hugging Face folder)' }).waitFor()
    await app.screenshot('train-00-other-file')
    // Without a built dataset the estimate still shows, and says what is missing.
    await page.getByTestId('fit-data-problem').filter({ hasText: 'no built dataset yet' }).waitFor({ timeout: 30_000 })
    await page.getByLabel('A .jsonl file').check()
    await page.getByLabel('Training data (.jsonl)').fill(data)
    await page.getByLabel('Sequence length (tokens)').fill('16')
    await page.getByRole('radio', { name: 'Steps' }).check()
    await page.getByLabel('Optimizer steps').fill('3000')
    await expect.poll(() => page.getByTestId('fit-steps').textContent(), { timeout: 30_000 }).toBe('3,000 steps')
    expect(await page.getByTestId('fit-verdict').textContent()).toBe('Fits')
    const estimate = await page.getByTestId('fit-total').textContent()
    await page.getByLabel('Batch size').fill('4')
    await expect.poll(() => page.getByTestId('fit-total').textContent(), { timeout: 30_000 }).not.toBe(estimate)
    await page.getByLabel('Batch size').fill('1')
    await page.getByLabel('Learning rate').fill('0.01')
    await page.getByText('Advanced').click()
    await page.getByLabel('Checkpoint every (steps)').fill('3')
    await app.screenshot('train-01-options')

    await page.getByRole('button', { name: 'Start training' }).click()
    await page.locator('[data-testid="train-job"][data-state="running"]').waitFor({ timeout: 60_000 })
    await expect.poll(() => points('loss'), { timeout: 90_000 }).toBeGreaterThanOrEqual(4)
    expect(await points('lr')).toBeGreaterThan(0)
    expect(await points('grad-norm')).toBeGreaterThan(0)
    expect(await points('tokens-per-second')).toBeGreaterThan(0)
    // uPlot drew on a canvas.
    expect(await page.getByTestId('chart-loss').locator('canvas').count()).toBe(1)
    expect(Number((await page.getByTestId('chart-loss-latest').textContent()) ?? 'NaN')).toBeGreaterThan(0)
    await expect.poll(() => page.getByTestId('checkpoint').count(), { timeout: 30_000 }).toBeGreaterThan(0)
    await app.screenshot('train-02-running')
  })

  it('continues the run after the backend is killed and relaunched, when Resume is clicked', { timeout: 180_000 }, async () => {
    const { page } = app
    await expect.poll(() => stepOf(), { timeout: 30_000 }).toBeGreaterThanOrEqual(6)
    await app.restartBackend()

    const open = page.getByRole('form', { name: 'Open a project' })
    await open.locator('input[name="open-folder"]').fill(project)
    await open.getByRole('button', { name: 'Open' }).click()
    await page.getByTestId('project-name').filter({ hasText: 'Train test' }).waitFor()
    await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: /Train/ }).click()
    await page.locator('[data-testid="train-job"][data-state="interrupted"]').waitFor({ timeout: 30_000 })
    await page.getByTestId('train-resumable').waitFor()
    // The history comes back from the run's metrics.jsonl, and its checkpoints are listed.
    await expect.poll(() => points('loss')).toBeGreaterThanOrEqual(6)
    const before = await points('loss')
    const checkpointSteps = (await page.getByTestId('checkpoint').locator('td:first-child').allTextContents()).map(Number)
    expect(checkpointSteps.length).toBeGreaterThan(0)
    await app.screenshot('train-03-interrupted')

    await page.getByTestId('train-job').getByRole('button', { name: 'Resume' }).click()
    await page.locator('[data-testid="train-job"][data-state="running"]').waitFor({ timeout: 60_000 })
    await expect.poll(() => points('loss'), { timeout: 90_000 }).toBeGreaterThan(before + 2)
    // It resumed from the newest checkpoint, not from step 0.
    await expect.poll(() => stepOf(), { timeout: 30_000 }).toBeGreaterThan(Math.max(...checkpointSteps))
    await app.screenshot('train-04-resumed')

    await page.getByTestId('train-job').getByRole('button', { name: 'Pause' }).click()
    await page.locator('[data-testid="train-job"][data-state="cancelled"]').waitFor({ timeout: 60_000 })
    await page.getByTestId('train-job').getByRole('button', { name: 'Resume' }).waitFor()
  })

  it('ran without page errors or CSP violations', () => {
    expect(app.problems).toEqual([])
  })
})
