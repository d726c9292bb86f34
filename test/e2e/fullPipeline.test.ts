import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeComprehensionCorpus } from '../fixtures/corpus/comprehensionProse.js'
import { writeTinyGgufModel } from '../fixtures/tinyModels.js'
import { type AppHarness, createProject, importFolder, shownNumber, startAppHarness } from '../support/browserHarness.js'

/**
 * The whole pipeline through the UI only, as a user walks it: create a project, add the model to the library, import
 * a folder, mine and generate comprehension data (the model picked from the library), build a dataset with held-out documents, train MoRA, evaluate, export a verified
 * GGUF. A second, short test starts "Run all remaining steps" from the Overview on a fresh project.
 */

let app: AppHarness
let corpus: string
let model: string

const TRAIN_STEPS = 8

beforeAll(async () => {
  app = await startAppHarness()
  corpus = join(app.workDir, 'corpus')
  await writeComprehensionCorpus(corpus, ['harbour', 'orchard'], 2)
  model = (await writeTinyGgufModel(join(app.workDir, 'model'), { architecture: 'llama', hyperparameters: { contextLength: 4096 } })).ggufPath
}, 120_000)
afterAll(async () => {
  await app?.close()
})

/** Adds the tiny model to the app-wide library on the Models page; its metadata makes it a generator and a training base. */
async function addModelToLibrary(): Promise<void> {
  const { page } = app
  await page.getByRole('button', { name: 'Models', exact: true }).click()
  await page.locator('input[name="model-path"]').fill(model)
  await page.getByRole('button', { name: 'Add model' }).click()
  const card = page.getByTestId('model-card')
  await card.waitFor({ timeout: 30_000 })
  expect(await card.getByRole('checkbox', { name: /Generator/ }).isChecked()).toBe(true)
  expect(await card.getByRole('checkbox', { name: /Base for training/ }).isChecked()).toBe(true)
}

/** The path a model picker hands its form, once the library has loaded and the picker chose its model. */
const pickedPath = async (id: string): Promise<string | null> => {
  const path = app.page.getByTestId(`model-picker-${id}`).getByTestId('model-picker-path')
  return (await path.count()) === 0 ? null : path.textContent()
}

const step = (name: RegExp) => app.page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name })
const points = async (id: string): Promise<number> => Number(await app.page.getByTestId(`chart-${id}`).getAttribute('data-points'))

describe('The whole pipeline in Chromium, through the UI only (real handlers, job workers, ORT and llama.cpp)', () => {
  it('imports, comprehends, builds a dataset, trains MoRA, evaluates and exports a verified GGUF', { timeout: 300_000 }, async () => {
    const { page } = app
    await createProject(page, 'Full pipeline', join(app.workDir, 'project'))
    await app.screenshot('pipeline-01-project')
    await addModelToLibrary()

    await importFolder(page, corpus)
    expect(await shownNumber(page, 'summary-added')).toBe(4)
    expect(await shownNumber(page, 'summary-chunks')).toBeGreaterThanOrEqual(4)
    await page.getByTestId('import-summary').scrollIntoViewIfNeeded()
    await app.screenshot('pipeline-02-import')

    // Comprehension, first by rules (no model), then by the tiny generator on a few chunks.
    await step(/Comprehension/).click()
    await page.getByLabel('Mined tasks (no model, AdaptLLM)').check()
    await page.getByRole('button', { name: 'Mine tasks' }).click()
    const generation = page.getByTestId('generation-job')
    await page.getByTestId('run-summary').waitFor({ timeout: 60_000 })
    await expect.poll(() => generation.getAttribute('data-state'), { timeout: 60_000 }).toBe('succeeded')
    expect(await shownNumber(page, 'summary-produced')).toBeGreaterThan(0)
    await app.screenshot('pipeline-03-regex-comprehension')

    await page.getByLabel('Questions by a local model (ETRC)').check()
    // The library's only generator is preselected: the form gets its path.
    await expect.poll(() => pickedPath('comprehend-generator'), { timeout: 30_000 }).toBe(model)
    expect(await page.getByRole('combobox', { name: 'Instruct model (.gguf)' }).locator('option:checked').textContent()).toContain('llama')
    await page.getByLabel('Pairs per chunk').fill('1')
    await page.getByText('Advanced').first().click()
    await page.getByLabel('Stop after this many chunks').fill('6')
    await page.getByLabel('Minimum grounding (0–1)').fill('0')
    await page.getByLabel(/Plain ASCII text only/).check()
    await page.getByRole('button', { name: 'Generate questions' }).click()
    const rows = page.getByTestId('qa-row')
    await expect.poll(() => rows.count(), { timeout: 120_000 }).toBeGreaterThanOrEqual(4)
    await expect.poll(() => generation.getAttribute('data-state'), { timeout: 60_000 }).toBe('succeeded')
    await rows.first().scrollIntoViewIfNeeded()
    await app.screenshot('pipeline-04-llm-comprehension')

    // The dataset, with a held-out document so evaluation has text and questions (clustering is optional).
    await page.getByLabel('Sequence length (tokens)').fill('64')
    await page.getByLabel('Held-out fraction of documents').fill('0.25')
    await page.getByRole('button', { name: 'Build the dataset' }).click()
    await page.getByTestId('dataset-summary').waitFor({ timeout: 60_000 })
    expect(await shownNumber(page, 'dataset-sequences')).toBeGreaterThan(0)
    expect(await shownNumber(page, 'dataset-tokens-regex')).toBeGreaterThan(0)
    expect(await shownNumber(page, 'dataset-tokens-llm')).toBeGreaterThan(0)
    expect(await shownNumber(page, 'dataset-heldout')).toBeGreaterThanOrEqual(1)
    await page.getByTestId('dataset-summary').scrollIntoViewIfNeeded()
    await app.screenshot('pipeline-05-dataset')

    // Train MoRA for a few steps on the project's dataset; the loss chart gets a point per step.
    await step(/Train/).click()
    await expect.poll(() => pickedPath('train-base'), { timeout: 30_000 }).toBe(model)
    expect(await page.getByLabel(/The project's dataset/).isChecked()).toBe(true)
    expect(await page.getByRole('radio', { name: /MoRA/ }).isChecked()).toBe(true)
    await page.getByRole('textbox', { name: 'Rank', exact: true }).fill('4')
    await page.getByLabel('Sequence length (tokens)').fill('16')
    await page.getByLabel('Learning rate').fill('0.02')
    await page.getByRole('radio', { name: 'Steps' }).check()
    await page.getByLabel('Optimizer steps').fill(String(TRAIN_STEPS))
    await expect.poll(() => page.getByTestId('fit-steps').textContent(), { timeout: 30_000 }).toBe(`${TRAIN_STEPS} steps`)
    await app.screenshot('pipeline-06-train-options')
    await page.getByRole('button', { name: 'Start training' }).click()
    const trainJob = page.getByTestId('train-job')
    await trainJob.waitFor({ timeout: 60_000 })
    await expect.poll(() => points('loss'), { timeout: 120_000 }).toBeGreaterThan(0)
    await expect.poll(() => trainJob.getAttribute('data-state'), { timeout: 120_000 }).toBe('succeeded')
    await expect.poll(() => points('loss'), { timeout: 30_000 }).toBe(TRAIN_STEPS)
    expect(await page.getByTestId('chart-loss').locator('canvas').count()).toBe(1)
    expect(Number((await page.getByTestId('chart-loss-latest').textContent()) ?? 'NaN')).toBeGreaterThan(0)
    const runId = /Run (run-\d+)/.exec((await page.locator('#train-run-title').textContent()) ?? '')?.[1] ?? ''
    expect(runId).toMatch(/^run-\d+$/)
    await page.getByTestId('chart-loss').scrollIntoViewIfNeeded()
    await app.screenshot('pipeline-07-trained')

    // Evaluate the run against its base.
    await step(/Evaluate/).click()
    await page.getByRole('combobox', { name: 'Training run' }).selectOption(runId)
    await page.getByRole('form', { name: 'Evaluation options' }).getByText('Advanced').click()
    await page.getByLabel('Context size (tokens)').fill('256')
    await page.getByLabel('Held-out texts at most').fill('2')
    await page.getByLabel('Questions at most').fill('3')
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click()
    const heldOut = page.getByTestId('metric-heldOutPerplexity')
    await heldOut.waitFor({ timeout: 120_000 })
    expect(Number(await heldOut.getByTestId('metric-base').textContent())).toBeGreaterThan(1)
    expect(Number(await heldOut.getByTestId('metric-adapted').textContent())).toBeGreaterThan(1)
    expect(await page.getByTestId('eval-question').count()).toBeGreaterThan(0)
    await heldOut.scrollIntoViewIfNeeded()
    await app.screenshot('pipeline-08-evaluate')

    // Export a merged GGUF; its verification report passes.
    await step(/Export/).click()
    await page.getByRole('combobox', { name: 'Training run' }).selectOption(runId)
    await page.getByRole('radio', { name: /^GGUF/ }).check()
    await page.getByLabel('Weight type').selectOption('q8_0')
    const out = join(app.workDir, 'exports')
    await page.getByLabel('Output folder').fill(out)
    await page.getByRole('button', { name: 'Export and verify' }).click()
    const report = page.locator('[data-testid="verification-report"][data-passed="true"]')
    await report.waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('export-status').first().textContent()).toBe('Verified')
    const exported = (await page.getByTestId('export-path').first().textContent()) ?? ''
    expect(exported).toBe(join(out, `${runId}-q8_0.gguf`))
    expect(existsSync(exported)).toBe(true)
    await report.scrollIntoViewIfNeeded()
    await app.screenshot('pipeline-09-export-verified')

    // The Overview sums it up: every step done.
    await page.getByRole('button', { name: 'Overview', exact: true }).click()
    for (const stage of ['import', 'comprehension', 'dataset', 'train', 'evaluate', 'export']) {
      await expect.poll(() => page.getByTestId(`stage-${stage}-state`).textContent(), { timeout: 30_000 }).toBe('Done')
    }
    await page.getByTestId('pipeline-all-done').waitFor()
    await app.screenshot('pipeline-10-overview-done')
  })

  it('runs the remaining steps as a chain from the Overview of a fresh project', { timeout: 180_000 }, async () => {
    const { page } = app
    const close = page.getByRole('button', { name: 'Close project' })
    if ((await close.count()) > 0) await close.click()
    await createProject(page, 'Chain', join(app.workDir, 'chain-project'))
    await page.getByRole('button', { name: 'Overview', exact: true }).click()
    await page.getByTestId('pipeline-needs-import').waitFor({ timeout: 30_000 })
    await importFolder(page, corpus)

    await page.getByRole('button', { name: 'Overview', exact: true }).click()
    const plan = page.getByTestId('run-all-plan')
    await plan.waitFor({ timeout: 30_000 })
    expect(await plan.textContent()).toContain('Comprehension → Dataset → Train → Evaluate → Export')
    // The library lives across projects: the base is preselected, and the optional generator stays off (rules).
    await expect.poll(() => pickedPath('pipeline-base'), { timeout: 30_000 }).toBe(model)
    expect(await page.getByRole('combobox', { name: 'Question generator (optional)' }).inputValue()).toBe('')
    await page.getByLabel('Training steps').fill('2')
    await page.getByLabel('Export folder').fill(join(app.workDir, 'chain-exports'))
    await app.screenshot('pipeline-11-run-all-form')
    await page.getByRole('button', { name: 'Run all remaining steps' }).click()

    const chain = page.getByTestId('pipeline-chain')
    await chain.waitFor({ timeout: 30_000 })
    expect(await chain.getByTestId('chain-step-0').textContent()).toMatch(/Comprehension|comprehen/i)
    await expect.poll(() => chain.getByTestId('chain-step-0-state').textContent(), { timeout: 90_000 }).toBe('Done')
    await expect.poll(() => chain.getByTestId('chain-step-1-state').textContent(), { timeout: 90_000 }).toBe('Done')
    // Each finished step shows what its own job produced, and links to the step that follows it in the chain.
    const comprehended = chain.getByTestId('chain-step-0-produced')
    await expect.poll(() => comprehended.textContent(), { timeout: 30_000 }).toMatch(/comprehension tasks? mined from \d+ chunks?/)
    await comprehended.getByRole('button', { name: 'Next: Dataset →' }).waitFor()
    await expect.poll(() => chain.getByTestId('chain-step-1-produced').textContent(), { timeout: 30_000 }).toMatch(/sequences? of \d+ tokens/)
    // The stage list above the chain follows what the chain produced.
    await expect.poll(() => page.getByTestId('stage-dataset-state').textContent(), { timeout: 30_000 }).toBe('Done')
    await app.screenshot('pipeline-12-chain-progress')

    // Keep it short: stop the chain once it is past the dataset.
    if ((await chain.getByTestId('chain-state').textContent()) === 'Running') {
      await chain.getByRole('button', { name: 'Cancel the chain' }).click()
      await expect.poll(() => chain.getByTestId('chain-state').textContent(), { timeout: 60_000 }).toMatch(/Cancelled|Stopped/)
      // The step's own job stops a moment later (its worker saves a checkpoint first).
      await expect.poll(() => chain.getByTestId('chain-step-2-state').textContent(), { timeout: 60_000 }).toMatch(/Cancelled|Done/)
      await chain.getByRole('button', { name: /^Continue from step \d+$/ }).waitFor()
    }
    await app.screenshot('pipeline-13-chain-cancelled')
  })

  it('ran without page errors or CSP violations', () => {
    expect(app.problems).toEqual([])
  })
})
