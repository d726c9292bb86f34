import { describe, expect, it, vi } from 'vitest'
import { SettingsState } from '../../../src-renderer/src/state/settings.svelte'
import type { AppInfo } from '../../../src-main/shared/types/app'
import { fakeClient } from '../support/fakeClient'
import { makeHardware } from '../support/fixtures'

const appInfo: AppInfo = { name: 'Lectern', version: '0.1.0', shell: 'browser-bridge', platform: 'linux', arch: 'x64', versions: { node: '20' } }

describe('SettingsState', () => {
  it('loads settings, hardware and app info', async () => {
    const state = new SettingsState(
      fakeClient({ getSettings: async () => ({ computeThreads: 'auto', offline: true }), getHardwareReport: async () => makeHardware(), getAppInfo: async () => appInfo }).client,
    )
    await state.load()
    expect(state.settings).toEqual({ computeThreads: 'auto', offline: true })
    expect(state.hardware?.cpuModel).toBe('Test CPU 9000')
    expect(state.appInfo).toEqual(appInfo)
  })

  it('saves a patch and re-reads the hardware report for the new effective threads', async () => {
    const updateSettings = vi.fn(async () => ({ computeThreads: 2, offline: true }))
    const state = new SettingsState(fakeClient({ updateSettings, getHardwareReport: async () => makeHardware({ effectiveThreads: 2 }) }).client)
    await state.update({ computeThreads: 2 })
    expect(updateSettings).toHaveBeenCalledWith({ computeThreads: 2 })
    expect(state.settings).toEqual({ computeThreads: 2, offline: true })
    expect(state.hardware?.effectiveThreads).toBe(2)
    expect(state.saving).toBe(false)
  })

  it('turns a failed save into error text', async () => {
    const state = new SettingsState(fakeClient({ updateSettings: async () => Promise.reject(new Error('computeThreads must be at most 512')) }).client)
    await state.update({ computeThreads: 999 })
    expect(state.error).toBe('computeThreads must be at most 512')
    expect(state.saving).toBe(false)
  })
})
