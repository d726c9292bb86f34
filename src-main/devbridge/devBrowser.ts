/**
 * `npm run dev:browser`: the renderer in a normal browser with hot reload, talking to the real handlers
 * over HTTP on 127.0.0.1. For development only; nothing here is bundled into the app.
 */
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { createServer, type Plugin } from 'vite'
import { createServices } from '../core/services.js'
import { createHandlers } from '../ipc/handlers.js'
import { bridgeMiddleware } from './bridgeMiddleware.js'
import { sourceJobWorker } from './sourceJobWorker.js'

const repoRoot = resolve(import.meta.dirname, '../..')
const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, port: { type: 'string' } } })
const appDataDir = resolve(values['data-dir'] ?? resolve(repoRoot, '.lectern-dev'))
await mkdir(appDataDir, { recursive: true })

const services = await createServices({ appDataDir, shell: 'browser-bridge', jobWorker: sourceJobWorker() })
const handlers = createHandlers(services)

const bridgePlugin: Plugin = {
  name: 'lectern-dev-bridge',
  configureServer(server) {
    server.middlewares.use(bridgeMiddleware(handlers, services.events))
  },
  transformIndexHtml(html) {
    return {
      // Vite's hot reload injects inline styles and a websocket, which the app's strict CSP forbids.
      html: html.replace(/<meta\s+http-equiv="Content-Security-Policy"[^>]*>/, ''),
      tags: [
        {
          tag: 'script',
          attrs: { type: 'module', src: `/@fs${resolve(repoRoot, 'src-main/devbridge/browser/installHttpBridge.ts')}` },
          injectTo: 'head-prepend',
        },
      ],
    }
  },
}

const server = await createServer({
  configFile: false,
  root: resolve(repoRoot, 'src-renderer'),
  plugins: [svelte({ configFile: resolve(repoRoot, 'svelte.config.js') }), bridgePlugin],
  server: { host: '127.0.0.1', port: Number(values.port ?? 5174), fs: { allow: [repoRoot] } },
})
await server.listen()
server.printUrls()
console.log(`  App data: ${appDataDir}`)

const shutdown = async (): Promise<void> => {
  await server.close()
  await services.dispose()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown())
process.on('SIGTERM', () => void shutdown())
