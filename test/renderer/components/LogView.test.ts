import { render, screen, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import LogView from '../../../src-renderer/src/components/LogView.svelte'
import { makeLogLine } from '../support/fixtures'

describe('LogView', () => {
  it('shows each line with its level, and copies the whole log as text', async () => {
    const copyText = vi.fn(async () => {})
    render(LogView, { lines: [makeLogLine('started'), makeLogLine('slow disk', 'warn'), makeLogLine('boom', 'error')], label: 'Log of job 5', onClose: vi.fn(), copyText })
    const items = within(screen.getByRole('list', { name: 'Log of job 5' })).getAllByRole('listitem')
    expect(items.map((li) => li.dataset['level'])).toEqual(['info', 'warn', 'error'])
    expect(items[2]).toHaveClass('level-error')
    await userEvent.click(screen.getByRole('button', { name: 'Copy' }))
    expect(copyText).toHaveBeenCalledWith(
      ['1970-01-01T00:00:01.000Z INFO started', '1970-01-01T00:00:01.000Z WARN slow disk', '1970-01-01T00:00:01.000Z ERROR boom'].join('\n'),
    )
    expect(screen.getByText('Copied')).toBeInTheDocument()
  })

  it('says when copying failed', async () => {
    render(LogView, { lines: [makeLogLine('x')], label: 'Log', onClose: vi.fn(), copyText: async () => Promise.reject(new Error('denied')) })
    await userEvent.click(screen.getByRole('button', { name: 'Copy' }))
    expect(screen.getByText('Copy failed')).toBeInTheDocument()
  })

  it('is reachable by Tab and closes with Escape', async () => {
    const onClose = vi.fn()
    render(LogView, { lines: [makeLogLine('x')], label: 'Log', onClose })
    const log = screen.getByRole('list', { name: 'Log' })
    await userEvent.tab()
    await userEvent.tab()
    await userEvent.tab()
    expect(log).toHaveFocus()
    await userEvent.keyboard('{Escape}')
    expect(onClose).toHaveBeenCalledOnce()
  })

  it('appends live lines and shows an empty state before any arrive', async () => {
    const { rerender } = render(LogView, { lines: [], label: 'Log', onClose: vi.fn() })
    expect(screen.getByText('No log lines yet.')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Copy' })).toBeDisabled()
    await rerender({ lines: [makeLogLine('live one')] })
    expect(screen.getByText(/live one/)).toBeInTheDocument()
    expect(screen.queryByText('No log lines yet.')).not.toBeInTheDocument()
  })
})
