import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron'
import { API_METHODS, IPC_EVENT_CHANNEL, ipcChannelFor, type ApiHandlers, type ApiResponse } from '../shared/api.js'
import type { ApiEventBus } from '../core/app/ApiEventBus.js'
import { dispatch } from '../ipc/handlers.js'

export interface IpcWiringOptions {
  /** Whether the sender is our own window's main frame showing one of our pages. */
  isTrustedSender(event: IpcMainInvokeEvent): boolean
  /** The web contents that receive contract events. */
  eventTargets(): WebContents[]
}

/**
 * Registers exactly one `ipcMain.handle` per contract method, each refusing foreign senders and validating
 * its request through `dispatch`, and forwards contract events to our windows. Returns an unwire function.
 */
export function wireIpc(ipcMain: IpcMain, handlers: ApiHandlers, events: ApiEventBus, options: IpcWiringOptions): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(ipcChannelFor(method), async (event, request: unknown): Promise<ApiResponse> => {
      if (!options.isTrustedSender(event)) {
        return { ok: false, error: { code: 'invalid_argument', message: 'Request refused: it did not come from a Lectern window' } }
      }
      return dispatch(handlers, method, request)
    })
  }
  const unsubscribe = events.subscribe((event, payload) => {
    for (const contents of options.eventTargets()) {
      if (!contents.isDestroyed()) contents.send(IPC_EVENT_CHANNEL, event, payload)
    }
  })
  return () => {
    unsubscribe()
    for (const method of API_METHODS) ipcMain.removeHandler(ipcChannelFor(method))
  }
}
