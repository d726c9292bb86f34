import { request } from 'node:http'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createServices, type Services } from '../../../src-main/core/services.js'
import { sourceJobWorker } from '../../../src-main/devbridge/sourceJobWorker.js'
import { startBridgeServer, type BridgeServer } from '../../../src-main/devbridge/startBridgeServer.js'
import { createHandlers } from '../../../src-main/ipc/handlers.js'
import { useTempDirs } from '../../support/tempDir.js'

const tempDir = useTempDirs()
const open: { services: Services; bridge: BridgeServer }[] = []
afterEach(async () => {
  for (const { services, bridge } of open.splice(0)) {
    await bridge.close()
    await services.dispose()
  }
})

async function startBridge(): Promise<{ services: Services; bridge: BridgeServer; base: string }> {
  const base = await tempDir()
  const services = await createServices({ appDataDir: join(base, 'appData'), shell: 'browser-bridge', jobWorker: sourceJobWorker() })
  const bridge = await startBridgeServer({ handlers: createHandlers(services), events: services.events })
  open.push({ services, bridge })
  return { services, bridge, base }
}

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => (text += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('development bridge over HTTP', () => {
  it('answers contract calls with the same envelopes as IPC', async () => {
    const { bridge, base } = await startBridge()
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(await post(`${bridge.url}/api/getAppInfo`, '{}')).toMatchObject({ status: 200, json: { ok: true, value: { shell: 'browser-bridge' } } })
    const dir = join(base, 'p')
    expect(await post(`${bridge.url}/api/createProject`, JSON.stringify({ request: { dir, name: 'Over HTTP' } }))).toMatchObject({
      json: { ok: true, value: { dir, name: 'Over HTTP' } },
    })
    expect(await post(`${bridge.url}/api/openProject`, JSON.stringify({ request: { dir: join(base, 'missing') } }))).toMatchObject({
      json: { ok: false, error: { code: 'not_found' } },
    })
    expect(await post(`${bridge.url}/api/dropTables`, '{}')).toMatchObject({ json: { ok: false, error: { code: 'unknown_method' } } })
    expect(await post(`${bridge.url}/api/getAppInfo`, '{not json')).toMatchObject({ status: 400, json: { ok: false } })
  })

  it('refuses cross-origin calls, foreign Host headers and non-JSON posts', async () => {
    const { bridge } = await startBridge()
    expect((await post(`${bridge.url}/api/getAppInfo`, '{}', { origin: 'https://evil.example' })).status).toBe(403)
    expect((await post(`${bridge.url}/api/getAppInfo`, '{}', { host: 'evil.example' })).status).toBe(403)
    expect((await post(`${bridge.url}/api/getAppInfo`, '{}', { 'content-type': 'text/plain' })).status).toBe(415)
    expect((await post(`${bridge.url}/api/getAppInfo`, '{}', { origin: bridge.url })).status).toBe(200)
  })

  it('streams contract events as server-sent events', async () => {
    const { bridge, base } = await startBridge()
    const received: { event: string; payload: { name?: string } }[] = []
    const controller = new AbortController()
    const response = await fetch(`${bridge.url}/api/events`, { signal: controller.signal })
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    const reader = response.body!.getReader()
    await post(`${bridge.url}/api/createProject`, JSON.stringify({ request: { dir: join(base, 'p'), name: 'Streamed' } }))
    let buffer = ''
    while (!received.some((e) => e.event === 'onProjectChanged')) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += new TextDecoder().decode(value)
      for (const block of buffer.split('\n\n').slice(0, -1)) {
        const data = block.split('\n').find((l) => l.startsWith('data: '))
        if (data) received.push(JSON.parse(data.slice(6)))
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n\n') + 2)
    }
    controller.abort()
    expect(received.find((e) => e.event === 'onProjectChanged')?.payload.name).toBe('Streamed')
  })
})
