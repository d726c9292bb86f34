import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { build } from 'vite'
import { createServices, type Services } from '../../src-main/core/services.js'
import { sourceJobWorker } from '../../src-main/devbridge/sourceJobWorker.js'
import { startBridgeServer, type BridgeServer } from '../../src-main/devbridge/startBridgeServer.js'
import { createHandlers } from '../../src-main/ipc/handlers.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
export const SCREENSHOT_DIR = join(root, 'test-results', 'e2e')

export function chromiumPath(): string {
  const candidates = [process.env['LECTERN_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p)
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new Error(`Chromium not found (tried ${candidates.join(', ')}): install it with \`apt-get install chromium\` or set LECTERN_CHROMIUM`)
  return found
}

/** The browser stand-in for the preload, bundled to one script that runs before the page's own. */
async function bundleHttpBridge(): Promise<string> {
  const output = await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      write: false,
      minify: false,
      lib: { entry: join(root, 'src-main/devbridge/browser/installHttpBridge.ts'), formats: ['iife'], name: 'lecternHttpBridge' },
    },
  })
  const results = Array.isArray(output) ? output : [output]
  for (const result of results) {
    if ('output' in result) return result.output[0].code
  }
  throw new Error('vite produced no bundle for the HTTP bridge')
}

export interface AppHarness {
  page: Page
  appDataDir: string
  workDir: string
  services: Services
  bridge: BridgeServer
  /** Page errors and console errors (CSP violations among them) seen so far. */
  problems: string[]
  screenshot(name: string): Promise<void>
  /**
   * Closes the page and stops the backend as quitting mid-job does (a running job ends `interrupted`, its worker terminated without
   * a last checkpoint), starts a fresh one on the same app data (new `services` and `bridge`), and loads the page
   * from it, as the app does when started again.
   */
  restartBackend(): Promise<void>
  close(): Promise<void>
}

/**
 * The production renderer (out/renderer, strict CSP intact) in Debian's Chromium, with `window.lecternBridge`
 * carried over HTTP to the real handlers, real SQLite files and real job workers in this process.
 */
export async function startAppHarness(): Promise<AppHarness> {
  const workDir = await mkdtemp(join(tmpdir(), 'lectern-e2e-'))
  const appDataDir = join(workDir, 'appData')
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  const services = await createServices({ appDataDir, shell: 'browser-bridge', jobWorker: sourceJobWorker() })
  const bridge = await startBridgeServer({ handlers: createHandlers(services), events: services.events, staticDir: join(root, 'out/renderer') })
  let browser: Browser | null = null
  try {
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    await context.addInitScript({ content: await bundleHttpBridge() })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`)
    })
    await page.goto(bridge.url + '/')
    const openedBrowser = browser
    const harness: AppHarness = {
      page,
      appDataDir,
      workDir,
      services,
      bridge,
      problems,
      screenshot: async (name) => {
        await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true })
      },
      restartBackend: async () => {
        // The window goes with the app (and its event stream is not cut mid-chunk, which Chromium reports).
        await page.goto('about:blank')
        await harness.bridge.close()
        await harness.services.dispose()
        harness.services = await createServices({ appDataDir, shell: 'browser-bridge', jobWorker: sourceJobWorker() })
        harness.bridge = await startBridgeServer({ handlers: createHandlers(harness.services), events: harness.services.events, staticDir: join(root, 'out/renderer') })
        await page.goto(harness.bridge.url + '/')
      },
      close: async () => {
        await openedBrowser.close()
        await harness.bridge.close()
        await harness.services.dispose()
        await rm(workDir, { recursive: true, force: true })
      },
    }
    return harness
  } catch (error) {
    await browser?.close()
    await bridge.close()
    await services.dispose()
    throw error
  }
}

/** Creates a project from the project picker (the first screen, or the one after Close project) and waits until it is open. */
export async function createProject(page: Page, name: string, dir: string): Promise<void> {
  await page.getByLabel('Name').fill(name)
  await page.locator('input[name="project-folder"]').fill(dir)
  await page.getByRole('button', { name: 'Create project' }).click()
  await page.getByTestId('project-name').filter({ hasText: name }).waitFor()
}

/** Imports a folder (or file) typed as a path on the Import step and waits until the import succeeded. */
export async function importFolder(page: Page, sourceDir: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: /Import/ }).click()
  await page.locator('input[name="import-path"]').fill(sourceDir)
  await page.getByRole('button', { name: 'Add', exact: true }).click()
  await page.getByRole('button', { name: 'Start import' }).click()
  await page.locator('[data-testid="import-progress"][data-state="succeeded"]').waitFor({ timeout: 60_000 })
}

/** The number a test id shows first ("1,234 sequences" → 1234): figures in the page are grouped with commas. */
export async function shownNumber(page: Page, testId: string): Promise<number> {
  return Number((await page.getByTestId(testId).textContent())?.replace(/,/g, '').split(' ')[0])
}
