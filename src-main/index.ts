import { join } from 'node:path'
import { app, BrowserWindow, dialog, ipcMain, screen, session, shell } from 'electron'
import jobWorkerPath from './workers/jobWorker?modulePath'
import { createServices, type Services } from './core/services.js'
import { wireIpc } from './electron/ipcWiring.js'
import { installApplicationMenu } from './electron/menu.js'
import { hardenSession } from './electron/security.js'
import { createMainWindow, type MainWindow } from './electron/window.js'
import { fitWindowState, readWindowState, rememberWindowState } from './electron/windowState.js'
import { createHandlers } from './ipc/handlers.js'
import { probeHardwareOnce } from './core/system/hardwareReport.js'

const devServerUrl = process.env['ELECTRON_RENDERER_URL']
let services: Services | null = null
let main: MainWindow | null = null
let windowStateSaved: () => Promise<void> = () => Promise.resolve()

async function startApp(): Promise<void> {
  hardenSession(session.defaultSession)
  const menu = installApplicationMenu(devServerUrl !== undefined)
  services = await createServices({
    appDataDir: app.getPath('userData'),
    shell: 'electron',
    jobWorker: { workerScript: jobWorkerPath },
    chooseDirectory: async ({ title, defaultPath }) => {
      const options: Electron.OpenDialogOptions = { properties: ['openDirectory', 'createDirectory'] }
      if (title !== undefined) options.title = title
      if (defaultPath !== undefined) options.defaultPath = defaultPath
      const result = main ? await dialog.showOpenDialog(main.window, options) : await dialog.showOpenDialog(options)
      return result.canceled ? null : (result.filePaths[0] ?? null)
    },
    chooseImportPaths: async ({ folders }) => {
      const options: Electron.OpenDialogOptions = {
        title: folders ? 'Import folders' : 'Import files',
        properties: folders ? ['openDirectory', 'multiSelections'] : ['openFile', 'multiSelections'],
      }
      const result = main ? await dialog.showOpenDialog(main.window, options) : await dialog.showOpenDialog(options)
      return result.canceled || result.filePaths.length === 0 ? null : result.filePaths
    },
    chooseFile: async ({ title, extensions }) => {
      const options: Electron.OpenDialogOptions = { title, properties: ['openFile'], filters: [{ name: extensions.join(', '), extensions }] }
      const result = main ? await dialog.showOpenDialog(main.window, options) : await dialog.showOpenDialog(options)
      return result.canceled ? null : (result.filePaths[0] ?? null)
    },
    showInFolder: async (path) => {
      shell.showItemInFolder(path)
      return true
    },
  })
  menu.followProject(services.events)
  // Handlers first, so the page never calls before they exist.
  wireIpc(ipcMain, createHandlers(services), services.events, {
    isTrustedSender: (event) =>
      main !== null &&
      event.sender === main.window.webContents &&
      event.senderFrame !== null &&
      event.senderFrame === main.window.webContents.mainFrame &&
      main.isAppUrl(event.senderFrame.url),
    eventTargets: () => (main && !main.window.isDestroyed() ? [main.window.webContents] : []),
  })
  await openWindow()
  // The hardware probes (child processes, a few seconds) start now and are cached for the Settings screen.
  probeHardwareOnce().catch((error: unknown) => console.error('[lectern] hardware probing failed:', error))
}

async function openWindow(): Promise<void> {
  const appDataDir = app.getPath('userData')
  const remembered = await readWindowState(appDataDir, (message) => console.warn('[lectern]', message))
  const bounds = fitWindowState(remembered, screen.getAllDisplays().map((display) => display.workArea))
  // Packaged: extraResources copies resources/ beside app.asar; in development it is the repository's.
  const resourcesDir = app.isPackaged ? join(process.resourcesPath, 'resources') : join(import.meta.dirname, '../../resources')
  main = createMainWindow({ bundleDir: import.meta.dirname, devServerUrl, iconPath: join(resourcesDir, 'icon.png'), bounds })
  windowStateSaved = rememberWindowState(main.window, appDataDir).saved
  main.window.on('closed', () => {
    main = null
  })
}

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => {
    if (main) {
      if (main.window.isMinimized()) main.window.restore()
      main.window.focus()
    }
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0 && services) void openWindow()
  })
  let quitting = false
  app.on('before-quit', (event) => {
    if (quitting || !services) return
    // Let a running job record itself as interrupted (resumable) before the process ends.
    event.preventDefault()
    quitting = true
    void Promise.all([services.dispose(), windowStateSaved()]).finally(() => app.quit())
  })
  app.whenReady().then(startApp, (error: unknown) => {
    console.error('[lectern] failed to start:', error)
    app.exit(1)
  })
}
