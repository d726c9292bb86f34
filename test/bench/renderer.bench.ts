/**
 * `npm run bench:renderer [-- --runs N] [-- --no-build] [-- --no-train]`: how fast the built renderer starts and
 * whether it stays responsive while a job streams progress, in Debian's Chromium over the real bridge (the e2e
 * harness: real handlers, SQLite files and job workers in this process).
 *
 * - Bundle: every JS and CSS file of out/renderer, raw and gzip, initial (what index.html loads) or lazy
 *   (a dynamic import), and the initial JS by source (package or screen).
 * - Start: first paint, first contentful paint, DOMContentLoaded and "ready" (the frame after the project picker's
 *   "Create project" button appears), over `--runs` cold loads (HTTP cache off), as medians; against two baselines
 *   on the same machine and browser: a blank HTML page and an empty Svelte 5 app (one component, built by vite).
 * - Long tasks (PerformanceObserver 'longtask': main-thread tasks over 50 ms) while (a) a demo job of many short
 *   steps runs and streams progress to the Jobs panel, and (b) unless `--no-train`, a MoRA run on a tiny model
 *   trains from the Train wizard, so onJobMetrics redraws its four uPlot charts; against a baseline window of the
 *   same page with no job running. The target is no task over 50 ms while a job runs, i.e. none at all, and the
 *   verdict says PASS or FAIL. A Chromium trace (CDP Tracing) over the same window gives each task of 50 ms or more
 *   its main-thread CPU time and what ran inside it, by source module. Each window also reports the load average,
 *   how busy the machine's cores were (whoever used them) and the nice value the job's threads ran at.
 * - Playwright starts Chromium in a session of its own, so on Linux with autogrouping the page gets its share of
 *   CPU apart from this process, whatever the job threads' priority; an Electron renderer shares the main
 *   process's group. So each window also runs a frame loop (frameLoop.ts: 4 ms of CPU every 16 ms, at the default
 *   priority) in this process's group, and counts its frames that took over 50 ms.
 *
 * out/renderer is rebuilt first (as the tests do; LECTERN_TEST_BUILT=1 or `--no-build` uses it as it is).
 * Figures are printed, never asserted; the backend and its job workers share this machine's cores with Chromium,
 * as they do in the app, so a busy neighbour shows up in the long tasks too.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import type { CDPSession, Page } from 'playwright-core'
import { build } from 'vite'
import { writeTinyGgufModel } from '../fixtures/tinyModels.js'
import { startAppHarness, type AppHarness } from '../support/browserHarness.js'
import buildOnce from '../support/buildOnce.js'
import { machineBusyMs, table, withBenchRun, type BenchRun } from './benchSupport.js'
import { readBundleReport, sourceBreakdown, type BundleReport } from './renderer/bundleReport.js'
import { FrameLoop, type FrameLoopFigures } from './renderer/frameLoop.js'
import { loadTimingsExpression, readyProbeScript, START_LONG_TASKS, STOP_LONG_TASKS, type LoadTimings, type LongTask } from './renderer/pageProbes.js'
import { autogroupOf, chromiumChildren, highestThreadNice } from './renderer/scheduling.js'
import { longTasksFromTrace, moduleLines, type TraceEvent, type TracedTask } from './renderer/traceTasks.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const RENDERER_DIR = join(root, 'out/renderer')
const LONG_TASK_TARGET_MS = 50
/** About as long as the demo job's window. */
const IDLE_WINDOW_SECONDS = 8
const BASELINE_ORIGIN = 'http://baseline.invalid'

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i < 0 ? undefined : process.argv[i + 1]
}
const RUNS = Number(argValue('--runs') ?? 5)
const kb = (bytes: number): string => (bytes / 1024).toFixed(1)
const ms = (value: number | null): string => (value === null ? '–' : value.toFixed(0))
const share = (part: number, whole: number): string => `${whole === 0 ? 0 : ((100 * part) / whole).toFixed(1)} %`
function median(values: number[]): number | null {
  if (values.length === 0) return null
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

// ------------------------------------------------------------------------------------------------- bundle

async function printBundle(report: BundleReport): Promise<void> {
  console.log('\n## Bundle (out/renderer)\n')
  console.log(
    table([
      ['file', 'kind', 'loaded', 'raw KiB', 'gzip KiB'],
      ...report.assets.map((a) => [a.path, a.kind, a.initial ? 'initial' : 'lazy', kb(a.rawBytes), kb(a.gzipBytes)]),
    ]),
  )
  console.log()
  const rows: (string | number)[][] = [['total', '', 'raw KiB', 'gzip KiB']]
  for (const initial of [true, false]) {
    for (const kind of ['js', 'css'] as const) {
      const t = report.total(kind, initial)
      rows.push([initial ? 'initial' : 'lazy', kind, kb(t.rawBytes), kb(t.gzipBytes)])
    }
  }
  console.log(table(rows))
  const initialJs = report.assets.filter((a) => a.kind === 'js' && a.initial)
  const bySource = new Map<string, number>()
  for (const asset of initialJs) {
    for (const [source, bytes] of sourceBreakdown(await readFile(join(report.dir, asset.path), 'utf8'))) bySource.set(source, (bySource.get(source) ?? 0) + bytes)
  }
  if (bySource.size > 1) {
    console.log('\nInitial JS by source (raw, unminified bytes as bundled):\n')
    console.log(table([['source', 'raw KiB'], ...[...bySource].sort((a, b) => b[1] - a[1]).map(([source, bytes]) => [source, kb(bytes)])], (i) => i > 0))
  } else {
    console.log('\n(The initial JS is minified; no per-source breakdown.)')
  }
}

// ------------------------------------------------------------------------------------------------- start-up

/** An empty Svelte 5 app (one component with one heading, mounted like main.ts does) built by vite into `outDir`. */
async function buildEmptySvelteApp(workDir: string, outDir: string): Promise<void> {
  // Under the repository so that `svelte` resolves from its node_modules; test-results/ is ignored by git.
  await mkdir(workDir, { recursive: true })
  await writeFile(join(workDir, 'index.html'), '<!doctype html><html lang="en"><head><meta charset="UTF-8" /><title>Empty</title></head><body><div id="app"></div><script type="module" src="./main.js"></script></body></html>\n')
  await writeFile(join(workDir, 'main.js'), "import { mount } from 'svelte'\nimport Empty from './Empty.svelte'\nmount(Empty, { target: document.getElementById('app') })\n")
  await writeFile(join(workDir, 'Empty.svelte'), '<h1>Empty</h1>\n<button>Create project</button>\n')
  await build({ configFile: false, logLevel: 'warn', root: workDir, base: './', plugins: [svelte({ configFile: false })], build: { outDir, emptyOutDir: true } })
}

/** Serves `dir` at BASELINE_ORIGIN to `page` (by request interception; nothing listens on a port). */
async function serveBaseline(page: Page, dir: string): Promise<void> {
  await page.route(`${BASELINE_ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname.replace(/^\/$/, '/index.html')
    const body = await readFile(join(dir, path)).catch(() => null)
    if (!body) return route.fulfill({ status: 404 })
    const type = path.endsWith('.js') ? 'text/javascript' : path.endsWith('.css') ? 'text/css' : 'text/html'
    return route.fulfill({ status: 200, body, contentType: type })
  })
}

interface LoadTarget {
  name: string
  url: string
  /** A button text that marks the page ready; none for the blank page. */
  readyText: string | null
  baselineDir?: string
}

async function measureLoads(app: AppHarness, target: LoadTarget, log: BenchRun['log']): Promise<LoadTimings[]> {
  const context = app.page.context()
  const runs: LoadTimings[] = []
  // One warm-up load (not counted) so that the first run does not also pay for Chromium's own start-up work.
  for (let i = 0; i <= RUNS; i++) {
    const page = await context.newPage()
    try {
      const cdp = await context.newCDPSession(page)
      await cdp.send('Network.enable')
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
      if (target.baselineDir) await serveBaseline(page, target.baselineDir)
      if (target.readyText) await page.addInitScript({ content: readyProbeScript(target.readyText) })
      await page.goto(target.url)
      const timings = (await page.evaluate(loadTimingsExpression(20_000, target.readyText !== null))) as LoadTimings
      if (i > 0) runs.push(timings)
    } finally {
      await page.close()
    }
  }
  log(`${target.name}: ${RUNS} loads`)
  return runs
}

function printLoads(results: { target: LoadTarget; runs: LoadTimings[] }[]): void {
  console.log(`\n## Start-up in Chromium (median of ${RUNS} cold loads, ms since navigation start; min–max)\n`)
  const cell = (values: (number | null)[]): string => {
    const present = values.filter((v): v is number => v !== null)
    if (present.length === 0) return '–'
    return `${ms(median(present))} (${ms(Math.min(...present))}–${ms(Math.max(...present))})`
  }
  console.log(
    table([
      ['page', 'first paint', 'first contentful paint', 'DOMContentLoaded', 'ready (picker shown)'],
      ...results.map(({ target, runs }) => [
        target.name,
        cell(runs.map((r) => r.firstPaintMs)),
        cell(runs.map((r) => r.firstContentfulPaintMs)),
        cell(runs.map((r) => r.domContentLoadedMs)),
        target.readyText ? cell(runs.map((r) => r.readyMs)) : '–',
      ]),
    ]),
  )
}

// ------------------------------------------------------------------------------------------------- long tasks

interface LongTaskWindow {
  name: string
  /** The window with no job running, that the others are compared with. */
  baseline: boolean
  seconds: number
  /** From the page's PerformanceObserver. */
  tasks: LongTask[]
  /** From the trace: the same tasks (and any the observer missed), with CPU time and contents. */
  traced: TracedTask[]
  /** What streamed meanwhile. */
  note: string
  /** 1-minute load average at the start and at the end. */
  loadAverage: [number, number]
  /** CPU time used on the machine, by anyone, per second of the window. */
  busyCores: number
  /** The highest nice value among this process's threads, sampled through the window; null off Linux. */
  jobThreadNice: number | null
  sameGroup: FrameLoopFigures
}

type WindowFigures = Omit<LongTaskWindow, 'name' | 'baseline'>

/**
 * Runs `during` with long tasks collected by the page and a Chromium trace (devtools.timeline) taken over CDP, and
 * the frame loop's figures, the load and the job threads' nice value over the same time.
 */
async function observeLongTasks(page: Page, bundles: Map<string, string[]>, frameLoop: FrameLoop, during: () => Promise<string>): Promise<WindowFigures> {
  const cdp: CDPSession = await page.context().newCDPSession(page)
  const events: TraceEvent[] = []
  cdp.on('Tracing.dataCollected', ({ value }) => events.push(...(value as unknown as TraceEvent[])))
  const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()))
  await cdp.send('Tracing.start', {
    traceConfig: { includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.execute', '__metadata'] },
    transferMode: 'ReportEvents',
  })
  await page.evaluate(START_LONG_TASKS)
  frameLoop.begin()
  const loadAtStart = loadavg()[0]!
  const busyAtStart = machineBusyMs()
  let jobThreadNice = highestThreadNice()
  const niceSampler = setInterval(() => (jobThreadNice = Math.max(jobThreadNice ?? 0, highestThreadNice() ?? 0)), 250)
  const started = performance.now()
  const note = await during()
  const seconds = (performance.now() - started) / 1000
  clearInterval(niceSampler)
  const busyCores = (machineBusyMs() - busyAtStart) / 1000 / seconds
  const sameGroup = await frameLoop.figures(LONG_TASK_TARGET_MS)
  const { tasks } = (await page.evaluate(STOP_LONG_TASKS)) as { tasks: LongTask[] }
  await cdp.send('Tracing.end')
  await complete
  await cdp.detach()
  const traced = longTasksFromTrace(events, bundles, LONG_TASK_TARGET_MS)
  return { seconds, tasks, traced, note, loadAverage: [loadAtStart, loadavg()[0]!], busyCores, jobThreadNice, sameGroup }
}

/** The baseline: the same page for `seconds` with no job running. */
async function idleWindow(app: AppHarness, bundles: Map<string, string[]>, frameLoop: FrameLoop, seconds: number): Promise<LongTaskWindow> {
  const result = await observeLongTasks(app.page, bundles, frameLoop, async () => {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
    return `the project just created, nothing running, for ${seconds} s`
  })
  return { name: 'baseline: no job running', baseline: true, ...result }
}

async function createProject(app: AppHarness, name: string): Promise<void> {
  const { page } = app
  await page.getByLabel('Name').fill(name)
  await page.locator('input[name="project-folder"]').fill(join(app.workDir, name.replace(/\W+/g, '-')))
  await page.getByRole('button', { name: 'Create project' }).click()
  await page.getByTestId('project-name').filter({ hasText: name }).waitFor()
}

/** A demo job of many short steps, started through the bridge as the "Run demo job" button does, run to the end. */
async function demoJobWindow(app: AppHarness, bundles: Map<string, string[]>, frameLoop: FrameLoop): Promise<LongTaskWindow> {
  const { page } = app
  const steps = 400
  const stepMs = 10
  const result = await observeLongTasks(page, bundles, frameLoop, async () => {
    await page.evaluate(`window.lecternBridge.invoke('startJob', { kind: 'demo', params: { steps: ${steps}, stepMs: ${stepMs} } })`)
    const job = page.locator('li.job[data-state="succeeded"]').first()
    await job.waitFor({ timeout: 120_000 })
    return `demo job of ${steps} steps × ${stepMs} ms, progress streamed to the Jobs panel`
  })
  return { name: 'demo job (Jobs panel)', baseline: false, ...result }
}

/** A MoRA run on a tiny llama from the Train wizard, observed for `steps` optimizer steps of metrics, then cancelled. */
async function trainWindow(app: AppHarness, bundles: Map<string, string[]>, frameLoop: FrameLoop, log: BenchRun['log']): Promise<LongTaskWindow> {
  const { page } = app
  const model = (await writeTinyGgufModel(join(app.workDir, 'model'), { architecture: 'llama' })).ggufPath
  const data = join(app.workDir, 'train.jsonl')
  const lines = Array.from({ length: 32 }, (_, i) => JSON.stringify({ text: `the harbour ledger ${i} was read by the board and the clerk wrote ${i * 7} lines of it` }))
  await writeFile(data, lines.join('\n') + '\n')
  await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: /Train/ }).click()
  await page.getByLabel('Base model (.gguf or Hugging Face folder)').fill(model)
  await page.getByLabel('A .jsonl file').check()
  await page.getByLabel('Training data (.jsonl)').fill(data)
  await page.getByLabel('Sequence length (tokens)').fill('16')
  await page.getByRole('radio', { name: 'Steps' }).check()
  await page.getByLabel('Optimizer steps').fill('3000')
  await page.getByLabel('Batch size').fill('1')
  await page.getByLabel('Learning rate').fill('0.01')
  await page.getByTestId('fit-verdict').filter({ hasText: 'Fits' }).waitFor({ timeout: 60_000 })
  const points = async (): Promise<number> => Number(await page.getByTestId('chart-loss').getAttribute('data-points').catch(() => '0'))
  const wantedPoints = 40
  const result = await observeLongTasks(page, bundles, frameLoop, async () => {
    await page.getByRole('button', { name: 'Start training' }).click()
    await page.locator('[data-testid="train-job"][data-state="running"]').waitFor({ timeout: 60_000 })
    const until = performance.now() + 120_000
    while ((await points()) < wantedPoints && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 1000))
    return `MoRA training from the Train wizard, ${await points()} loss points drawn (4 uPlot charts live)`
  })
  log('training observed; cancelling')
  await page.getByRole('button', { name: 'Cancel' }).first().click().catch(() => undefined)
  return { name: 'training (Train wizard, charts)', baseline: false, ...result }
}

/** The most main-thread CPU time one traced long task took; null when none was traced or the trace has no thread times. */
function maxCpu(w: LongTaskWindow): number | null {
  const cpu = w.traced.map((t) => t.cpuMs).filter((v): v is number => v !== null)
  return cpu.length ? Math.max(...cpu) : null
}

function printLongTasks(windows: LongTaskWindow[]): boolean {
  const jobWindows = windows.filter((w) => !w.baseline)
  const baseline = windows.find((w) => w.baseline)
  const longest = (w: LongTaskWindow): number => Math.max(0, ...w.tasks.map((t) => t.durationMs))
  console.log(`\n## Main-thread long tasks while a job runs (target: none over ${LONG_TASK_TARGET_MS} ms), against a window with no job\n`)
  console.log(
    table([
      ['while', 'seconds', 'load avg (1 min)', 'busy cores', "job threads' nice", 'long tasks', 'max ms', 'total ms', 'traced ≥ 50 ms', 'max CPU ms in one', 'verdict'],
      ...windows.map((w) => {
        const durations = w.tasks.map((t) => t.durationMs)
        return [
          w.name,
          w.seconds.toFixed(1),
          `${w.loadAverage[0].toFixed(2)} → ${w.loadAverage[1].toFixed(2)}`,
          w.busyCores.toFixed(2),
          w.baseline ? '–' : (w.jobThreadNice ?? '–'),
          w.tasks.length,
          longest(w).toFixed(0),
          durations.reduce((a, b) => a + b, 0).toFixed(0),
          w.traced.length,
          maxCpu(w) === null ? '–' : maxCpu(w)!.toFixed(0),
          w.baseline ? 'baseline' : w.tasks.length === 0 ? 'PASS' : 'FAIL',
        ]
      }),
    ]),
  )
  for (const w of windows) {
    console.log(`\n${w.name}: ${w.note}.`)
    if (w.tasks.length > 0) console.log(`  observed long tasks (ms): ${w.tasks.map((t) => `${t.durationMs.toFixed(0)} at ${(t.startMs / 1000).toFixed(1)} s`).join(', ')}`)
    for (const t of w.traced.slice(0, 5)) {
      const cpu = t.cpuMs === null ? '' : `, main-thread CPU ${t.cpuMs.toFixed(0)} ms`
      console.log(`  traced task ${t.wallMs.toFixed(0)} ms wall${cpu}: ${t.parts.map(([part, partMs]) => `${part} ${partMs.toFixed(1)}`).join('; ') || '(nothing traced inside)'}`)
    }
  }

  console.log(
    `\n## A frame loop in the backend's scheduling group (4 ms of CPU every 16 ms at the default priority, as an Electron renderer beside the job's threads)\n`,
  )
  console.log(
    table([
      ['while', 'frames', `work over ${LONG_TASK_TARGET_MS} ms`, 'max work ms', `started over ${LONG_TASK_TARGET_MS} ms late`, 'max late ms'],
      ...windows.map(({ name, sameGroup: f }) => [name, f.frames, `${f.longTasks} (${share(f.longTasks, f.frames)})`, f.maxWallMs.toFixed(0), `${f.lateFrames} (${share(f.lateFrames, f.frames)})`, f.maxLateMs.toFixed(0)]),
    ]),
  )

  const pass = jobWindows.every((w) => w.tasks.length === 0)
  const worst = Math.max(0, ...jobWindows.map(longest))
  const against = baseline ? `; with no job: ${baseline.tasks.length} long task(s)${baseline.tasks.length ? `, up to ${longest(baseline).toFixed(0)} ms` : ''}` : ''
  const jobTasks = jobWindows.reduce((sum, w) => sum + w.tasks.length, 0)
  console.log(
    `\n${pass ? 'PASS' : 'FAIL'}: main-thread long tasks during a running job: ${pass ? `none over ${LONG_TASK_TARGET_MS} ms` : `${jobTasks}, up to ${worst.toFixed(0)} ms wall (target: none over ${LONG_TASK_TARGET_MS} ms)`}${against}`,
  )
  if (!pass) {
    const cpu = Math.max(0, ...jobWindows.map((w) => maxCpu(w) ?? 0))
    const verdict = cpu < LONG_TASK_TARGET_MS ? 'PASS' : 'FAIL'
    console.log(
      `${verdict} on the renderer's own work: at most ${cpu.toFixed(0)} ms of main-thread CPU in one task; a task much longer in wall time than in CPU time ` +
        `was waiting for a core (the job worker, the backend and other processes share this machine's ${availableParallelism()} cores with Chromium)`,
    )
  }
  return pass
}

/** Which scheduling groups the page, this process (backend and job workers) and the frame loop are in, on Linux. */
function printSchedulingGroups(): void {
  const own = autogroupOf(process.pid)
  if (own === null) return
  const chromium = [...new Set(chromiumChildren().map(autogroupOf))].join(', ') || 'not found'
  console.log(`\nScheduling groups (Linux autogroups): Chromium ${chromium}; backend, job workers and frame loop ${own}.`)
}

// ------------------------------------------------------------------------------------------------- main

await withBenchRun('lectern-bench-renderer-', async ({ dir, log }) => {
  console.log(`# bench:renderer (${availableParallelism()} cores, ${RUNS} runs)`)
  if (process.argv.includes('--no-build')) process.env['LECTERN_TEST_BUILT'] = '1'
  log(process.env['LECTERN_TEST_BUILT'] === '1' ? 'using out/renderer as built' : 'building (electron-vite build)')
  await buildOnce()
  const report = await readBundleReport(RENDERER_DIR)
  await printBundle(report)

  const emptySvelteSrc = join(root, 'test-results', 'bench-renderer', 'empty-svelte')
  const emptySvelteOut = join(dir, 'empty-svelte')
  const blankOut = join(dir, 'blank')
  log('building the empty Svelte baseline')
  await buildEmptySvelteApp(emptySvelteSrc, emptySvelteOut)
  await mkdir(blankOut, { recursive: true })
  await writeFile(join(blankOut, 'index.html'), '<!doctype html><html lang="en"><head><meta charset="UTF-8" /><title>Blank</title></head><body><h1>Blank</h1></body></html>\n')

  log('starting the app harness (backend, bridge, Chromium)')
  const app = await startAppHarness()
  try {
    await app.page.getByRole('button', { name: 'Create project' }).waitFor({ timeout: 60_000 })
    const targets: LoadTarget[] = [
      { name: 'Lectern (out/renderer, real bridge)', url: app.bridge.url + '/', readyText: 'Create project' },
      { name: 'baseline: empty Svelte 5 app', url: `${BASELINE_ORIGIN}/`, readyText: 'Create project', baselineDir: emptySvelteOut },
      { name: 'baseline: blank HTML page', url: `${BASELINE_ORIGIN}/`, readyText: null, baselineDir: blankOut },
    ]
    const loads = []
    for (const target of targets) loads.push({ target, runs: await measureLoads(app, target, log) })
    printLoads(loads)

    const bundles = new Map<string, string[]>()
    for (const asset of report.assets.filter((a) => a.kind === 'js')) {
      bundles.set(asset.path.split('/').pop()!, moduleLines(await readFile(join(RENDERER_DIR, asset.path), 'utf8')))
    }
    log('creating a project')
    await createProject(app, 'Bench renderer')
    const frameLoop = await FrameLoop.start()
    const windows: LongTaskWindow[] = []
    try {
      log('baseline: no job running')
      windows.push(await idleWindow(app, bundles, frameLoop, IDLE_WINDOW_SECONDS))
      log('demo job')
      windows.push(await demoJobWindow(app, bundles, frameLoop))
      if (!process.argv.includes('--no-train')) {
        log('training from the Train wizard')
        windows.push(await trainWindow(app, bundles, frameLoop, log))
      }
    } finally {
      frameLoop.close()
    }
    printLongTasks(windows)
    printSchedulingGroups()
    if (app.problems.length > 0) console.log(`\nPage problems seen: ${app.problems.join(' | ')}`)
  } finally {
    await app.close()
    await rm(emptySvelteSrc, { recursive: true, force: true })
  }
})
