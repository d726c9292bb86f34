import { render, screen, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import ProjectPicker from '../../../../src-renderer/src/screens/ProjectPicker/ProjectPicker.svelte'
import type { RecentProject } from '../../../../src-main/shared/types/project'
import { makeRecent } from '../../support/fixtures'

function renderPicker(options: { recent?: RecentProject[]; error?: string; browseResult?: string | null; canBrowse?: boolean } = {}) {
  const handlers = {
    onCreate: vi.fn(),
    onOpen: vi.fn(),
    onForget: vi.fn(),
    onBrowse: vi.fn(async () => options.browseResult ?? null),
  }
  render(ProjectPicker, { recent: options.recent ?? [], busy: false, error: options.error ?? null, ...handlers, ...(options.canBrowse === undefined ? {} : { canBrowse: options.canBrowse }) })
  return handlers
}

const createForm = (): HTMLElement => screen.getByRole('form', { name: 'Create a project' })
const openForm = (): HTMLElement => screen.getByRole('form', { name: 'Open a project' })

describe('ProjectPicker', () => {
  it('enables Create only once name and folder are filled, and creates with trimmed values', async () => {
    const { onCreate } = renderPicker()
    const form = within(createForm())
    const create = form.getByRole('button', { name: 'Create project' })
    expect(create).toBeDisabled()

    await userEvent.type(form.getByRole('textbox', { name: 'Name' }), '  Contracts 2026 ')
    expect(create).toBeDisabled()
    await userEvent.type(form.getByRole('textbox', { name: 'Folder' }), '   ')
    expect(create).toBeDisabled()
    await userEvent.type(form.getByRole('textbox', { name: 'Folder' }), '/home/me/contracts ')
    expect(create).toBeEnabled()

    await userEvent.click(create)
    expect(onCreate).toHaveBeenCalledWith('/home/me/contracts', 'Contracts 2026')
  })

  it('fills the folder from the value Browse… resolves', async () => {
    const chosen = renderPicker({ browseResult: '/chosen/dir' })
    await userEvent.click(within(createForm()).getByRole('button', { name: 'Browse…' }))
    expect(chosen.onBrowse).toHaveBeenCalledWith('Choose a folder for the new project')
    expect(within(createForm()).getByRole('textbox', { name: 'Folder' })).toHaveValue('/chosen/dir')
  })

  it('offers no Browse… where there is no native folder picker', () => {
    renderPicker({ canBrowse: false })
    expect(screen.queryByRole('button', { name: 'Browse…' })).toBeNull()
    expect(within(createForm()).getByRole('textbox', { name: 'Folder' })).toBeInTheDocument()
  })

  it('keeps what was typed when Browse… resolves null', async () => {
    const { onBrowse } = renderPicker({ browseResult: null })
    const folder = within(openForm()).getByRole('textbox', { name: 'Folder' })
    await userEvent.type(folder, '/typed')
    await userEvent.click(within(openForm()).getByRole('button', { name: 'Browse…' }))
    expect(onBrowse).toHaveBeenCalledWith('Choose a project folder')
    expect(folder).toHaveValue('/typed')
  })

  it('opens the folder typed in the Open form', async () => {
    const { onOpen } = renderPicker()
    const form = within(openForm())
    expect(form.getByRole('button', { name: 'Open' })).toBeDisabled()
    await userEvent.type(form.getByRole('textbox', { name: 'Folder' }), ' /home/me/old ')
    await userEvent.click(form.getByRole('button', { name: 'Open' }))
    expect(onOpen).toHaveBeenCalledWith('/home/me/old')
  })

  it('opens an available recent project, disables a missing one, and removes either', async () => {
    const { onOpen, onForget } = renderPicker({
      recent: [
        makeRecent({ dir: '/p/here', name: 'Here' }),
        makeRecent({ dir: '/p/gone', name: 'Gone', available: false }),
      ],
    })
    const list = within(screen.getByRole('region', { name: 'Recent projects' }))
    const [here, gone] = list.getAllByRole('listitem') as [HTMLElement, HTMLElement]

    await userEvent.click(within(here).getByRole('button', { name: /^Here/ }))
    expect(onOpen).toHaveBeenCalledWith('/p/here')

    expect(within(gone).getByRole('button', { name: /^Gone/ })).toBeDisabled()
    expect(gone).toHaveTextContent('missing')
    expect(here).not.toHaveTextContent('missing')

    await userEvent.click(list.getByRole('button', { name: 'Remove Gone from the list' }))
    expect(onForget).toHaveBeenCalledWith('/p/gone')
    expect(onOpen).toHaveBeenCalledTimes(1)
  })

  it('shows the error prop as an alert', () => {
    renderPicker({ error: 'Not a Lectern project: /p/x has no project.db' })
    expect(screen.getByRole('alert')).toHaveTextContent('Not a Lectern project: /p/x has no project.db')
  })

  it('shows no alert without an error', () => {
    renderPicker()
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
  })
})
