import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron'
import { IPC_EVENT_CHANNEL, ipcChannelFor, isApiEventName, isApiMethod, type ApiResponse, type ApiTransport } from '../shared/api.js'

/**
 * Exposes the contract's transport as `window.lecternBridge` (plus the path of a dropped file): only contract methods can
 * be invoked and only contract events are delivered. The renderer builds its typed client on top of it
 * (src-renderer/src/api.ts), so error codes survive the contextBridge.
 */
const transport: ApiTransport = {
  invoke(method, request): Promise<ApiResponse> {
    if (!isApiMethod(method)) {
      return Promise.resolve({ ok: false, error: { code: 'unknown_method', message: `Unknown API method: ${String(method)}` } })
    }
    return ipcRenderer.invoke(ipcChannelFor(method), request) as Promise<ApiResponse>
  },
  subscribe(listener) {
    const onEvent = (_event: IpcRendererEvent, name: unknown, payload: unknown): void => {
      if (isApiEventName(name)) listener(name, payload)
    }
    ipcRenderer.on(IPC_EVENT_CHANNEL, onEvent)
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, onEvent)
    }
  },
}

contextBridge.exposeInMainWorld('lecternBridge', transport)

// Sandboxed pages no longer see `File.path`; dropped files get their paths here, for the Import screen.
contextBridge.exposeInMainWorld('lecternFiles', { pathForFile: (file: File): string => webUtils.getPathForFile(file) })
