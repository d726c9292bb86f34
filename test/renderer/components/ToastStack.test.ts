import { render, screen, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import ToastStack from '../../../src-renderer/src/components/ToastStack.svelte'
import type { Toast } from '../../../src-renderer/src/state/toasts.svelte'

const toast = (overrides: Partial<Toast> = {}): Toast => ({
  id: 1,
  key: 'k',
  code: 'invalid_model_file',
  title: 'Import failed',
  message: 'tokenizer.json in /m/x: missing `model.vocab`',
  file: '/m/x/tokenizer.json',
  detail: 'stack line 1\nstack line 2',
  count: 1,
  ...overrides,
})

describe('ToastStack', () => {
  it('shows code, message and file, with the detail behind a disclosure', async () => {
    render(ToastStack, { toasts: [toast()], onDismiss: vi.fn() })
    const alert = screen.getByRole('alert')
    expect(alert).toHaveTextContent('Import failed')
    expect(alert).toHaveTextContent('invalid_model_file')
    expect(alert).toHaveTextContent('missing `model.vocab`')
    expect(alert).toHaveTextContent('File: /m/x/tokenizer.json')
    const details = alert.querySelector('details')!
    expect(details.open).toBe(false)
    await userEvent.click(within(alert).getByText('Details'))
    expect(details.open).toBe(true)
    expect(within(alert).getByText(/stack line 2/)).toBeVisible()
  })

  it('stacks several toasts, shows a repeat count, and dismisses by id', async () => {
    const onDismiss = vi.fn()
    render(ToastStack, { toasts: [toast({ id: 1, title: 'First' }), toast({ id: 2, title: 'Second', count: 3, file: null, detail: null })], onDismiss })
    expect(screen.getAllByRole('alert')).toHaveLength(2)
    expect(screen.getByLabelText('Reported 3 times')).toBeInTheDocument()
    expect(screen.getAllByRole('alert')[1]!.querySelector('details')).toBeNull()
    await userEvent.click(screen.getByRole('button', { name: 'Dismiss: Second' }))
    expect(onDismiss).toHaveBeenCalledWith(2)
  })
})
