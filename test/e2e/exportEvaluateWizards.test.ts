import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeComprehensionCorpus } from '../fixtures/corpus/comprehensionProse.js'
import { writeTinyGgufModel } from '../fixtures/tinyModels.js'
import { startAppHarness, type AppHarness } from '../support/browserHarness.js'
import { runCliProcess } from '../support/cli.js'

let app: AppHarness
let project: string
let runId: string

async function cli(args: string[]): Promise<string> {
  const result = await runCliProcess(args)
  if (result.code !== 0) throw new Error(`lectern ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

const sha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex')

/**
 * A project built by the CLI in child processes: the corpus imported, mined (regex) and questioned (the tiny model,
 * so held-out documents carry QA pairs), a dataset with held-out documents, and a finished MoRA run.
 */
beforeAll(async () => {
  app = await startAppHarness()
  const corpus = join(app.workDir, 'corpus')
  await writeComprehensionCorpus(corpus, ['harbour', 'orchard'], 2)
  const model = (await writeTinyGgufModel(join(app.workDir, 'model'), { architecture: 'llama', hyperparameters: { contextLength: 4096 } })).ggufPath
  project = join(app.workDir, 'project')
  await cli(['init', project, '--name', 'Export test'])
  await cli(['import', project, corpus])
  await cli(['comprehend', project, '--mode', 'regex'])
  await cli(['comprehend', project, '--mode', 'llm', '--generator', model, '--ascii-only', '--pairs', '1', '--min-grounding', '0'])
  await cli(['dataset', project, '--heldout', '0.25', '--seq-len', '64', '--tokenizer', model])
  const trained = await cli(['train', project, '--base', model, '--method', 'mora', '--rank', '4', '--steps', '8', '--seq-len', '16', '--lr', '0.02', '--warmup-ratio', '0'])
  runId = /Run (run-\d+) in /.exec(trained)?.[1] ?? ''
  expect(runId).toMatch(/^run-\d+$/)

  const { page } = app
  const open = page.getByRole('form', { name: 'Open a project' })
  await open.locator('input[name="open-folder"]').fill(project)
  await open.getByRole('button', { name: 'Open' }).click()
  await page.getByTestId('project-name').filter({ hasText: 'Export test' }).waitFor()
}, 180_000)
afterAll(async () => {
  delete process.env['LECTERN_TEST_CORRUPT_MERGE']
  await app?.close()
})

describe('Export and Evaluate wizards in Chromium, through the real handlers, job workers, ORT and llama.cpp', () => {
  it('exports a MoRA run to GGUF Q8_0 and safetensors F16, verified and checksummed; a dropped merge fails verification', async () => {
    const { page } = app
    const out = join(app.workDir, 'exports')
    await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: /Export/ }).click()
    const runSelect = page.getByRole('combobox', { name: 'Training run' })
    await runSelect.selectOption(runId)
    // The section of the export the wizard follows (earlier ones are listed, collapsed, below it).
    const current = page.getByRole('region', { name: '3. Export and verification' })

    await page.getByRole('radio', { name: /^GGUF/ }).check()
    await page.getByLabel('Weight type').selectOption('q8_0')
    await page.getByLabel('Output folder').fill(out)
    await page.getByRole('button', { name: 'Export and verify' }).click()
    const q8Report = current.locator('[data-testid="verification-report"][data-passed="true"]')
    await q8Report.waitFor({ timeout: 90_000 })
    expect(await current.getByTestId('export-status').textContent()).toBe('Verified')
    const q8Path = (await current.getByTestId('export-path').textContent()) ?? ''
    expect(q8Path).toBe(join(out, `${runId}-q8_0.gguf`))
    const files = current.getByTestId('export-file')
    expect(await files.count()).toBeGreaterThanOrEqual(1)
    for (let i = 0; i < (await files.count()); i++) {
      const name = (await files.nth(i).locator('td').first().textContent()) ?? ''
      const shown = (await files.nth(i).getByTestId('export-sha').textContent()) ?? ''
      expect(shown).toMatch(/^[0-9a-f]{64}$/)
      expect(await sha256(join(dirname(q8Path), name))).toBe(shown)
    }
    expect(await files.first().locator('td').first().textContent()).toBe(`${runId}-q8_0.gguf`)
    const differs = q8Report.getByTestId('verification-check').filter({ hasText: 'differs from the base model' })
    expect(await differs.getAttribute('data-passed')).toBe('true')
    expect(await q8Report.getByTestId('verify-mean-kl').getAttribute('data-passed')).toBe('true')
    await current.scrollIntoViewIfNeeded()
    await app.screenshot('export-01-gguf-q8')

    await current.getByRole('button', { name: 'Show in folder' }).click()
    const noFileManager = page.getByTestId('no-file-manager')
    await noFileManager.waitFor()
    expect(await noFileManager.textContent()).toContain(q8Path)

    await page.getByRole('radio', { name: /^Hugging Face folder/ }).check()
    await page.getByLabel('Weight type').selectOption('f16')
    await page.getByRole('button', { name: 'Export and verify' }).click()
    expect(await page.getByTestId('no-file-manager').count()).toBe(0)
    await current.getByRole('article', { name: `Hugging Face folder F16 of ${runId}` }).locator('[data-testid="verification-report"][data-passed="true"]').waitFor({ timeout: 90_000 })
    const hfPath = (await current.getByTestId('export-path').textContent()) ?? ''
    expect(hfPath).toBe(join(out, `${runId}-f16`))
    expect(Number(await current.getByTestId('verify-tensors').textContent())).toBeGreaterThan(0)
    expect(Number(await current.getByTestId('verify-changed').textContent())).toBeGreaterThan(0)
    expect(await current.getByTestId('verify-max-diff').textContent()).toMatch(/^\d/)
    const hfFiles = current.getByTestId('export-file')
    const firstName = (await hfFiles.first().locator('td').first().textContent()) ?? ''
    expect(await sha256(join(hfPath, firstName))).toBe(await hfFiles.first().getByTestId('export-sha').textContent())
    expect(await page.getByTestId('earlier-export').count()).toBe(1)
    await current.getByTestId('verification-tensors').scrollIntoViewIfNeeded()
    await app.screenshot('export-02-safetensors-f16')

    // The job worker is a worker thread of this process, started per job with a copy of process.env.
    process.env['LECTERN_TEST_CORRUPT_MERGE'] = 'drop'
    try {
      await page.getByRole('radio', { name: /^GGUF/ }).check()
      await page.getByLabel('Weight type').selectOption('f16')
      await page.getByLabel('File name').fill('dropped.gguf')
      await page.getByRole('button', { name: 'Export and verify' }).click()
      await current.locator('[data-testid="verification-report"][data-passed="false"]').waitFor({ timeout: 90_000 })
    } finally {
      delete process.env['LECTERN_TEST_CORRUPT_MERGE']
    }
    expect(await current.getByTestId('export-status').textContent()).toBe('Failed')
    const alerts = current.getByRole('alert').filter({ hasText: 'differs from the base model' })
    expect(await alerts.count()).toBe(1)
    expect(await alerts.textContent()).toMatch(/failed verification/)
    expect(await current.getByTestId('verification-check').filter({ hasText: 'differs from the base model' }).getAttribute('data-passed')).toBe('false')
    expect(await current.getByRole('button', { name: 'Show in folder' }).count()).toBe(0)
    expect(existsSync(join(out, 'dropped.gguf'))).toBe(false)
    await alerts.scrollIntoViewIfNeeded()
    await app.screenshot('export-03-dropped-merge-failed')
  }, 240_000)

  it('evaluates the run against its base, opens a question’s source and chats with both models', async () => {
    const { page } = app
    await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: /Evaluate/ }).click()
    await page.getByRole('combobox', { name: 'Training run' }).selectOption(runId)
    await page.getByTestId('no-evaluation').waitFor()
    await page.getByRole('form', { name: 'Evaluation options' }).getByText('Advanced').click()
    await page.getByLabel('Context size (tokens)').fill('256')
    await page.getByLabel('Held-out texts at most').fill('2')
    await page.getByLabel('Questions at most').fill('3')
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click()

    const heldOut = page.getByTestId('metric-heldOutPerplexity')
    await heldOut.waitFor({ timeout: 90_000 })
    const figure = async (row: string, side: 'base' | 'adapted'): Promise<number> => Number(await page.getByTestId(row).getByTestId(`metric-${side}`).textContent())
    for (const row of ['metric-heldOutPerplexity', 'metric-generalPerplexity']) {
      expect(await figure(row, 'base')).toBeGreaterThan(1)
      expect(await figure(row, 'adapted')).toBeGreaterThan(1)
    }
    expect(await heldOut.getByTestId('metric-change').textContent()).toMatch(/^[+−±]\d+\.\d%/)
    expect(await heldOut.getByTestId('metric-change').getAttribute('data-direction')).toMatch(/^(better|worse|same)$/)
    expect(await page.getByTestId('metrics-basis').textContent()).toMatch(/context 256/)
    await heldOut.scrollIntoViewIfNeeded()
    await app.screenshot('evaluate-01-metrics')

    const questions = page.getByTestId('eval-question')
    expect(await questions.count()).toBeGreaterThan(0)
    const first = questions.first()
    await first.getByRole('button', { name: /^Show source \(chunk #\d+\)$/ }).click()
    const source = first.getByTestId('source-text')
    await source.waitFor()
    expect(((await source.textContent()) ?? '').length).toBeGreaterThan(20)
    expect(await first.getByTestId('source-location').textContent()).toMatch(/\.(txt|md)/)
    await first.scrollIntoViewIfNeeded()
    await app.screenshot('evaluate-02-question-source')

    await page.getByLabel('Prompt').fill('What did the harbour board review?')
    await page.getByRole('button', { name: 'Ask both models' }).click()
    const exchange = page.getByTestId('chat-exchange')
    await exchange.waitFor({ timeout: 60_000 })
    await expect.poll(() => exchange.getByTestId('chat-base').count()).toBe(1)
    expect(await exchange.getByTestId('chat-adapted').count()).toBe(1)
    expect(await exchange.getByTestId('chat-base').textContent()).toMatch(/Base \d+ tokens in/)
    expect(await exchange.getByTestId('chat-adapted').textContent()).toMatch(/Adapted \d+ tokens in/)
    await exchange.scrollIntoViewIfNeeded()
    await app.screenshot('evaluate-03-chat')
  }, 150_000)

  it('ran without page errors or CSP violations', () => {
    expect(app.problems).toEqual([])
  })
})
