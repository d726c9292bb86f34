import type { BaseWindow, MenuItemConstructorOptions } from 'electron'
import { FILE_MENU_ITEMS, type MenuCommand } from '../shared/menuCommands.js'

export interface MenuTemplateOptions {
  isDevelopment: boolean
  platform: NodeJS.Platform
  /** Whether a project is open: File's items that act on one are disabled without it. */
  projectOpen: boolean
  /** Delivers a File menu command to the page of the window the menu was used in. */
  sendCommand: (command: MenuCommand, window: BaseWindow | undefined) => void
  showAbout: () => void
}

/**
 * The application menu (File, Edit, View, Window, Help): File's own items send commands to the page, the rest are
 * roles with the platform's accelerators. No remote content; DevTools only in development builds. Built apart from
 * `Menu` so it is testable without Electron.
 */
export function buildMenuTemplate({ isDevelopment, platform, projectOpen, sendCommand, showAbout }: MenuTemplateOptions): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin'
  const fileItems: MenuItemConstructorOptions[] = FILE_MENU_ITEMS.map((item) =>
    item === null
      ? { type: 'separator' }
      : {
          id: item.command,
          label: item.label,
          accelerator: item.accelerator,
          enabled: projectOpen || !item.needsProject,
          click: (_menuItem, window) => sendCommand(item.command, window),
        },
  )
  return [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    // macOS keeps Quit in the app menu; its File menu closes the window instead.
    { label: 'File', submenu: [...fileItems, { type: 'separator' }, isMac ? { role: 'close' } : { role: 'quit', accelerator: 'CmdOrCtrl+Q' }] },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload', accelerator: 'CmdOrCtrl+R' },
        ...(isDevelopment ? [{ role: 'toggleDevTools' as const }] : []),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: 'About Lectern', click: showAbout }] },
  ]
}
