/**
 * The File menu's own items: each sends its command to the page (`onMenuCommand`), which acts on it. Kept out of
 * the electron layer so the labels, accelerators and the renderer's handling are checked without Electron.
 */
export const MENU_COMMANDS = ['newProject', 'openProject', 'closeProject', 'importFiles', 'openSettings'] as const
export type MenuCommand = (typeof MENU_COMMANDS)[number]

export interface MenuCommandItem {
  command: MenuCommand
  label: string
  /** Electron accelerator syntax. */
  accelerator: string
}

/** The File menu top to bottom; `null` is a separator. Quit (or Close on macOS) follows as a role. */
export const FILE_MENU_ITEMS: readonly (MenuCommandItem | null)[] = [
  { command: 'newProject', label: 'New Project…', accelerator: 'CmdOrCtrl+N' },
  { command: 'openProject', label: 'Open Project…', accelerator: 'CmdOrCtrl+O' },
  { command: 'closeProject', label: 'Close Project', accelerator: 'CmdOrCtrl+Shift+W' },
  null,
  { command: 'importFiles', label: 'Import Files…', accelerator: 'CmdOrCtrl+I' },
  null,
  { command: 'openSettings', label: 'Settings…', accelerator: 'CmdOrCtrl+,' },
]
