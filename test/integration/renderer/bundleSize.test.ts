import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { readBundleReport, sourceBreakdown, type BundleReport } from '../../bench/renderer/bundleReport.js'

/**
 * Budgets for what the built renderer loads before it can draw, about 1.5 times the sizes measured when they were
 * set (initial JS 255 262 bytes raw / 77 552 gzip, minified, CSS 41 444 raw, on 2026-11-29): loose enough for
 * features to land, tight enough to catch a blow-up such as a big library pulled into the first chunk.
 * Sizes, not timings, so a loaded machine cannot fail it. `npm run bench:renderer` prints the figures.
 */
const INITIAL_JS_RAW_BUDGET = 390_000
const INITIAL_JS_GZIP_BUDGET = 120_000
const INITIAL_CSS_RAW_BUDGET = 64_000

const rendererDir = fileURLToPath(new URL('../../../out/renderer', import.meta.url))
let report: BundleReport

beforeAll(async () => {
  report = await readBundleReport(rendererDir)
})

describe('the built renderer bundle (out/renderer)', () => {
  it('loads at least one script and one stylesheet at start', () => {
    expect(report.assets.filter((a) => a.initial).map((a) => a.kind)).toEqual(expect.arrayContaining(['js', 'css']))
  })

  it('keeps its initial JS and CSS within budget', () => {
    const js = report.total('js', true)
    const css = report.total('css', true)
    expect(js.rawBytes, 'initial JS, raw bytes').toBeLessThan(INITIAL_JS_RAW_BUDGET)
    expect(js.gzipBytes, 'initial JS, gzip bytes').toBeLessThan(INITIAL_JS_GZIP_BUDGET)
    expect(css.rawBytes, 'initial CSS, raw bytes').toBeLessThan(INITIAL_CSS_RAW_BUDGET)
  })

  it('loads the charting library (uPlot) only when a chart first shows', async () => {
    const initialJs = report.assets.filter((a) => a.kind === 'js' && a.initial)
    for (const asset of initialJs) {
      const sources = [...sourceBreakdown(await readFile(`${rendererDir}/${asset.path}`, 'utf8')).keys()]
      expect(sources, asset.path).not.toContain('uplot')
    }
    expect(report.assets.some((a) => a.kind === 'js' && !a.initial && /uPlot/i.test(a.path))).toBe(true)
  })
})
