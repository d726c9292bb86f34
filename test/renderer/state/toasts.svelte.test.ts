import { describe, expect, it } from 'vitest'
import { LecternError } from '../../../src-main/shared/errors'
import { ToastsState } from '../../../src-renderer/src/state/toasts.svelte'
import { fakeClient } from '../support/fakeClient'
import { makeJob } from '../support/fixtures'

describe('ToastsState', () => {
  it('keeps code, file and detail of a contract error, and makes anything else internal with its stack', () => {
    const state = new ToastsState(fakeClient({}).client)
    state.pushError(new LecternError('io', 'Disk full writing /p/x.bin', { file: '/p/x.bin', detail: 'ENOSPC' }))
    state.pushError(new TypeError('x is undefined'))
    expect(state.toasts.map((t) => [t.code, t.message, t.file, t.detail?.split('\n')[0]])).toEqual([
      ['io', 'Disk full writing /p/x.bin', '/p/x.bin', 'ENOSPC'],
      ['internal', 'x is undefined', null, 'TypeError: x is undefined'],
    ])
  })

  it('counts a repeat instead of stacking a duplicate, and dismisses by id', () => {
    const state = new ToastsState(fakeClient({}).client)
    const first = state.push({ code: 'io', message: 'same' })
    expect(state.push({ code: 'io', message: 'same' })).toBe(first)
    state.push({ code: 'io', message: 'other' })
    expect(state.toasts.map((t) => [t.message, t.count])).toEqual([['same', 2], ['other', 1]])
    state.dismiss(first)
    expect(state.toasts.map((t) => t.message)).toEqual(['other'])
  })

  it('keeps at most five toasts, dropping the oldest', () => {
    const state = new ToastsState(fakeClient({}).client)
    for (let i = 0; i < 7; i++) state.push({ code: 'io', message: `m${i}` })
    expect(state.toasts.map((t) => t.message)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6'])
  })

  it('shows a failed job from onJobUpdate once per attempt, even after dismissal, and stops following', () => {
    const fake = fakeClient({})
    const state = new ToastsState(fake.client)
    const stop = state.followJobFailures()
    fake.emit('onJobUpdate', makeJob({ id: '4', state: 'running', attempts: 1 }))
    expect(state.toasts).toHaveLength(0)
    const failed = makeJob({ id: '4', label: 'Train', state: 'failed', attempts: 1, error: { code: 'io', message: 'Disk full', file: '/p/ckpt.bin' } })
    fake.emit('onJobUpdate', failed)
    expect(state.toasts).toMatchObject([{ title: 'Train failed', code: 'io', message: 'Disk full', file: '/p/ckpt.bin', count: 1 }])
    state.dismiss(state.toasts[0]!.id)
    fake.emit('onJobUpdate', failed)
    expect(state.toasts).toHaveLength(0)
    fake.emit('onJobUpdate', { ...failed, attempts: 2 })
    expect(state.toasts).toHaveLength(1)
    stop()
    expect(fake.listenerCount('onJobUpdate')).toBe(0)
  })
})
