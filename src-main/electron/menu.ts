import { app, BrowserWindow, Menu } from 'electron'
import { IPC_EVENT_CHANNEL } from '../shared/api.js'
import type { MenuCommand } from '../shared/menuCommands.js'
import { buildMenuTemplate } from './menuTemplate.js'

/** Installs the application menu; File's items reach the page as the contract event `onMenuCommand`. */
export function installApplicationMenu(isDevelopment: boolean): void {
  const template = buildMenuTemplate({
    isDevelopment,
    platform: process.platform,
    sendCommand: (command, window) => sendMenuCommand(command, window instanceof BrowserWindow ? window : BrowserWindow.getFocusedWindow()),
    showAbout: () => app.showAboutPanel(),
  })
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}

function sendMenuCommand(command: MenuCommand, window: BrowserWindow | null): void {
  if (window && !window.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, 'onMenuCommand', command)
}
