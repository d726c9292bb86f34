import { screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import { jobRequestSchema } from '../../../../src-main/shared/types/jobs'
import { makeJob } from '../../support/fixtures'
import { allDone, importedOnly, makeComprehensionTotals, makeDataset, makePipeline, renderPanel } from './pipelineFixtures'

const runButton = (): HTMLElement => screen.getByRole('button', { name: 'Run all remaining steps' })

describe('PipelinePanel: what each step produced', () => {
  it('shows each step done or to do, with what it produced, and opens its screen', async () => {
    const { onOpenStep } = renderPanel({ ...importedOnly(), comprehension: makeComprehensionTotals({ rcChunks: 30, rcTasks: 95 }), dataset: makeDataset() })
    expect(await screen.findByTestId('stage-import-state')).toHaveTextContent('Done')
    expect(screen.getByTestId('stage-import-summary')).toHaveTextContent('3 documents, 38 chunks (19,000 tokens)')
    expect(screen.getByTestId('stage-dataset-state')).toHaveTextContent('Done')
    expect(screen.getByTestId('stage-train-state')).toHaveTextContent('To do')
    expect(screen.getByTestId('stage-train-summary')).toHaveTextContent('No finished training run yet')
    expect(screen.getByTestId('run-all-plan')).toHaveTextContent('Runs Train → Evaluate → Export one after another')
    // Comprehension is done: its generator is not asked.
    expect(screen.queryByRole('textbox', { name: 'Question generator (optional)' })).not.toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Open the Dataset step' }))
    expect(onOpenStep).toHaveBeenCalledWith('comprehension')
    await userEvent.click(screen.getByRole('button', { name: 'Open the Evaluate step' }))
    expect(onOpenStep).toHaveBeenLastCalledWith('evaluate')
  })

  it('sends to Import when there is no corpus, and offers no chain', async () => {
    const { onOpenStep } = renderPanel({ ...importedOnly(), corpus: null })
    expect(await screen.findByTestId('pipeline-needs-import')).toHaveTextContent('Import documents first')
    expect(screen.queryByRole('button', { name: 'Run all remaining steps' })).not.toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Go to Import' }))
    expect(onOpenStep).toHaveBeenCalledWith('import')
  })

  it('says when every step is done', async () => {
    renderPanel(allDone())
    expect(await screen.findByTestId('pipeline-all-done')).toBeInTheDocument()
    expect(screen.getByTestId('stage-export-summary')).toHaveTextContent('GGUF Q8_0, verified: /home/me/models/run-12-q8_0.gguf')
  })
})

describe('PipelinePanel: run all remaining steps', () => {
  it('refuses without a base model and an export folder, calling nothing', async () => {
    const startPipeline = vi.fn<Api['startPipeline']>()
    renderPanel(importedOnly(), { startPipeline })
    await userEvent.click(await screen.findByRole('button', { name: 'Run all remaining steps' }))
    expect(screen.getByTestId('error-pipeline-base')).toHaveTextContent('Choose the base model to train')
    expect(screen.getByTestId('error-pipeline-export-folder')).toHaveTextContent('Choose the folder the GGUF goes into')
    expect(startPipeline).not.toHaveBeenCalled()
  })

  it('starts the chain with the chosen files and shows it live', async () => {
    const chooseFile = vi.fn<Api['chooseFile']>(async ({ title }) => (title.includes('base') ? '/models/qwen.gguf' : '/models/instruct.gguf'))
    const chooseDirectory = vi.fn<Api['chooseDirectory']>(async () => '/home/me/models')
    const startPipeline = vi.fn<Api['startPipeline']>(async ({ steps }) =>
      makePipeline({ steps: steps.map((s, i) => ({ kind: s.kind, label: `${s.kind} step`, jobId: i === 0 ? '7' : null, state: i === 0 ? 'queued' : 'pending' })) }),
    )
    const { emit } = renderPanel(importedOnly(), { chooseFile, chooseDirectory, startPipeline })
    await userEvent.click(await screen.findByRole('button', { name: 'Choose Base model' }))
    await userEvent.click(screen.getByRole('button', { name: 'Choose Question generator (optional)' }))
    await userEvent.click(screen.getByRole('button', { name: 'Choose Export folder' }))
    await userEvent.type(screen.getByRole('textbox', { name: 'Training steps' }), '30')
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'GGUF weight type' }), 'f16')
    expect(chooseFile).toHaveBeenCalledWith({ title: 'Choose the base model (.gguf)', extensions: ['gguf'] })
    await userEvent.click(runButton())

    expect(startPipeline).toHaveBeenCalledTimes(1)
    const { steps } = startPipeline.mock.calls[0]![0]
    for (const step of steps) expect(jobRequestSchema.safeParse(step).success).toBe(true)
    expect(steps).toEqual([
      { kind: 'comprehend', params: { mode: 'llm', generator: '/models/instruct.gguf' } },
      { kind: 'dataset', params: {} },
      { kind: 'train', params: { base: '/models/qwen.gguf', steps: 30 } },
      { kind: 'eval', params: { run: 'latest' } },
      { kind: 'export', params: { run: 'latest', format: 'gguf', type: 'f16', out: '/home/me/models/contracts-f16-20261102-141509.gguf' } },
    ])

    // While it runs: the chain with its steps, no form, a Cancel button.
    const chain = await screen.findByTestId('pipeline-chain')
    expect(within(chain).getByTestId('chain-state')).toHaveTextContent('Running')
    expect(within(chain).getByTestId('chain-step-0-state')).toHaveTextContent('Queued')
    expect(within(chain).getByTestId('chain-step-1-state')).toHaveTextContent('Waiting')
    expect(screen.queryByRole('button', { name: 'Run all remaining steps' })).not.toBeInTheDocument()

    emit('onJobUpdate', makeJob({ id: '7', kind: 'comprehend', label: 'comprehend step', state: 'running', progress: { done: 12, total: 38, fraction: 12 / 38, message: 'chunk 12', etaSeconds: 30 } }))
    await waitFor(() => expect(within(chain).getByTestId('chain-step-0-state')).toHaveTextContent('Running'))
    expect(within(chain).getByTestId('chain-progress')).toHaveTextContent('12 / 38 · chunk 12 · 30s left')
    expect(within(chain).getByRole('progressbar', { name: 'Progress of comprehend step' })).toHaveAttribute('aria-valuenow', '32')

    emit('onPipelineUpdate', makePipeline({ position: 1, updatedAtMs: 2_000, steps: steps.map((s, i) => ({ kind: s.kind, label: `${s.kind} step`, jobId: i < 2 ? String(7 + i) : null, state: i === 0 ? 'succeeded' : i === 1 ? 'running' : 'pending' })) }))
    await waitFor(() => expect(within(chain).getByTestId('chain-step-1-state')).toHaveTextContent('Running'))
    expect(within(chain).getByTestId('chain-step-1')).toHaveClass('current')
  })

  it('shows the API’s refusal', async () => {
    const startPipeline = vi.fn<Api['startPipeline']>(async () => {
      throw new Error('A pipeline is already running; cancel it or wait for it to finish')
    })
    renderPanel({ ...allDone(), evaluation: null }, { startPipeline })
    await userEvent.click(await screen.findByRole('button', { name: 'Run all remaining steps' }))
    expect(await screen.findByTestId('pipeline-error')).toHaveTextContent('A pipeline is already running')
    expect(startPipeline).toHaveBeenCalledWith({ steps: [{ kind: 'eval', params: { run: 'latest' } }] })
  })
})

describe('PipelinePanel: the chain after a reload', () => {
  it('restores a running chain from getPipeline with its job’s progress, and cancels it', async () => {
    const cancelPipeline = vi.fn<Api['cancelPipeline']>(async () => makePipeline({ state: 'cancelled', error: 'Cancelled', updatedAtMs: 3_000 }))
    const listJobs = vi.fn<Api['listJobs']>(async () => [makeJob({ id: '7', kind: 'comprehend', label: 'Mine reading comprehension', state: 'running', progress: { done: 5, total: 10, fraction: 0.5, message: null, etaSeconds: null } })])
    renderPanel(importedOnly(), { cancelPipeline, listJobs }, makePipeline())
    const chain = await screen.findByTestId('pipeline-chain')
    expect(within(chain).getByTestId('chain-progress')).toHaveTextContent('5 / 10')
    await userEvent.click(within(chain).getByRole('button', { name: 'Cancel the chain' }))
    expect(cancelPipeline).toHaveBeenCalledTimes(1)
    await waitFor(() => expect(within(chain).getByTestId('chain-state')).toHaveTextContent('Cancelled'))
    expect(within(chain).getByRole('button', { name: 'Continue from step 1' })).toBeInTheDocument()
    // A stopped chain leaves room for a new one.
    expect(runButton()).toBeInTheDocument()
  })

  it('shows why a chain stopped and continues it', async () => {
    const stopped = makePipeline({
      state: 'stopped',
      position: 2,
      error: 'Step 3 (Train MoRA rank 8 on qwen.gguf) failed: /models/qwen.gguf: not a GGUF file',
      steps: [
        { kind: 'comprehend', label: 'Mine reading comprehension', jobId: '7', state: 'succeeded' },
        { kind: 'dataset', label: 'Build the dataset (2048-token sequences)', jobId: '8', state: 'succeeded' },
        { kind: 'train', label: 'Train MoRA rank 8 on qwen.gguf', jobId: '9', state: 'failed' },
      ],
    })
    const continuePipeline = vi.fn<Api['continuePipeline']>(async () => ({ ...stopped, state: 'running', error: null, updatedAtMs: 5_000, steps: stopped.steps.map((s, i) => (i === 2 ? { ...s, state: 'queued' } : s)) }))
    renderPanel(importedOnly(), { continuePipeline }, stopped)
    const chain = await screen.findByTestId('pipeline-chain')
    expect(within(chain).getByTestId('chain-state')).toHaveTextContent('Stopped')
    expect(within(chain).getByTestId('chain-error')).toHaveTextContent('Step 3 (Train MoRA rank 8 on qwen.gguf) failed: /models/qwen.gguf: not a GGUF file')
    expect(within(chain).getByTestId('chain-step-2-state')).toHaveTextContent('Failed')
    expect(within(chain).queryByRole('button', { name: 'Cancel the chain' })).not.toBeInTheDocument()
    await userEvent.click(within(chain).getByRole('button', { name: 'Continue from step 3' }))
    expect(continuePipeline).toHaveBeenCalledTimes(1)
    await waitFor(() => expect(within(chain).getByTestId('chain-state')).toHaveTextContent('Running'))
    expect(within(chain).queryByTestId('chain-error')).not.toBeInTheDocument()
    expect(within(chain).getByTestId('chain-step-2-state')).toHaveTextContent('Queued')
  })
})
