import { app, BrowserWindow, Menu } from 'electron'
import type { ApiEventBus } from '../core/app/ApiEventBus.js'
import { IPC_EVENT_CHANNEL, type ApiEvents } from '../shared/api.js'
import type { MenuCommand } from '../shared/menuCommands.js'
import { buildMenuTemplate } from './menuTemplate.js'

export interface ApplicationMenu {
  /** Rebuilds the menu on each `onProjectChanged`, so File's project items are enabled only while one is open. */
  followProject(events: ApiEventBus): () => void
}

/** Installs the application menu; File's items reach the page as the contract event `onMenuCommand`. */
export function installApplicationMenu(isDevelopment: boolean): ApplicationMenu {
  const install = (projectOpen: boolean): void => {
    const template = buildMenuTemplate({
      isDevelopment,
      platform: process.platform,
      projectOpen,
      sendCommand: (command, window) => sendMenuCommand(command, window instanceof BrowserWindow ? window : BrowserWindow.getFocusedWindow()),
      showAbout: () => app.showAboutPanel(),
    })
    Menu.setApplicationMenu(Menu.buildFromTemplate(template))
  }
  install(false)
  return {
    followProject: (events) =>
      events.subscribe((event, payload) => {
        if (event === 'onProjectChanged') install((payload as ApiEvents['onProjectChanged']) !== null)
      }),
  }
}

function sendMenuCommand(command: MenuCommand, window: BrowserWindow | null): void {
  if (window && !window.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, 'onMenuCommand', command)
}
