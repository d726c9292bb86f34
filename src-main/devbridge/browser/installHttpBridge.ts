/**
 * Browser stand-in for the preload: defines `window.lecternBridge` over HTTP + Server-Sent Events, so the
 * renderer runs unchanged in a normal browser against the real handlers. Development and tests only.
 */
import { isApiEventName, type ApiResponse, type ApiTransport } from '../../shared/api.js'

const transport: ApiTransport = {
  async invoke(method, request): Promise<ApiResponse> {
    try {
      const response = await fetch(`/api/${encodeURIComponent(method)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ request }),
      })
      return (await response.json()) as ApiResponse
    } catch (error) {
      return { ok: false, error: { code: 'io', message: `Cannot reach the Lectern bridge: ${(error as Error).message}` } }
    }
  },
  subscribe(listener) {
    const source = new EventSource('/api/events')
    source.onmessage = (message: MessageEvent<string>) => {
      const { event, payload } = JSON.parse(message.data) as { event: unknown; payload: unknown }
      if (isApiEventName(event)) listener(event, payload)
    }
    return () => source.close()
  },
}

Object.defineProperty(window, 'lecternBridge', { value: transport, writable: false, configurable: false })
