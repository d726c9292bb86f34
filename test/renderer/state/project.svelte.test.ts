import { describe, expect, it, vi } from 'vitest'
import { ProjectState } from '../../../src-renderer/src/state/project.svelte'
import type { ProjectSummary } from '../../../src-main/shared/types/project'
import { deferred, fakeClient } from '../support/fakeClient'
import { makeProject, makeRecent } from '../support/fixtures'

const contracts = makeProject({ dir: '/p/contracts', name: 'Contracts' })
const afterOpen = [makeRecent({ dir: '/p/contracts', name: 'Contracts' })]

describe('ProjectState', () => {
  it('loads the current project and the recent list on start', async () => {
    const { client } = fakeClient({ getCurrentProject: async () => contracts, listRecentProjects: async () => afterOpen })
    const state = new ProjectState(client)
    expect(state.loaded).toBe(false)
    await state.start()
    expect(state.loaded).toBe(true)
    expect(state.current).toEqual(contracts)
    expect(state.recent).toEqual(afterOpen)
  })

  it('create sets the current project and refreshes the recent list', async () => {
    const createProject = vi.fn(async () => contracts)
    const state = new ProjectState(fakeClient({ createProject, listRecentProjects: async () => afterOpen }).client)
    await expect(state.create('/p/contracts', 'Contracts')).resolves.toBe(true)
    expect(createProject).toHaveBeenCalledWith({ dir: '/p/contracts', name: 'Contracts' })
    expect(state.current).toEqual(contracts)
    expect(state.recent).toEqual(afterOpen)
    expect(state.error).toBeNull()
  })

  it('is busy while open runs, then sets the current project', async () => {
    const opened = deferred<ProjectSummary>()
    const openProject = vi.fn(() => opened.promise)
    const state = new ProjectState(fakeClient({ openProject, listRecentProjects: async () => afterOpen }).client)
    const opening = state.open('/p/contracts')
    expect(state.busy).toBe(true)
    opened.resolve(contracts)
    await expect(opening).resolves.toBe(true)
    expect(openProject).toHaveBeenCalledWith({ dir: '/p/contracts' })
    expect(state.busy).toBe(false)
    expect(state.current).toEqual(contracts)
    expect(state.recent).toEqual(afterOpen)
  })

  it('keeps the current project and sets error text when opening fails', async () => {
    const openProject = vi.fn().mockResolvedValueOnce(contracts).mockRejectedValueOnce(new Error('/p/x is not a Lectern project'))
    const state = new ProjectState(fakeClient({ openProject, listRecentProjects: async () => afterOpen }).client)
    await state.open('/p/contracts')
    await expect(state.open('/p/x')).resolves.toBe(false)
    expect(state.error).toBe('/p/x is not a Lectern project')
    expect(state.current).toEqual(contracts)
    expect(state.busy).toBe(false)
  })

  it('follows onProjectChanged events and refreshes the recent list', async () => {
    const listRecentProjects = vi.fn().mockResolvedValueOnce([]).mockResolvedValueOnce(afterOpen)
    const fake = fakeClient({ getCurrentProject: async () => null, listRecentProjects })
    const state = new ProjectState(fake.client)
    await state.start()
    expect(state.current).toBeNull()

    fake.emit('onProjectChanged', contracts)
    expect(state.current).toEqual(contracts)
    await vi.waitFor(() => expect(state.recent).toEqual(afterOpen))

    fake.emit('onProjectChanged', null)
    expect(state.current).toBeNull()
  })

  it('subscribes once however often start is called', async () => {
    const fake = fakeClient({ getCurrentProject: async () => null, listRecentProjects: async () => [] })
    const state = new ProjectState(fake.client)
    await Promise.all([state.start(), state.start()])
    expect(fake.listenerCount('onProjectChanged')).toBe(1)
  })

  it('close clears the current project', async () => {
    const closeProject = vi.fn(async () => null)
    const fake = fakeClient({ getCurrentProject: async () => contracts, listRecentProjects: async () => afterOpen, closeProject })
    const state = new ProjectState(fake.client)
    await state.start()
    await expect(state.close()).resolves.toBe(true)
    expect(closeProject).toHaveBeenCalledOnce()
    expect(state.current).toBeNull()
  })

  it('tells onSwitch listeners when another project takes the window, not when the same one is reported again', async () => {
    const manuals = makeProject({ dir: '/p/manuals', name: 'Manuals' })
    const fake = fakeClient({ getCurrentProject: async () => contracts, listRecentProjects: async () => afterOpen, openProject: async () => manuals, closeProject: async () => null })
    const state = new ProjectState(fake.client)
    const switches: (string | null)[] = []
    const stop = state.onSwitch((dir) => switches.push(dir))
    await state.start()
    fake.emit('onProjectChanged', { ...contracts, name: 'Contracts (renamed)' })
    await state.open('/p/manuals')
    await state.close()
    stop()
    await state.open('/p/manuals')
    expect(switches).toEqual(['/p/contracts', '/p/manuals', null])
  })
})
