import { describe, expect, it } from 'vitest'
import { API_EVENTS, API_METHODS, createApiClient, type ApiEventName, type ApiResponse, type ApiTransport } from '../../../src-main/shared/api.js'
import { requestSchemas } from '../../../src-main/shared/apiSchemas.js'
import { LecternError } from '../../../src-main/shared/errors.js'

function fakeTransport(answer: (method: string, request: unknown) => ApiResponse) {
  const calls: { method: string; request: unknown }[] = []
  const listeners = new Set<(event: ApiEventName, payload: unknown) => void>()
  const transport: ApiTransport = {
    invoke: async (method, request) => {
      calls.push({ method, request })
      return answer(method, request)
    },
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  return { transport, calls, listeners, fire: (event: ApiEventName, payload: unknown) => listeners.forEach((l) => l(event, payload)) }
}

describe('createApiClient', () => {
  it('has one method per contract method, and the schema table covers exactly the same names', () => {
    const client = createApiClient(fakeTransport(() => ({ ok: true, value: null })).transport)
    for (const method of API_METHODS) expect(typeof client[method]).toBe('function')
    expect(Object.keys(requestSchemas).sort()).toEqual([...API_METHODS].sort())
  })

  it('forwards the method name and request, and resolves the value', async () => {
    const fake = fakeTransport((method) => ({ ok: true, value: `answer to ${method}` }))
    const client = createApiClient(fake.transport)
    await expect(client.openProject({ dir: '/x' })).resolves.toBe('answer to openProject')
    expect(fake.calls).toEqual([{ method: 'openProject', request: { dir: '/x' } }])
  })

  it('rethrows an error envelope as a LecternError keeping code and file', async () => {
    const fake = fakeTransport(() => ({ ok: false, error: { code: 'project_corrupt', message: 'bad db', file: '/p/project.db' } }))
    const error = await createApiClient(fake.transport).openProject({ dir: '/p' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LecternError)
    expect(error).toMatchObject({ code: 'project_corrupt', message: 'bad db', file: '/p/project.db' })
  })

  it('subscribes to the transport on first listener, routes events by name, and unsubscribes after the last', () => {
    const fake = fakeTransport(() => ({ ok: true, value: null }))
    const client = createApiClient(fake.transport)
    expect(fake.listeners.size).toBe(0)
    const updates: unknown[] = []
    const logs: unknown[] = []
    const offUpdate = client.on('onJobUpdate', (job) => updates.push(job.id))
    const offLog = client.on('onJobLog', ({ jobId }) => logs.push(jobId))
    expect(fake.listeners.size).toBe(1)
    fake.fire('onJobUpdate', { id: '7' })
    fake.fire('onJobLog', { jobId: '8', line: {} })
    expect(updates).toEqual(['7'])
    expect(logs).toEqual(['8'])
    offUpdate()
    expect(fake.listeners.size).toBe(1)
    offLog()
    expect(fake.listeners.size).toBe(0)
  })

  it('lists every event name once', () => {
    expect(new Set(API_EVENTS).size).toBe(API_EVENTS.length)
    for (const name of API_EVENTS) expect(name).toMatch(/^on[A-Z]/)
  })
})
