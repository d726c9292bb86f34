import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { captureWindowState, fitWindowState, readWindowState, WINDOW_STATE_FILE, writeWindowState } from '../../../src-main/electron/windowState.js'
import { useTempDirs } from '../../support/tempDir.js'

const tempDir = useTempDirs()
const root = fileURLToPath(new URL('../../../', import.meta.url))
const fullHd = { x: 0, y: 0, width: 1920, height: 1080 }
const rightScreen = { x: 1920, y: 0, width: 1280, height: 1024 }

describe('fitWindowState', () => {
  it('uses the default size, centred by the OS, when nothing is remembered', () => {
    expect(fitWindowState(null, [fullHd])).toEqual({ width: 1280, height: 820, isMaximized: false })
  })

  it('keeps a state that is fully on a display', () => {
    expect(fitWindowState({ x: 100, y: 50, width: 1000, height: 700, isMaximized: true }, [fullHd])).toEqual({ x: 100, y: 50, width: 1000, height: 700, isMaximized: true })
  })

  it('pulls a window hanging off the edge back onto the display it overlaps most, shrinking it to fit', () => {
    expect(fitWindowState({ x: 3000, y: -200, width: 1500, height: 1200, isMaximized: false }, [fullHd, rightScreen])).toEqual({
      x: 1920,
      y: 0,
      width: 1280,
      height: 1024,
      isMaximized: false,
    })
  })

  it('drops the position when the display it was on is gone, never going below the minimum size', () => {
    expect(fitWindowState({ x: 2500, y: 100, width: 400, height: 300, isMaximized: false }, [fullHd])).toEqual({ width: 900, height: 600, isMaximized: false })
  })
})

describe('window state file', () => {
  it('round-trips, captures the normal bounds, and moves a damaged file aside', async () => {
    const dir = await tempDir()
    expect(await readWindowState(dir)).toBeNull()
    const state = captureWindowState({ getNormalBounds: () => ({ x: 10.4, y: 20, width: 1100, height: 700 }), isMaximized: () => true })
    expect(state).toEqual({ x: 10, y: 20, width: 1100, height: 700, isMaximized: true })
    await writeWindowState(dir, state)
    expect(await readWindowState(dir)).toEqual(state)
    await writeFile(join(dir, WINDOW_STATE_FILE), '{"x": "left"}')
    const warnings: string[] = []
    expect(await readWindowState(dir, (m) => warnings.push(m))).toBeNull()
    expect(warnings[0]).toMatch(/was damaged; moved to .*damaged-/)
  })
})

interface BundleReport {
  windows: { bounds: object }[]
  /** The menu installed last. */
  menu: { label?: string; role?: string; submenu?: string[] }[]
  /** Every menu installed, in turn: File's disabled items. */
  menus: { disabled: string[] }[]
}

async function runBundle(base: string, displays: object[]): Promise<BundleReport> {
  const reportPath = join(base, `report-${Date.now()}.json`)
  await promisify(execFile)(process.execPath, ['--import', join(root, 'test/support/electronStub/register.mjs'), join(root, 'out/main/index.js')], {
    cwd: root,
    env: {
      ...process.env,
      LECTERN_STUB_REPORT: reportPath,
      LECTERN_STUB_USERDATA: join(base, 'userData'),
      LECTERN_STUB_PROJECT: join(base, `project-${Date.now()}`),
      LECTERN_STUB_DISPLAYS: JSON.stringify(displays),
    },
    timeout: 30_000,
  }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`main bundle failed: ${error.message}\n${error.stderr ?? ''}`)
  })
  return JSON.parse(await readFile(reportPath, 'utf8'))
}

describe('the built main bundle', () => {
  it('restores the remembered window fitted to the displays, saves it on close, and installs our File menu with the standard ones', async () => {
    const base = await tempDir()
    await mkdir(join(base, 'userData'), { recursive: true })
    await writeFile(join(base, 'userData', WINDOW_STATE_FILE), JSON.stringify({ x: 2500, y: 40, width: 1000, height: 700, isMaximized: false }))

    const twoScreens = await runBundle(base, [fullHd, rightScreen])
    expect(twoScreens.windows[0]!.bounds).toEqual({ x: 2200, y: 40, width: 1000, height: 700 })
    expect(JSON.parse(await readFile(join(base, 'userData', WINDOW_STATE_FILE), 'utf8'))).toEqual({ x: 2200, y: 40, width: 1000, height: 700, isMaximized: false })

    // The right-hand screen is unplugged: the window moves onto the one that is left.
    const oneScreen = await runBundle(base, [fullHd])
    expect(oneScreen.windows[0]!.bounds).toEqual({ width: 1000, height: 700 })

    expect(oneScreen.menu.map((item) => item.label ?? item.role)).toEqual(['File', 'editMenu', 'View', 'windowMenu', 'help'])
    expect(oneScreen.menu.find((item) => item.label === 'File')!.submenu).toEqual([
      'New Project…',
      'Open Project…',
      'Close Project',
      'separator',
      'Import Files…',
      'separator',
      'Settings…',
      'separator',
      'quit',
    ])
    expect(oneScreen.menu.find((item) => item.role === 'help')!.submenu).toEqual(['About Lectern'])
    // The stub's renderer creates a project: File's project items are enabled from then on.
    expect(oneScreen.menus).toEqual([{ disabled: ['Close Project', 'Import Files…'] }, { disabled: [] }])
  })
})
