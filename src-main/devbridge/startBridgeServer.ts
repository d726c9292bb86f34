import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ApiEventBus } from '../core/app/ApiEventBus.js'
import type { ApiHandlers } from '../shared/api.js'
import { bridgeMiddleware, type Middleware } from './bridgeMiddleware.js'
import { serveStatic } from './serveStatic.js'

export interface BridgeServer {
  url: string
  server: Server
  close(): Promise<void>
}

export interface BridgeServerOptions {
  handlers: ApiHandlers
  events: ApiEventBus
  /** Built renderer to serve beside the API (out/renderer). */
  staticDir?: string
  /** Defaults to `0` (any free port). */
  port?: number
}

/** The development bridge as a plain HTTP server on 127.0.0.1: the API plus, optionally, a built renderer. */
export async function startBridgeServer(options: BridgeServerOptions): Promise<BridgeServer> {
  const chain: Middleware[] = [bridgeMiddleware(options.handlers, options.events)]
  if (options.staticDir) chain.push(serveStatic(options.staticDir))
  const server = createServer((req, res) => {
    const run = (index: number): void => {
      const middleware = chain[index]
      if (!middleware) {
        res.writeHead(404, { 'content-type': 'text/plain' })
        res.end('Not found')
        return
      }
      middleware(req, res, () => run(index + 1))
    }
    run(0)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
