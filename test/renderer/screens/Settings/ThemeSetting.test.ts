import { render, screen } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import SettingsScreen from '../../../../src-renderer/src/screens/Settings/SettingsScreen.svelte'
import type { AppSettings } from '../../../../src-main/shared/types/app'
import { makeHardware } from '../../support/fixtures'

function renderSettings(settings: AppSettings) {
  const onSave = vi.fn()
  render(SettingsScreen, { settings, hardware: makeHardware(), appInfo: null, saving: false, error: null, onSave })
  return { onSave, select: screen.getByRole('combobox', { name: 'Theme' }) as HTMLSelectElement }
}

describe('SettingsScreen theme', () => {
  it('follows the system when no theme is stored, and saves a chosen override', async () => {
    const { onSave, select } = renderSettings({ computeThreads: 'auto', offline: true })
    expect(select.value).toBe('system')
    await userEvent.selectOptions(select, 'dark')
    expect(onSave).toHaveBeenCalledWith({ theme: 'dark' })
  })

  it('shows a stored override', () => {
    const { select } = renderSettings({ computeThreads: 'auto', offline: true, theme: 'light' })
    expect(select.value).toBe('light')
  })
})
