import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { downloadFile } from '../../../../src-main/core/app/downloadFile.js'
import { ModelLibrary } from '../../../../src-main/core/app/ModelLibrary.js'
import { LecternError } from '../../../../src-main/shared/errors.js'
import type { ModelDownload, RecommendedModel } from '../../../../src-main/shared/types/models.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'

let dir: string
let body: Buffer
let sha256: string
let server: Server
let base: string
/** What the server saw, one entry per request. */
let requests: { path: string; range: string | undefined }[] = []
/** Paths whose next response stops half-way (the socket is destroyed). */
const breakOnce = new Set<string>()
/** Paths that send a first slice and then hang until the client goes away. */
const stall = new Set<string>()

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lectern-download-'))
  const tiny = await writeTinyGgufModel(join(dir, 'tiny'), { architecture: 'llama' }, 'Q8_0')
  body = await readFile(tiny.ggufPath)
  sha256 = createHash('sha256').update(body).digest('hex')
  server = createServer((request, response) => {
    const path = request.url ?? '/'
    const range = request.headers.range
    requests.push({ path, range })
    let start = 0
    const match = range === undefined ? null : /^bytes=(\d+)-$/.exec(range)
    if (match) start = Number(match[1])
    if (start >= body.length) {
      response.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end()
      return
    }
    const slice = body.subarray(start)
    response.writeHead(match ? 206 : 200, {
      'Content-Length': String(slice.length),
      'Accept-Ranges': 'bytes',
      ...(match ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    })
    if (breakOnce.delete(path)) {
      response.write(slice.subarray(0, Math.floor(slice.length / 2)), () => setTimeout(() => response.socket?.destroy(), 20))
      return
    }
    if (stall.has(path)) {
      response.write(slice.subarray(0, 4096))
      return
    }
    response.end(slice)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}, 60_000)
afterAll(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
  await rm(dir, { recursive: true, force: true })
})
beforeEach(() => {
  requests = []
})

describe('downloadFile against a local HTTP server', () => {
  it('resumes with a Range request after the connection breaks, and checks the SHA-256', async () => {
    breakOnce.add('/a.gguf')
    const destination = join(dir, 'a.gguf')
    const progress: number[] = []
    const done = await downloadFile(`${base}/a.gguf`, destination, { sha256, progressIntervalMs: 0, onProgress: (p) => progress.push(p.receivedBytes) })
    expect(requests).toHaveLength(2)
    expect(requests[0]!.range).toBeUndefined()
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(requests[1]!.range ?? '')?.[1])
    expect(resumedAt).toBeGreaterThan(0)
    expect(resumedAt).toBeLessThan(body.length)
    expect(done).toMatchObject({ receivedBytes: body.length, totalBytes: body.length, resumedFromBytes: resumedAt })
    expect(progress.at(-1)).toBe(body.length)
    expect((await readFile(destination)).equals(body)).toBe(true)
    expect(existsSync(`${destination}.part`)).toBe(false)
  })

  it('refuses and deletes a download whose SHA-256 is wrong', async () => {
    const destination = join(dir, 'b.gguf')
    const error = await downloadFile(`${base}/b.gguf`, destination, { sha256: '0'.repeat(64) }).then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(LecternError)
    expect((error as LecternError).code).toBe('verification_failed')
    expect((error as LecternError).message).toContain(sha256)
    expect(existsSync(destination)).toBe(false)
    expect(existsSync(`${destination}.part`)).toBe(false)
  })
})

describe('ModelLibrary downloads', () => {
  const recommended = (id: string, hash: string | null): RecommendedModel => ({
    id,
    name: id,
    description: '',
    url: `${base}/${id}.gguf`,
    fileName: `${id}.gguf`,
    sizeBytes: body.length,
    sha256: hash,
    roles: ['generator'],
    license: 'test',
    source: 'test',
  })

  it('is cancelled mid-way, then resumes from the partial file and adds the model', async () => {
    let offline = false
    const events: ModelDownload[] = []
    const models = await ModelLibrary.load(join(dir, 'app'), {
      isOffline: () => offline,
      warn: () => undefined,
      recommended: [recommended('c', sha256)],
      onDownload: (d) => events.push(d),
      progressIntervalMs: 0,
    })
    stall.add('/c.gguf')
    models.startDownload('c')
    await expect.poll(() => events.at(-1)?.receivedBytes ?? 0).toBeGreaterThan(0)
    models.cancelDownload('c')
    expect(await models.settled('c')).toMatchObject({ status: 'cancelled' })
    const kept = (await stat(join(dir, 'app', 'models', 'c.gguf.part'))).size
    expect(kept).toBeGreaterThan(0)

    stall.delete('/c.gguf')
    offline = true
    expect(() => models.startDownload('c')).toThrow(/offline/i)
    offline = false
    models.startDownload('c')
    const finished = await models.settled('c')
    expect(finished).toMatchObject({ status: 'succeeded', resumedFromBytes: kept, receivedBytes: body.length })
    expect(requests.at(-1)!.range).toBe(`bytes=${kept}-`)
    const [model] = await models.list()
    expect(model).toMatchObject({ id: finished!.modelId, recommendedId: 'c', roles: ['generator'], status: 'ok' })
    expect(models.recommended()[0]).toMatchObject({ id: 'c', modelId: model!.id })
  })

  it('reports a wrong checksum as a failed download and adds nothing', async () => {
    const models = await ModelLibrary.load(join(dir, 'app-bad'), { isOffline: () => false, warn: () => undefined, recommended: [recommended('d', 'f'.repeat(64))] })
    models.startDownload('d')
    const end = await models.settled('d')
    expect(end?.status).toBe('failed')
    expect(end?.error).toContain('SHA-256')
    expect(await models.list()).toEqual([])
  })
})
