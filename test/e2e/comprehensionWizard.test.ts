import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeComprehensionCorpus, writeInstructionMix } from '../fixtures/corpus/comprehensionProse.js'
import { writeTinyGgufModel } from '../fixtures/tinyModels.js'
import { type AppHarness, createProject, importFolder, shownNumber, startAppHarness } from '../support/browserHarness.js'

let app: AppHarness
let sourceDir: string
let model: string
let mix: string

beforeAll(async () => {
  app = await startAppHarness()
  sourceDir = join(app.workDir, 'sources')
  await writeComprehensionCorpus(sourceDir, ['harbour', 'orchard'], 2)
  model = (await writeTinyGgufModel(join(app.workDir, 'model'), { architecture: 'llama', hyperparameters: { contextLength: 4096 } })).ggufPath
  mix = join(app.workDir, 'mix.jsonl')
  await writeInstructionMix(mix, 12)
})
afterAll(async () => {
  await app?.close()
})

describe('Comprehension wizard in Chromium, through the real handlers, llama.cpp and job workers', () => {
  it('imports a corpus, previews and runs question generation, and reviews the pairs', async () => {
    const { page } = app
    await createProject(page, 'RC test', join(app.workDir, 'project'))
    await importFolder(page, sourceDir)
    const steps = page.getByRole('navigation', { name: 'Steps' })

    await steps.getByRole('button', { name: /Comprehension/ }).click()
    await page.getByLabel('Questions by a local model (ETRC)').check()
    await page.getByLabel('Instruct model (.gguf)').fill(model)
    await page.getByLabel('Pairs per chunk').fill('1')
    await page.getByText('Advanced').click()
    await page.getByLabel('Minimum grounding (0–1)').fill('0')
    await page.getByLabel(/Plain ASCII text only/).check()
    await page.getByRole('button', { name: /Preview on 3 chunks/ }).click()
    const preview = page.getByTestId('preview-result')
    await preview.waitFor({ timeout: 60_000 })
    await expect.poll(() => preview.getByTestId('preview-chunk').count()).toBe(3)
    expect(await preview.getByTestId('preview-status').allTextContents()).toHaveLength(3)
    expect(await page.getByTestId('qa-row').count()).toBe(0)
    await app.screenshot('comprehension-01-preview')

    await page.getByLabel('Stop after this many chunks').fill('4')
    await page.getByRole('button', { name: 'Generate questions' }).click()
    const rows = page.getByTestId('qa-row')
    await expect.poll(() => rows.count(), { timeout: 90_000 }).toBe(4)

    const first = rows.first()
    const pairId = Number(((await first.getByRole('button', { name: /^Edit pair/ }).getAttribute('aria-label')) ?? '').replace('Edit pair ', ''))
    await first.getByRole('button', { name: `Edit pair ${pairId}` }).click()
    const editor = page.getByRole('form', { name: `Edit pair ${pairId}` })
    await editor.getByRole('textbox').first().fill('Which ledger did the harbour board review?')
    await editor.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => first.getByTestId('qa-question').textContent()).toBe('Which ledger did the harbour board review?')
    await first.getByRole('button', { name: `Reject pair ${pairId}` }).click()
    await expect.poll(() => first.getAttribute('data-status')).toBe('rejected')
    await app.screenshot('comprehension-02-review')
  })

  it('clusters the chunks and builds the dataset, showing where its tokens come from', async () => {
    const { page } = app
    await page.getByLabel('Embedding model (.gguf)').fill(model)
    await page.getByLabel('Similarity threshold').fill('0.1')
    await page.getByRole('button', { name: 'Cluster the corpus' }).click()
    await page.getByTestId('cluster-summary').waitFor({ timeout: 60_000 })
    await expect.poll(() => page.getByTestId('cluster').count()).toBeGreaterThan(0)

    await page.getByLabel('General instructions to mix in (.jsonl, optional)').fill(mix)
    await page.getByLabel('Sequence length (tokens)').fill('256')
    await page.getByLabel('Held-out fraction of documents').fill('0.25')
    await page.getByRole('button', { name: 'Build the dataset' }).click()
    await page.getByTestId('dataset-summary').waitFor({ timeout: 60_000 })
    expect(await shownNumber(page, 'dataset-sequences')).toBeGreaterThan(0)
    expect(await shownNumber(page, 'dataset-tokens-regex')).toBeGreaterThan(0)
    expect(await shownNumber(page, 'dataset-tokens-llm')).toBeGreaterThan(0)
    expect(await shownNumber(page, 'dataset-tokens-instructions')).toBeGreaterThan(0)
    expect(await shownNumber(page, 'dataset-heldout')).toBeGreaterThanOrEqual(1)
    await page.getByTestId('dataset-summary').scrollIntoViewIfNeeded()
    await app.screenshot('comprehension-03-dataset')
  })

  it('ran without page errors or CSP violations', () => {
    expect(app.problems).toEqual([])
  })
})
