import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { BrowserWindow } from 'electron'
import { PRODUCT_NAME } from '../shared/version.js'
import { lockDownContents } from './security.js'
import { DEFAULT_WINDOW_SIZE, MIN_WINDOW_SIZE, type InitialWindowBounds } from './windowState.js'

export interface MainWindowOptions {
  /** Folder of the built bundles (`out/main`), from which preload and renderer are found. */
  bundleDir: string
  /** electron-vite's dev server URL, when running `npm run dev`. */
  devServerUrl?: string | undefined
  /** Window icon (Linux and Windows use it; macOS takes the bundle's). */
  iconPath?: string | undefined
  /** Remembered size, position and maximized flag, already fitted to the displays (windowState.ts). */
  bounds?: InitialWindowBounds | undefined
}

export interface MainWindow {
  window: BrowserWindow
  /** Whether a URL is one of our own pages (the built renderer or the dev server). */
  isAppUrl(url: string): boolean
}

export function createMainWindow(options: MainWindowOptions): MainWindow {
  const rendererIndex = join(options.bundleDir, '../renderer/index.html')
  const rendererDirUrl = pathToFileURL(join(options.bundleDir, '../renderer/')).href
  const devOrigin = options.devServerUrl ? new URL(options.devServerUrl).origin : null
  const isAppUrl = (url: string): boolean =>
    url.startsWith(rendererDirUrl) || (devOrigin !== null && URL.canParse(url) && new URL(url).origin === devOrigin)

  const window = new BrowserWindow({
    title: PRODUCT_NAME,
    width: options.bounds?.width ?? DEFAULT_WINDOW_SIZE.width,
    height: options.bounds?.height ?? DEFAULT_WINDOW_SIZE.height,
    ...(options.bounds?.x === undefined || options.bounds.y === undefined ? {} : { x: options.bounds.x, y: options.bounds.y }),
    minWidth: MIN_WINDOW_SIZE.width,
    minHeight: MIN_WINDOW_SIZE.height,
    show: false,
    backgroundColor: '#f6f5f2',
    ...(options.iconPath === undefined ? {} : { icon: options.iconPath }),
    webPreferences: {
      preload: join(options.bundleDir, '../preload/index.cjs'),
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  })
  lockDownContents(window.webContents, isAppUrl)
  window.once('ready-to-show', () => {
    if (options.bounds?.isMaximized) window.maximize()
    window.show()
  })
  if (options.devServerUrl) void window.loadURL(options.devServerUrl)
  else void window.loadFile(rendererIndex)
  return { window, isAppUrl }
}
