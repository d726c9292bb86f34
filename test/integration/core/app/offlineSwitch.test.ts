import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServices, type Services } from '../../../../src-main/core/services.js'
import { sourceJobWorker } from '../../../../src-main/devbridge/sourceJobWorker.js'
import { createHandlers, dispatch } from '../../../../src-main/ipc/handlers.js'
import type { ApiHandlers } from '../../../../src-main/shared/api.js'

let dir: string
let services: Services
let handlers: ApiHandlers
let server: Server
/** Requests the endpoint received: it must stay at zero while offline. */
let endpointHits = 0
let base: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lectern-offline-'))
  server = createServer((request, response) => {
    endpointHits++
    if (request.url?.endsWith('.gguf')) {
      response.writeHead(200, { 'Content-Length': '1000000' })
      response.write(Buffer.alloc(1000))
      return // hangs, so the download is running when the switch is turned on
    }
    response.writeHead(500).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  services = await createServices({
    appDataDir: join(dir, 'app'),
    shell: 'browser-bridge',
    jobWorker: sourceJobWorker(),
    warn: () => undefined,
    recommendedModels: [{ id: 'slow', name: 'Slow', description: '', url: `${base}/slow.gguf`, fileName: 'slow.gguf', sizeBytes: 1_000_000, sha256: null, roles: ['generator'], license: 'test', source: 'test' }],
  })
  handlers = createHandlers(services)
  await handlers.createProject({ dir: join(dir, 'project'), name: 'Offline' })
})
afterAll(async () => {
  await services?.dispose()
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

const endpointJob = () => ({
  kind: 'comprehend',
  params: { mode: 'llm', endpoint: `${base}/v1`, endpointModel: 'm' },
})

describe('the offline switch', () => {
  it('is on by default, and a settings file from before the switch reads as offline', async () => {
    expect((await handlers.getSettings(undefined)).offline).toBe(true)
    const appData = join(dir, 'old-app')
    await rm(appData, { recursive: true, force: true })
    await import('node:fs/promises').then((fs) => fs.mkdir(appData, { recursive: true }))
    await writeFile(join(appData, 'settings.json'), JSON.stringify({ computeThreads: 2 }))
    const old = await createServices({ appDataDir: appData, shell: 'cli', jobWorker: sourceJobWorker(), warn: () => undefined, recommendedModels: [] })
    expect(old.settings.get()).toEqual({ computeThreads: 2, offline: true })
    await old.dispose()
  })

  it('refuses an endpoint comprehension job and a download while offline, without touching the network', async () => {
    const job = await dispatch(handlers, 'startJob', endpointJob())
    expect(job).toMatchObject({ ok: false, error: { code: 'offline' } })
    expect(job.ok ? '' : job.error.message).toContain('will not contact the OpenAI-compatible endpoint')
    const download = await dispatch(handlers, 'downloadModel', { recommendedId: 'slow' })
    expect(download).toMatchObject({ ok: false, error: { code: 'offline' } })
    expect(endpointHits).toBe(0)
  })

  it('a patch without `offline` leaves it as it is', async () => {
    await handlers.updateSettings({ offline: false })
    expect((await handlers.updateSettings({ computeThreads: 1 })).offline).toBe(false)
    expect(JSON.parse(await readFile(join(dir, 'app', 'settings.json'), 'utf8'))).toEqual({ computeThreads: 1, offline: false })
  })

  it('turning it on stops a running download, and an endpoint job cannot be resumed while offline', async () => {
    await handlers.updateSettings({ offline: false })
    const started = await handlers.downloadModel({ recommendedId: 'slow' })
    expect(started.status).toBe('running')
    const job = await handlers.startJob(endpointJob() as never)
    await expect.poll(() => endpointHits).toBeGreaterThan(0)
    await handlers.updateSettings({ offline: true })
    expect(await services.models.settled('slow')).toMatchObject({ status: 'cancelled' })
    await expect.poll(async () => (await handlers.getJob({ jobId: job.id })).state, { timeout: 20_000 }).toMatch(/cancelled|failed/)
    const resumed = await dispatch(handlers, 'resumeJob', { jobId: job.id })
    expect(resumed).toMatchObject({ ok: false, error: { code: 'offline' } })
  })
})
