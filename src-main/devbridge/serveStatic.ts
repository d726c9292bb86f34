import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import type { Middleware } from './bridgeMiddleware.js'

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
}

/** Serves a built renderer folder (out/renderer) read-only; paths cannot leave `root`. */
export function serveStatic(root: string): Middleware {
  const base = normalize(root + sep)
  return (req, res, next) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://static.invalid').pathname)
    const file = normalize(join(base, pathname === '/' ? 'index.html' : pathname))
    if (!file.startsWith(base) || (req.method !== 'GET' && req.method !== 'HEAD')) return next()
    void stat(file).then(
      (s) => {
        if (!s.isFile()) return next()
        res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': s.size })
        if (req.method === 'HEAD') res.end()
        else createReadStream(file).pipe(res)
      },
      () => next(),
    )
  }
}
