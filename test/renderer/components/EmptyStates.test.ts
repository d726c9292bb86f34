import { render, screen, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../src-main/shared/api'
import JobsPanel from '../../../src-renderer/src/components/JobsPanel.svelte'
import EvaluateWizard from '../../../src-renderer/src/screens/Evaluate/EvaluateWizard.svelte'
import ExportWizard from '../../../src-renderer/src/screens/Export/ExportWizard.svelte'
import type { StepId } from '../../../src-renderer/src/screens/Steps/steps'
import TrainWizard from '../../../src-renderer/src/screens/Train/TrainWizard.svelte'
import { EvaluateState } from '../../../src-renderer/src/state/evaluate.svelte'
import { ExportState } from '../../../src-renderer/src/state/export.svelte'
import { TrainState } from '../../../src-renderer/src/state/train.svelte'
import { makeRun } from '../screens/Export/exportFixtures'
import { planFor } from '../screens/Train/trainFixtures'
import { fakeClient } from '../support/fakeClient'

const noJobs = { listJobs: vi.fn<Api['listJobs']>(async () => []) }

describe('empty states say what is missing and link to the step that makes it', () => {
  it('Export without a trained run sends to Train', async () => {
    const onOpenStep = vi.fn<(step: StepId) => void>()
    const { client } = fakeClient({ ...noJobs, listRuns: async () => [], listExports: async () => [] })
    render(ExportWizard, { exporter: new ExportState(client), canBrowse: true, onOpenStep })
    const empty = await screen.findByTestId('export-run-none')
    expect(empty).toHaveTextContent('No training runs yet: train one in the Train step first.')
    await userEvent.click(within(empty).getByRole('button', { name: 'Go to Train' }))
    expect(onOpenStep).toHaveBeenCalledWith('train')
    expect(screen.queryByTestId('exports-none')).not.toBeInTheDocument()
  })

  it('Export says when the chosen run has no export yet', async () => {
    const { client } = fakeClient({ ...noJobs, listRuns: async () => [makeRun()], listExports: async () => [] })
    render(ExportWizard, { exporter: new ExportState(client), canBrowse: true })
    expect(await screen.findByTestId('exports-none')).toHaveTextContent('Nothing exported from run-12 yet')
  })

  it('Evaluate with a run still training sends to Train', async () => {
    const onOpenStep = vi.fn<(step: StepId) => void>()
    const { client } = fakeClient({ ...noJobs, listRuns: async () => [makeRun({ state: 'running', finishedAtMs: null, adapterFile: null })] })
    render(EvaluateWizard, { evaluation: new EvaluateState(client), onOpenStep })
    const empty = await screen.findByTestId('eval-run-none')
    expect(empty).toHaveTextContent('No training run has finished yet')
    await userEvent.click(within(empty).getByRole('button', { name: 'Go to Train' }))
    expect(onOpenStep).toHaveBeenCalledWith('train')
  })

  it('Train without any run points at the dataset from Comprehension', async () => {
    const onOpenStep = vi.fn<(step: StepId) => void>()
    const { client } = fakeClient({ listRuns: async () => [], planTraining: async (params) => planFor(params) })
    render(TrainWizard, { trainer: new TrainState(client), canBrowse: true, onOpenStep })
    const empty = await screen.findByTestId('train-runs-none')
    expect(empty).toHaveTextContent('No training runs yet')
    await userEvent.click(within(empty).getByRole('button', { name: 'Go to Comprehension' }))
    expect(onOpenStep).toHaveBeenCalledWith('comprehension')
  })

  it('the jobs panel without jobs sends to Import, and lists jobs instead once there are some', async () => {
    const onOpenStep = vi.fn<(step: StepId) => void>()
    const props = { logs: {}, error: null, onCancel: vi.fn(), onResume: vi.fn(), onStartDemo: vi.fn(), onShowLog: vi.fn(), onHideLog: vi.fn(), onOpenStep }
    render(JobsPanel, { ...props, jobs: [] })
    const empty = screen.getByTestId('jobs-none')
    expect(empty).toHaveTextContent('No jobs yet.')
    await userEvent.click(within(empty).getByRole('button', { name: 'Go to Import' }))
    expect(onOpenStep).toHaveBeenCalledWith('import')
  })

  it('shows no link where no step navigation is given', async () => {
    const { client } = fakeClient({ ...noJobs, listRuns: async () => [], listExports: async () => [] })
    render(ExportWizard, { exporter: new ExportState(client), canBrowse: true })
    expect(within(await screen.findByTestId('export-run-none')).queryByRole('button')).not.toBeInTheDocument()
  })
})
