import { screen, waitFor } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import { detailOf, makeTrainJob, makeTrainRun, renderWizard, stepMetrics } from './trainFixtures'

const field = (name: string | RegExp): HTMLInputElement => screen.getByRole('textbox', { name })

async function chooseBase(path = '/models/qwen2.5-0.5b.gguf'): Promise<void> {
  await userEvent.type(field(/^Base model/), path)
}

describe('TrainWizard: options and the live estimate', () => {
  it('explains MoRA and LoRA, recommends MoRA and asks for a model before estimating', async () => {
    const { calls } = renderWizard()
    expect(await screen.findByRole('radio', { name: /MoRA \(recommended\)/ })).toBeChecked()
    expect(screen.getByTestId('method-hint-mora')).toHaveTextContent(/square matrix/)
    expect(screen.getByTestId('method-hint-lora')).toHaveTextContent(/two thin matrices/)
    expect(screen.getByTestId('fit-estimate')).toHaveTextContent('Choose a base model')
    await new Promise((r) => setTimeout(r, 250))
    expect(calls.planTraining).not.toHaveBeenCalled()
    // LoRA has no MoRA type.
    expect(screen.getByRole('combobox', { name: 'MoRA type' })).toBeInTheDocument()
    await userEvent.click(screen.getByRole('radio', { name: /^LoRA/ }))
    expect(screen.queryByRole('combobox', { name: 'MoRA type' })).not.toBeInTheDocument()
  })

  it('shows the estimate and updates it, debounced, as the batch changes', async () => {
    const { calls } = renderWizard()
    await chooseBase()
    await waitFor(() => expect(screen.getByTestId('fit-verdict')).toHaveTextContent('Fits'))
    const first = screen.getByTestId('fit-total').textContent
    expect(screen.getByTestId('fit-trainable')).toHaveTextContent('1,234,567')
    expect(screen.getByTestId('fit-steps')).toHaveTextContent('40 steps')
    // Typing the path letter by letter asked only once the form was still.
    expect(vi.mocked(calls.planTraining).mock.calls.length).toBeLessThan(5)
    await waitFor(() => expect(calls.planTraining).toHaveBeenLastCalledWith(expect.objectContaining({ base: '/models/qwen2.5-0.5b.gguf', method: 'mora', rank: 8, batch: 1, seqLen: 256, data: null })))

    await userEvent.clear(field('Batch size'))
    await userEvent.type(field('Batch size'), '64')
    await waitFor(() => expect(screen.getByTestId('fit-verdict')).toHaveTextContent('Does not fit'))
    expect(screen.getByTestId('fit-total').textContent).not.toBe(first)
    expect(screen.getByTestId('fit-suggestion')).toHaveTextContent('Lower the batch')
    await waitFor(() => expect(calls.planTraining).toHaveBeenLastCalledWith(expect.objectContaining({ batch: 64 })))
  })

  it('shows why a model cannot be planned', async () => {
    renderWizard({ planTraining: async () => Promise.reject(new Error('/models/broken.gguf: not a GGUF file')) })
    await chooseBase('/models/broken.gguf')
    expect(await screen.findByTestId('fit-error')).toHaveTextContent('/models/broken.gguf: not a GGUF file')
  })

  it('refuses bad input with the field named, and starts nothing', async () => {
    const startJob = vi.fn<Api['startJob']>()
    renderWizard({ startJob })
    await userEvent.click(await screen.findByRole('button', { name: 'Start training' }))
    expect(screen.getByTestId('error-train-base')).toHaveTextContent('Base model: choose')
    await chooseBase()
    await userEvent.clear(field('Rank'))
    await userEvent.type(field('Rank'), 'eight')
    await userEvent.clear(field('Learning rate'))
    await userEvent.type(field('Learning rate'), '5')
    await userEvent.click(screen.getByRole('radio', { name: 'A .jsonl file' }))
    await userEvent.click(screen.getByRole('button', { name: 'Start training' }))
    expect(screen.getByTestId('error-train-rank')).toHaveTextContent('Rank must be a whole number')
    expect(screen.getByTestId('error-train-lr')).toHaveTextContent('Learning rate must be a number between 0 and 1')
    expect(screen.getByTestId('error-train-data')).toHaveTextContent('Training data: choose a .jsonl file')
    expect(field('Rank')).toHaveAttribute('aria-invalid', 'true')
    expect(startJob).not.toHaveBeenCalled()
  })

  it('fills the model path from the native picker', async () => {
    const chooseFile = vi.fn<Api['chooseFile']>(async () => '/picked/model.gguf')
    const { calls } = renderWizard({ chooseFile })
    await userEvent.click(await screen.findByRole('button', { name: /Choose Base model/ }))
    expect(chooseFile).toHaveBeenCalledWith({ title: 'Choose the base model', extensions: ['gguf', 'safetensors', 'json'] })
    expect(field(/^Base model/)).toHaveValue('/picked/model.gguf')
    await waitFor(() => expect(calls.planTraining).toHaveBeenCalledWith(expect.objectContaining({ base: '/picked/model.gguf' })))
  })
})

describe('TrainWizard: the run', () => {
  it('starts a run with the form, draws metrics as they arrive, and pauses through cancelJob', async () => {
    const job = makeTrainJob({ id: '9', state: 'queued', resumable: false })
    const startJob = vi.fn<Api['startJob']>(async () => job)
    const cancelJob = vi.fn<Api['cancelJob']>(async () => ({ ...job, state: 'running', cancelRequested: true }))
    const { emit, calls } = renderWizard({ startJob, cancelJob })
    await chooseBase()
    await userEvent.click(screen.getByRole('radio', { name: 'Steps' }))
    await userEvent.clear(field('Optimizer steps'))
    await userEvent.type(field('Optimizer steps'), '20')
    await userEvent.click(screen.getByRole('button', { name: 'Start training' }))
    expect(startJob).toHaveBeenCalledWith({ kind: 'train', params: expect.objectContaining({ base: '/models/qwen2.5-0.5b.gguf', steps: 20, method: 'mora', targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] }) })
    expect(await screen.findByRole('heading', { name: 'Run run-9' })).toBeInTheDocument()
    expect(calls.getRunMetrics).toHaveBeenCalledWith({ runId: 'run-9' })
    expect(screen.getByTestId('chart-loss')).toHaveAttribute('data-points', '0')

    emit('onJobUpdate', { ...job, state: 'running', progress: { done: 1, total: 20, fraction: 0.05, message: 'Step 1 of 20', etaSeconds: 30 } })
    emit('onJobMetrics', { jobId: '9', record: { ...stepMetrics(1) } })
    emit('onJobMetrics', { jobId: '9', record: { ...stepMetrics(2, 2.5) } })
    emit('onJobMetrics', { jobId: '8', record: { ...stepMetrics(3) } })
    await waitFor(() => expect(screen.getByTestId('chart-loss')).toHaveAttribute('data-points', '2'))
    expect(screen.getByTestId('chart-loss-latest')).toHaveTextContent('2.500')
    expect(screen.getByTestId('chart-tokens-per-second-latest')).toHaveTextContent('900')
    expect(screen.getByTestId('chart-grad-norm')).toHaveAttribute('data-points', '2')
    expect(screen.getByTestId('train-message')).toHaveTextContent('Step 1 of 20')
    // The form is locked while the run trains.
    expect(screen.getByRole('button', { name: 'Training…' })).toBeDisabled()

    await userEvent.click(screen.getByRole('button', { name: 'Pause' }))
    expect(cancelJob).toHaveBeenCalledWith({ jobId: '9' })
    expect(await screen.findByText(/saving a checkpoint and stopping/)).toBeInTheDocument()
    emit('onJobUpdate', { ...job, state: 'cancelled', resumable: true })
    expect(await screen.findByRole('button', { name: 'Resume' })).toBeInTheDocument()
  })

  it('finds an interrupted run on load, shows its history and checkpoints, and resumes it', async () => {
    const job = makeTrainJob({ id: '7', state: 'interrupted' })
    const resumeJob = vi.fn<Api['resumeJob']>(async () => ({ ...job, state: 'queued' }))
    const getJob = vi.fn<Api['getJob']>(async () => detailOf(job))
    const { emit } = renderWizard({
      listRuns: async () => [makeTrainRun()],
      getJob,
      resumeJob,
      getRunMetrics: async () => [stepMetrics(1), stepMetrics(2), stepMetrics(3), stepMetrics(4)],
      listCheckpoints: async () => [
        { step: 4, dir: '/p/runs/run-7/checkpoints/step-0000004', writtenAtMs: 5_000 },
        { step: 2, dir: '/p/runs/run-7/checkpoints/step-0000002', writtenAtMs: 4_000 },
      ],
    })
    expect(await screen.findByTestId('train-resumable')).toHaveTextContent('continues from its last checkpoint')
    expect(getJob).toHaveBeenCalledWith({ jobId: '7', logLimit: 0 })
    expect(screen.getByTestId('train-job')).toHaveAttribute('data-state', 'interrupted')
    await waitFor(() => expect(screen.getByTestId('chart-loss')).toHaveAttribute('data-points', '4'))
    const rows = screen.getAllByTestId('checkpoint')
    expect(rows.map((r) => r.firstElementChild?.textContent)).toEqual(['4', '2'])

    await userEvent.click(screen.getByRole('button', { name: 'Resume' }))
    expect(resumeJob).toHaveBeenCalledWith({ jobId: '7' })
    await waitFor(() => expect(screen.getByTestId('train-job')).toHaveAttribute('data-state', 'queued'))
    // The resumed run repeats step 4 (after the checkpoint at 4 it goes on with 5): the chart replaces, not duplicates.
    emit('onJobMetrics', { jobId: '7', record: { ...stepMetrics(4, 1.1) } })
    emit('onJobMetrics', { jobId: '7', record: { ...stepMetrics(5, 1.0) } })
    await waitFor(() => expect(screen.getByTestId('chart-loss')).toHaveAttribute('data-points', '5'))
    expect(screen.getByTestId('chart-loss-latest')).toHaveTextContent('1.000')
  })

  it('cancelling a stopped run sets it aside and offers the form again', async () => {
    const job = makeTrainJob({ id: '7', state: 'cancelled' })
    const listRuns = vi.fn<Api['listRuns']>(async () => [makeTrainRun({ state: 'cancelled' })])
    renderWizard({ listRuns, getJob: async () => detailOf(job) })
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel run' }))
    await waitFor(() => expect(screen.queryByTestId('train-job')).not.toBeInTheDocument())
    expect(screen.getByRole('button', { name: 'Start training' })).toBeEnabled()
  })
})
