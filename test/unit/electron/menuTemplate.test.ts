import type { MenuItemConstructorOptions } from 'electron'
import { describe, expect, it, vi } from 'vitest'
import { buildMenuTemplate } from '../../../src-main/electron/menuTemplate.js'
import { FILE_MENU_ITEMS, MENU_COMMANDS } from '../../../src-main/shared/menuCommands.js'

function fileMenu(platform: NodeJS.Platform, sendCommand = vi.fn(), projectOpen = true): MenuItemConstructorOptions[] {
  const template = buildMenuTemplate({ isDevelopment: false, platform, projectOpen, sendCommand, showAbout: vi.fn() })
  const file = template.find((menu) => menu.label === 'File')
  if (!file || !Array.isArray(file.submenu)) throw new Error('the template has no File submenu')
  return file.submenu
}

describe('the application menu template', () => {
  it('gives File its own items with accelerators, then Quit', () => {
    const items = fileMenu('linux')
    expect(items.filter((i) => i.label !== undefined).map((i) => [i.label, i.accelerator])).toEqual([
      ['New Project…', 'CmdOrCtrl+N'],
      ['Open Project…', 'CmdOrCtrl+O'],
      ['Close Project', 'CmdOrCtrl+Shift+W'],
      ['Import Files…', 'CmdOrCtrl+I'],
      ['Settings…', 'CmdOrCtrl+,'],
    ])
    expect(items.at(-1)).toEqual({ role: 'quit', accelerator: 'CmdOrCtrl+Q' })
  })

  it('closes the window from File on macOS, where Quit lives in the app menu', () => {
    expect(fileMenu('darwin').at(-1)).toEqual({ role: 'close' })
    const template = buildMenuTemplate({ isDevelopment: false, platform: 'darwin', projectOpen: true, sendCommand: vi.fn(), showAbout: vi.fn() })
    expect(template[0]).toEqual({ role: 'appMenu' })
  })

  it('sends each item’s command with the window it was used in', () => {
    const sendCommand = vi.fn()
    const window = { id: 1 }
    for (const item of fileMenu('win32', sendCommand)) item.click?.({} as never, window as never, {} as never)
    expect(sendCommand.mock.calls).toEqual(MENU_COMMANDS.map((command) => [command, window]))
  })

  it('disables Close Project and Import Files while no project is open; New, Open and Settings stay usable', () => {
    const disabled = (projectOpen: boolean): unknown[] => fileMenu('linux', vi.fn(), projectOpen).filter((i) => i.enabled === false).map((i) => i.id)
    expect(disabled(false)).toEqual(['closeProject', 'importFiles'])
    expect(disabled(true)).toEqual([])
  })

  it('offers DevTools only in development builds', () => {
    const roles = (isDevelopment: boolean): unknown[] => {
      const view = buildMenuTemplate({ isDevelopment, platform: 'linux', projectOpen: true, sendCommand: vi.fn(), showAbout: vi.fn() }).find((m) => m.label === 'View')
      return (view?.submenu as MenuItemConstructorOptions[]).map((i) => i.role)
    }
    expect(roles(false)).not.toContain('toggleDevTools')
    expect(roles(true)).toContain('toggleDevTools')
  })

  it('lists every command once, in the menu’s order', () => {
    const commands = FILE_MENU_ITEMS.flatMap((item) => (item === null ? [] : [item.command]))
    expect(commands).toEqual([...MENU_COMMANDS])
  })
})
