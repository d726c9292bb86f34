import { execFile } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { LATEST_SCHEMA_VERSION } from '../../../src-main/core/db/migrations.js'
import { API_METHODS, IPC_EVENT_CHANNEL, ipcChannelFor } from '../../../src-main/shared/api.js'
import { useTempDirs } from '../../support/tempDir.js'

const tempDir = useTempDirs()
const root = fileURLToPath(new URL('../../../', import.meta.url))

it('the built main bundle wires exactly the contract, opens a locked-down window and runs jobs through IPC', async () => {
  const base = await tempDir()
  const reportPath = join(base, 'report.json')
  await promisify(execFile)(
    process.execPath,
    ['--import', join(root, 'test/support/electronStub/register.mjs'), join(root, 'out/main/index.js')],
    {
      cwd: root,
      env: { ...process.env, LECTERN_STUB_REPORT: reportPath, LECTERN_STUB_USERDATA: join(base, 'userData'), LECTERN_STUB_PROJECT: join(base, 'project') },
      timeout: 30_000,
    },
  ).catch((error: Error & { stderr?: string }) => {
    throw new Error(`main bundle failed: ${error.message}\n${error.stderr ?? ''}`)
  })
  const report = JSON.parse(await readFile(reportPath, 'utf8'))

  expect([...report.handlers].sort()).toEqual(API_METHODS.map(ipcChannelFor).sort())
  expect(report.windows).toHaveLength(1)
  const window = report.windows[0]
  expect(window.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webviewTag: false })
  expect(window.webPreferences.preload).toBe(join(root, 'out/preload/index.cjs'))
  expect((await stat(window.webPreferences.preload)).isFile()).toBe(true)
  expect(window.loaded).toBe(join(root, 'out/renderer/index.html'))
  expect(window.icon).toBe(join(root, 'resources/icon.png'))
  expect((await stat(window.icon)).isFile()).toBe(true)

  expect(report.session).toMatchObject({ permissionRequestGranted: false, permissionCheck: false })
  expect(report.session.csp[0]).toContain("script-src 'self'")
  expect(report.lockDown).toEqual({ externalNavigationPrevented: true, ownPagePrevented: false, windowOpen: { action: 'deny' } })
  expect(report.menuInstalled).toBe(true)

  expect(report.calls.appInfo).toMatchObject({ ok: true, value: { name: 'Lectern', shell: 'electron' } })
  expect(report.calls.foreignFrame).toMatchObject({ ok: false, error: { message: expect.stringMatching(/did not come from a Lectern window/) } })
  expect(report.calls.badRequest).toMatchObject({ ok: false, error: { code: 'invalid_argument' } })
  expect(report.calls.create).toMatchObject({ ok: true, value: { name: 'Bundle smoke', schemaVersion: LATEST_SCHEMA_VERSION } })
  expect((await stat(join(base, 'project', 'project.db'))).isFile()).toBe(true)
  // The job ran in the bundled worker chunk, and its progress reached the window as contract events.
  expect(report.calls.finished).toMatchObject({ ok: true, value: { state: 'succeeded', progress: { done: 3, total: 3 } } })
  const eventNames = report.events.filter((e: { channel: string }) => e.channel === IPC_EVENT_CHANNEL).map((e: { args: string[] }) => e.args[0])
  expect(eventNames).toEqual(expect.arrayContaining(['onProjectChanged', 'onJobUpdate', 'onJobLog']))
  expect(report.beforeQuitPrevented).toBe(true)
  expect(report.quit).toBe('quit')
  expect(JSON.parse(await readFile(join(base, 'userData', 'recent-projects.json'), 'utf8')).projects[0].name).toBe('Bundle smoke')
})
