import { describe, expect, it, vi } from 'vitest'
import { dispatch } from '../../../src-main/ipc/handlers.js'
import { API_METHODS, type ApiHandlers } from '../../../src-main/shared/api.js'
import { LecternError } from '../../../src-main/shared/errors.js'

/** Handlers that record what they received; every method answers `{ method, request }`. */
function recordingHandlers(): { handlers: ApiHandlers; received: unknown[] } {
  const received: unknown[] = []
  const handlers = Object.fromEntries(
    API_METHODS.map((method) => [
      method,
      async (request: unknown) => {
        received.push(request)
        return { method, request }
      },
    ]),
  ) as unknown as ApiHandlers
  return { handlers, received }
}

describe('dispatch', () => {
  it('passes a valid request to its handler and wraps the value', async () => {
    const { handlers } = recordingHandlers()
    const response = await dispatch(handlers, 'createProject', { dir: ' /tmp/x ', name: 'Contracts' })
    expect(response).toEqual({ ok: true, value: { method: 'createProject', request: { dir: '/tmp/x', name: 'Contracts' } } })
  })

  it('applies defaults of job parameters', async () => {
    const { handlers, received } = recordingHandlers()
    await dispatch(handlers, 'startJob', { kind: 'demo' })
    expect(received[0]).toEqual({ kind: 'demo', params: { steps: 50, stepMs: 100 } })
  })

  it.each([
    ['createProject', { dir: '', name: 'x' }, /dir: a folder path is required/],
    ['createProject', { dir: '/x' }, /name/],
    ['createProject', { dir: '/x', name: 'n', extra: 1 }, /extra/],
    ['openProject', 'not an object', /Invalid request for openProject/],
    ['getAppInfo', { sneaky: true }, /Invalid request for getAppInfo/],
    ['startJob', { kind: 'rm -rf', params: {} }, /kind/],
    ['startJob', { kind: 'demo', params: { steps: -1 } }, /params\.steps/],
    ['updateSettings', { computeThreads: 0 }, /computeThreads/],
    ['listJobs', { limit: 1.5 }, /limit/],
  ])('refuses %s with %j', async (method, request, message) => {
    const { handlers, received } = recordingHandlers()
    const response = await dispatch(handlers, method, request)
    expect(response.ok).toBe(false)
    if (!response.ok) {
      expect(response.error.code).toBe('invalid_argument')
      expect(response.error.message).toMatch(message)
    }
    expect(received).toEqual([])
  })

  it('refuses names outside the contract, including inherited properties', async () => {
    const { handlers } = recordingHandlers()
    for (const name of ['deleteEverything', 'constructor', '__proto__', 42]) {
      const response = await dispatch(handlers, name, undefined)
      expect(response).toMatchObject({ ok: false, error: { code: 'unknown_method' } })
    }
  })

  it('turns a LecternError into its envelope and anything else into internal, reporting it', async () => {
    const { handlers } = recordingHandlers()
    handlers.openProject = async () => {
      throw new LecternError('not_a_project', '/p/project.db not found', { file: '/p/project.db' })
    }
    handlers.getAppInfo = async () => {
      throw new TypeError('boom')
    }
    const onInternalError = vi.fn()
    expect(await dispatch(handlers, 'openProject', { dir: '/p' }, { onInternalError })).toEqual({
      ok: false,
      error: { code: 'not_a_project', message: '/p/project.db not found', file: '/p/project.db' },
    })
    expect(onInternalError).not.toHaveBeenCalled()
    expect(await dispatch(handlers, 'getAppInfo', undefined, { onInternalError })).toEqual({
      ok: false,
      error: { code: 'internal', message: 'Internal error: boom' },
    })
    expect(onInternalError).toHaveBeenCalledWith('getAppInfo', expect.any(TypeError))
  })
})
