import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, SCREENSHOT_DIR, startAppHarness, type AppHarness } from '../support/browserHarness.js'

let app: AppHarness

beforeAll(async () => {
  app = await startAppHarness()
})
afterAll(async () => {
  await app?.close()
})

describe('the hardware report in Chromium, from the real probes', () => {
  it('shows CPU only with a reason for every GPU path, and the header badge', async () => {
    const { page } = app
    await createProject(page, 'Hardware', join(app.workDir, 'hardware'))
    await page.getByRole('button', { name: 'Settings', exact: true }).click()
    const hardware = page.getByRole('region', { name: 'Hardware' })
    const summary = hardware.getByTestId('hardware-summary')
    await summary.waitFor({ timeout: 120_000 })
    expect(await summary.textContent()).toMatch(/^CPU only: /)
    for (const [runtime, backend] of [['llama.cpp', 'cuda'], ['llama.cpp', 'vulkan'], ['llama.cpp', 'metal'], ['onnxruntime', 'webgpu'], ['onnxruntime', 'cuda'], ['onnxruntime', 'directml'], ['onnxruntime', 'coreml']]) {
      const row = hardware.getByTestId(`path-${runtime}-${backend}`)
      expect(await row.textContent(), `${runtime} ${backend}`).toMatch(/Not used.*is not available.{20,}/s)
    }
    expect((await page.locator('header.top').getByLabel('Hardware', { exact: true }).textContent())?.trim()).toBe('CPU only')
    await app.screenshot('hardware-report')
    await hardware.screenshot({ path: join(SCREENSHOT_DIR, 'hardware-report-section.png') })
    expect(app.problems).toEqual([])
  }, 180_000)
})
