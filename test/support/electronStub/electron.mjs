// A stand-in for Electron's main-process API that records what the app does with it, then drives the
// registered IPC handlers like a renderer would. The report goes to $LECTERN_STUB_REPORT as JSON.
import { writeFileSync } from 'node:fs'
import { EventEmitter } from 'node:events'
import { pathToFileURL } from 'node:url'

const report = { windows: [], handlers: [], menuInstalled: false, menus: [], session: {}, calls: {}, events: [], lockDown: {}, quit: null }
const handlers = new Map()
const userData = process.env.LECTERN_STUB_USERDATA
const projectDir = process.env.LECTERN_STUB_PROJECT

class WebContents extends EventEmitter {
  constructor() {
    super()
    this.mainFrame = { url: 'about:blank' }
    this.windowOpenHandler = null
  }
  setWindowOpenHandler(handler) {
    this.windowOpenHandler = handler
  }
  send(channel, ...args) {
    report.events.push({ channel, args })
  }
  isDestroyed() {
    return false
  }
}

export class BrowserWindow extends EventEmitter {
  static all = []
  static getAllWindows() {
    return BrowserWindow.all
  }
  constructor(options) {
    super()
    this.options = options
    this.webContents = new WebContents()
    BrowserWindow.all.push(this)
    report.windows.push({ webPreferences: options.webPreferences, title: options.title, icon: options.icon, bounds: { x: options.x, y: options.y, width: options.width, height: options.height } })
  }
  getNormalBounds() {
    return { x: this.options.x ?? 0, y: this.options.y ?? 0, width: this.options.width, height: this.options.height }
  }
  isMaximized() {
    return false
  }
  async loadFile(path) {
    this.webContents.mainFrame.url = pathToFileURL(path).href
    report.windows.at(-1).loaded = path
  }
  async loadURL(url) {
    this.webContents.mainFrame.url = url
    report.windows.at(-1).loaded = url
  }
  isDestroyed() {
    return false
  }
  isMinimized() {
    return false
  }
}

const appEmitter = new EventEmitter()
export const app = Object.assign(appEmitter, {
  getPath: (name) => {
    if (name !== 'userData') throw new Error(`stub getPath(${name})`)
    return userData
  },
  isPackaged: false,
  requestSingleInstanceLock: () => true,
  whenReady: () => Promise.resolve(),
  quit: () => {
    report.quit ??= 'quit'
    appEmitter.emit('will-quit')
  },
  exit: (code) => {
    report.quit = `exit ${code}`
  },
})

export const ipcMain = {
  handle(channel, handler) {
    if (handlers.has(channel)) throw new Error(`second handler for ${channel}`)
    handlers.set(channel, handler)
    report.handlers.push(channel)
  },
  removeHandler(channel) {
    handlers.delete(channel)
  },
}

export const session = {
  defaultSession: {
    setPermissionRequestHandler(handler) {
      handler(null, 'media', (granted) => (report.session.permissionRequestGranted = granted))
    },
    setPermissionCheckHandler(handler) {
      report.session.permissionCheck = handler(null, 'notifications')
    },
    webRequest: {
      onHeadersReceived(handler) {
        handler({ responseHeaders: {} }, ({ responseHeaders }) => (report.session.csp = responseHeaders['Content-Security-Policy']))
      },
    },
  },
}

export const dialog = { showOpenDialog: async () => ({ canceled: true, filePaths: [] }) }
export const shell = { showItemInFolder: (path) => (report.shownInFolder = path) }
export const Menu = {
  buildFromTemplate: (template) => template,
  setApplicationMenu: (menu) => {
    report.menuInstalled = true
    report.menu = menu.map((item) => ({ label: item.label, role: item.role, submenu: Array.isArray(item.submenu) ? item.submenu.map((sub) => sub.label ?? sub.role ?? sub.type) : undefined }))
    // Each installed menu in turn: the File items that are disabled in it.
    const file = menu.find((item) => item.label === 'File')
    report.menus.push({ disabled: (Array.isArray(file?.submenu) ? file.submenu : []).filter((sub) => sub.enabled === false).map((sub) => sub.label) })
  },
}
// One 1920×1080 display, or the work areas in $LECTERN_STUB_DISPLAYS (JSON).
const displays = process.env.LECTERN_STUB_DISPLAYS ? JSON.parse(process.env.LECTERN_STUB_DISPLAYS) : [{ x: 0, y: 0, width: 1920, height: 1080 }]
export const screen = { getAllDisplays: () => displays.map((workArea) => ({ workArea, bounds: workArea })) }

async function drive() {
  while (!handlers.has('api:getAppInfo') || BrowserWindow.all.length === 0) await new Promise((r) => setTimeout(r, 10))
  const window = BrowserWindow.all[0]
  const contents = window.webContents
  const trusted = { sender: contents, senderFrame: contents.mainFrame }
  const call = (channel, request, event = trusted) => handlers.get(channel)(event, request)

  const blocked = { preventDefault: () => (blocked.prevented = true), prevented: false }
  contents.emit('will-navigate', blocked, 'https://example.com/')
  const allowed = { preventDefault: () => (allowed.prevented = true), prevented: false }
  contents.emit('will-navigate', allowed, contents.mainFrame.url)
  report.lockDown = { externalNavigationPrevented: blocked.prevented, ownPagePrevented: allowed.prevented, windowOpen: contents.windowOpenHandler?.({ url: 'https://example.com' }) }

  report.calls.appInfo = await call('api:getAppInfo', undefined)
  report.calls.foreignFrame = await call('api:getAppInfo', undefined, { sender: contents, senderFrame: { url: 'https://evil.example/' } })
  report.calls.badRequest = await call('api:openProject', { dir: 42 })
  report.calls.create = await call('api:createProject', { dir: projectDir, name: 'Bundle smoke' })
  const started = await call('api:startJob', { kind: 'demo', params: { steps: 3, stepMs: 5 } })
  report.calls.start = started
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    const job = await call('api:getJob', { jobId: started.value.id })
    if (job.value.state !== 'queued' && job.value.state !== 'running') {
      report.calls.finished = job
      break
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  // The user closes the window, then the app quits (the window state is saved on close).
  window.emit('close', { preventDefault() {} })
  const quitEvent = { defaultPrevented: false, preventDefault: () => (quitEvent.defaultPrevented = true) }
  app.emit('before-quit', quitEvent)
  report.beforeQuitPrevented = quitEvent.defaultPrevented
  await new Promise((resolve) => appEmitter.once('will-quit', resolve))
  writeFileSync(process.env.LECTERN_STUB_REPORT, JSON.stringify(report, null, 2))
  process.exit(0)
}

void drive().catch((error) => {
  writeFileSync(process.env.LECTERN_STUB_REPORT, JSON.stringify({ ...report, failure: String(error?.stack ?? error) }, null, 2))
  process.exit(1)
})
