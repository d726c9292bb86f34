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
  /** Greyed out while no project is open (the page could not act on it). */
  needsProject: boolean
}

/** The File menu top to bottom; `null` is a separator. Quit (or Close on macOS) follows as a role. */
export const FILE_MENU_ITEMS: readonly (MenuCommandItem | null)[] = [
  { command: 'newProject', label: 'New Project…', accelerator: 'CmdOrCtrl+N', needsProject: false },
  { command: 'openProject', label: 'Open Project…', accelerator: 'CmdOrCtrl+O', needsProject: false },
  { command: 'closeProject', label: 'Close Project', accelerator: 'CmdOrCtrl+Shift+W', needsProject: true },
  null,
  { command: 'importFiles', label: 'Import Files…', accelerator: 'CmdOrCtrl+I', needsProject: true },
  null,
  // The settings are app-wide: the page shows them beside the project picker too.
  { command: 'openSettings', label: 'Settings…', accelerator: 'CmdOrCtrl+,', needsProject: false },
]
