import { render, screen, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import SettingsScreen from '../../../../src-renderer/src/screens/Settings/SettingsScreen.svelte'
import type { AppSettings, HardwareReport } from '../../../../src-main/shared/types/app'
import { makeHardware } from '../../support/fixtures'

function renderSettings(settings: AppSettings | null, hardware: HardwareReport | null = makeHardware()) {
  const onSave = vi.fn()
  const view = render(SettingsScreen, { settings, hardware, appInfo: null, saving: false, error: null, onSave })
  return { onSave, view }
}

const threadSelect = (): HTMLSelectElement => screen.getByRole('combobox', { name: /Threads per training session/ })

describe('SettingsScreen', () => {
  it('shows the hardware facts', () => {
    renderSettings({ computeThreads: 'auto', offline: true }, makeHardware({ accelerators: [{ name: 'RTX 4090', kind: 'cuda', memoryBytes: null }] }))
    const hardware = within(screen.getByRole('region', { name: 'Hardware' }))
    expect(hardware.getByText('Test CPU 9000')).toBeInTheDocument()
    expect(hardware.getByTestId('effective-threads')).toHaveTextContent('3')
    expect(hardware.getByText('16.0 GB (8.0 GB free)')).toBeInTheDocument()
    expect(hardware.getByText('linux x64, 6.1.0')).toBeInTheDocument()
    expect(hardware.getByText('RTX 4090 (cuda)')).toBeInTheDocument()
  })

  it('says it is reading hardware until the report arrives', () => {
    renderSettings(null, null)
    expect(screen.getByText('Reading hardware…')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Save' })).toBeDisabled()
  })

  it('offers Automatic and 1..logicalCores threads', () => {
    renderSettings({ computeThreads: 'auto', offline: true })
    const options = within(threadSelect()).getAllByRole('option')
    expect(options.map((o) => o.textContent)).toEqual(['Automatic (3 on this machine)', '1', '2', '3', '4'])
    expect(threadSelect()).toHaveValue('auto')
  })

  it('saves a chosen thread count as a number', async () => {
    const { onSave } = renderSettings({ computeThreads: 'auto', offline: true })
    await userEvent.selectOptions(threadSelect(), '2')
    await userEvent.click(screen.getByRole('button', { name: 'Save' }))
    expect(onSave).toHaveBeenCalledWith({ computeThreads: 2 })
  })

  it('saves Automatic as "auto"', async () => {
    const { onSave } = renderSettings({ computeThreads: 4, offline: true })
    expect(threadSelect()).toHaveValue('4')
    await userEvent.selectOptions(threadSelect(), 'auto')
    await userEvent.click(screen.getByRole('button', { name: 'Save' }))
    expect(onSave).toHaveBeenCalledWith({ computeThreads: 'auto' })
  })

  it('selects the saved count when settings arrive before the hardware report', async () => {
    const { view, onSave } = renderSettings({ computeThreads: 4, offline: true }, null)
    await view.rerender({ hardware: makeHardware() })
    expect(threadSelect()).toHaveValue('4')
    await userEvent.click(screen.getByRole('button', { name: 'Save' }))
    expect(onSave).toHaveBeenCalledWith({ computeThreads: 4 })
  })
})
