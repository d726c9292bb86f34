import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ApiEventBus } from '../core/app/ApiEventBus.js'
import { dispatch } from '../ipc/handlers.js'
import type { ApiHandlers, ApiResponse } from '../shared/api.js'

const MAX_BODY_BYTES = 1024 * 1024
const KEEPALIVE_MS = 15_000

export type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void

/**
 * The contract over HTTP for the development bridge: `POST /api/<method>` with `{"request": …}` answers
 * the same envelope as IPC, and `GET /api/events` streams contract events as Server-Sent Events. Only
 * same-origin requests to a loopback host are served (no CORS, no DNS rebinding).
 */
export function bridgeMiddleware(handlers: ApiHandlers, events: ApiEventBus): Middleware {
  return (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://bridge.invalid')
    if (!url.pathname.startsWith('/api/')) return next()
    if (!isLoopbackRequest(req)) return sendJson(res, 403, refusal('Refused: the development bridge only serves this machine'))
    if (url.pathname === '/api/events' && req.method === 'GET') return streamEvents(res, events)
    if (req.method !== 'POST') return sendJson(res, 405, refusal('Use POST for API calls'))
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return sendJson(res, 415, refusal('API calls must be sent as application/json'))
    }
    const method = decodeURIComponent(url.pathname.slice('/api/'.length))
    void readJsonBody(req).then(
      async (body) => sendJson(res, 200, await dispatch(handlers, method, (body as { request?: unknown } | null)?.request)),
      (error: Error) => sendJson(res, 400, refusal(error.message)),
    )
  }
}

function isLoopbackRequest(req: IncomingMessage): boolean {
  const host = req.headers.host ?? ''
  const hostname = host.replace(/:\d+$/, '')
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) return false
  const origin = req.headers.origin
  return origin === undefined || origin === `http://${host}`
}

function streamEvents(res: ServerResponse, events: ApiEventBus): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
  res.write(': connected\n\n')
  const unsubscribe = events.subscribe((event, payload) => {
    res.write(`data: ${JSON.stringify({ event, payload })}\n\n`)
  })
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS)
  res.on('close', () => {
    clearInterval(keepalive)
    unsubscribe()
  })
}

function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error('Request body too large'))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      try {
        resolve(text === '' ? null : JSON.parse(text))
      } catch {
        reject(new Error('Request body is not valid JSON'))
      }
    })
    req.on('error', reject)
  })
}

function refusal(message: string): ApiResponse {
  return { ok: false, error: { code: 'invalid_argument', message } }
}

function sendJson(res: ServerResponse, status: number, body: ApiResponse): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}
