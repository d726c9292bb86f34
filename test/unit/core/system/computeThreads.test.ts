import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import { SettingsStore } from '../../../../src-main/core/app/SettingsStore.js'
import { autoComputeThreads, resolveComputeThreads } from '../../../../src-main/core/system/hardwareReport.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

describe('compute threads for jobs', () => {
  it("'auto' leaves one core for the UI and the main process, and never goes below one thread", () => {
    expect([1, 2, 3, 4, 8, 16].map((cores) => autoComputeThreads(cores))).toEqual([1, 1, 2, 3, 7, 15])
    expect(resolveComputeThreads('auto')).toBe(autoComputeThreads(availableParallelism()))
  })

  it('takes a number the user set as it is, even above the core count', () => {
    expect(resolveComputeThreads(1)).toBe(1)
    expect(resolveComputeThreads(availableParallelism() + 4)).toBe(availableParallelism() + 4)
  })

  it('gives jobs the threads of the saved setting, and the auto rule by default', async () => {
    const appDataDir = await tempDir()
    const store = await SettingsStore.load(appDataDir, () => {})
    expect(store.effectiveThreads()).toBe(autoComputeThreads())
    await store.update({ computeThreads: 3 })
    expect(store.effectiveThreads()).toBe(3)
    expect((await SettingsStore.load(appDataDir, () => {})).effectiveThreads()).toBe(3)
  })
})
