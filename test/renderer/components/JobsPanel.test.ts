import { render, screen, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import JobsPanel from '../../../src-renderer/src/components/JobsPanel.svelte'
import type { JobLogLine, JobSummary } from '../../../src-main/shared/types/jobs'
import { makeJob, makeLogLine } from '../support/fixtures'

function renderPanel(jobs: JobSummary[], options: { logs?: Record<string, JobLogLine[]>; error?: string } = {}) {
  const handlers = {
    onCancel: vi.fn(),
    onResume: vi.fn(),
    onStartDemo: vi.fn(),
    onShowLog: vi.fn(),
    onHideLog: vi.fn(),
  }
  render(JobsPanel, { jobs, logs: options.logs ?? {}, error: options.error ?? null, ...handlers })
  return handlers
}

/** The list item of one job, so queries do not pick up another job's buttons. */
const jobItem = (label: string): HTMLElement => screen.getByText(label).closest('li') as HTMLElement

const running = makeJob({
  id: '7',
  label: 'Import PDFs',
  state: 'running',
  attempts: 1,
  progress: { done: 12, total: 40, fraction: 0.3, message: 'step 12', etaSeconds: 95 },
})

describe('JobsPanel', () => {
  it('says there are no jobs yet when the list is empty', () => {
    renderPanel([])
    expect(screen.getByText(/No jobs yet/)).toBeInTheDocument()
    expect(screen.queryAllByRole('progressbar')).toHaveLength(0)
  })

  it('shows a running job with its label, progress, ETA and progress bar, and cancels it by id', async () => {
    const { onCancel } = renderPanel([running])
    const item = jobItem('Import PDFs')
    expect(within(item).getByTestId('job-state')).toHaveTextContent('Running')
    expect(within(item).getByTestId('job-progress')).toHaveTextContent('step 12')
    expect(item).toHaveTextContent('1m 35s left')
    expect(within(item).getByRole('progressbar', { name: 'Progress of Import PDFs' })).toHaveAttribute('aria-valuenow', '30')
    expect(screen.queryByText(/No jobs yet/)).not.toBeInTheDocument()

    await userEvent.click(within(item).getByRole('button', { name: 'Cancel' }))
    expect(onCancel).toHaveBeenCalledWith('7')
  })

  it('disables Cancel on a queued job once cancel was requested', () => {
    renderPanel([makeJob({ label: 'Queued one', state: 'queued', cancelRequested: true })])
    expect(within(jobItem('Queued one')).getByRole('button', { name: 'Cancel' })).toBeDisabled()
  })

  it.each(['interrupted', 'cancelled', 'failed'] as const)('offers Resume on a %s job', async (state) => {
    const { onResume } = renderPanel([makeJob({ id: '3', label: 'Stopped job', state, resumable: true })])
    const item = jobItem('Stopped job')
    expect(within(item).queryByRole('button', { name: 'Cancel' })).not.toBeInTheDocument()
    await userEvent.click(within(item).getByRole('button', { name: 'Resume' }))
    expect(onResume).toHaveBeenCalledWith('3')
  })

  it('offers neither Resume nor Cancel on a succeeded job', () => {
    renderPanel([makeJob({ label: 'Finished job', state: 'succeeded' })])
    const item = jobItem('Finished job')
    expect(within(item).getByTestId('job-state')).toHaveTextContent('Done')
    expect(within(item).queryByRole('button', { name: /Resume|Cancel/ })).not.toBeInTheDocument()
  })

  it('shows the error message of a failed job, and the panel error as an alert', () => {
    const failed = makeJob({ label: 'Broken job', state: 'failed', resumable: true, error: { code: 'io', message: 'Disk full while writing /p/x.bin' } })
    renderPanel([failed], { error: 'Could not load jobs' })
    expect(within(jobItem('Broken job')).getByText('Disk full while writing /p/x.bin')).toBeInTheDocument()
    expect(screen.getByRole('alert')).toHaveTextContent('Could not load jobs')
  })

  it('asks for the log with Log, and shows the lines with Hide log once logs[id] is set', async () => {
    const job = makeJob({ id: '5', label: 'Logged job', state: 'running' })
    const closed = renderPanel([job])
    expect(screen.queryByRole('list', { name: 'Log of job 5' })).not.toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Log' }))
    expect(closed.onShowLog).toHaveBeenCalledWith('5')
  })

  it('renders log lines and hides them through onHideLog', async () => {
    const job = makeJob({ id: '5', label: 'Logged job', state: 'running' })
    const { onHideLog } = renderPanel([job], { logs: { '5': [makeLogLine('started'), makeLogLine('step 1 done', 'warn')] } })
    const log = screen.getByRole('list', { name: 'Log of job 5' })
    const lines = within(log).getAllByRole('listitem')
    expect(lines.map((li) => li.textContent)).toEqual([expect.stringContaining('started'), expect.stringContaining('step 1 done')])
    expect(lines[1]).toHaveClass('level-warn')
    expect(screen.queryByRole('button', { name: 'Log' })).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Hide log' })).toHaveAttribute('aria-expanded', 'true')
    await userEvent.click(screen.getByRole('button', { name: 'Hide log' }))
    expect(onHideLog).toHaveBeenCalledWith('5')
    // Escape inside the log closes it too.
    log.focus()
    await userEvent.keyboard('{Escape}')
    expect(onHideLog).toHaveBeenCalledTimes(2)
  })

  it('starts the demo job', async () => {
    const { onStartDemo } = renderPanel([])
    await userEvent.click(screen.getByRole('button', { name: 'Run demo job' }))
    expect(onStartDemo).toHaveBeenCalledOnce()
  })
})
