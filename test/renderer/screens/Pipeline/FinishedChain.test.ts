import { screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { PipelineInfo } from '../../../../src-main/shared/types/pipeline'
import { allDone, importedOnly, makeDataset, makePipeline, renderPanel } from './pipelineFixtures'

/** The chain that ran Comprehension → Dataset → Train, all succeeded. */
function finishedChain(overrides: Partial<PipelineInfo> = {}): PipelineInfo {
  return makePipeline({
    state: 'succeeded',
    position: 2,
    updatedAtMs: 9_000,
    steps: [
      { kind: 'comprehend', label: 'Mine reading comprehension', jobId: '7', state: 'succeeded' },
      { kind: 'dataset', label: 'Build the dataset (2048-token sequences)', jobId: '8', state: 'succeeded' },
      { kind: 'train', label: 'Train MoRA rank 8 on qwen.gguf', jobId: '9', state: 'succeeded' },
    ],
    ...overrides,
  })
}

describe('PipelinePanel: a finished chain', () => {
  it('stays shown as finished, with what each step produced, a link to its screen and one to the next step', async () => {
    const { onOpenStep } = renderPanel(allDone(), {}, finishedChain())
    const chain = await screen.findByTestId('pipeline-chain')
    expect(within(chain).getByTestId('chain-state')).toHaveTextContent('All steps finished')
    expect(within(chain).getByTestId('chain-finished')).toHaveTextContent('every step ran')
    const dataset = within(chain).getByTestId('chain-step-1-produced')
    expect(dataset).toHaveTextContent(`${makeDataset().sequences} sequences of ${makeDataset().seqLen} tokens`)
    await userEvent.click(within(dataset).getByRole('button', { name: 'Open Dataset' }))
    expect(onOpenStep).toHaveBeenLastCalledWith('comprehension')
    await userEvent.click(within(dataset).getByRole('button', { name: 'Next: Train →' }))
    expect(onOpenStep).toHaveBeenLastCalledWith('train')
    const train = within(chain).getByTestId('chain-step-2-produced')
    expect(train).toHaveTextContent('run-12')
    await userEvent.click(within(train).getByRole('button', { name: 'Next: Evaluate →' }))
    expect(onOpenStep).toHaveBeenLastCalledWith('evaluate')
    // Every step is done, so there is nothing for a new chain to run: only Dismiss.
    expect(within(chain).queryByRole('button', { name: 'Start a new chain' })).not.toBeInTheDocument()
    await userEvent.click(within(chain).getByRole('button', { name: 'Dismiss' }))
    expect(screen.queryByTestId('pipeline-chain')).not.toBeInTheDocument()
  })

  it('starts a new chain: the finished one goes and the form takes the focus; a newer chain shows again', async () => {
    const { emit } = renderPanel({ ...importedOnly(), dataset: makeDataset() }, {}, finishedChain())
    const chain = await screen.findByTestId('pipeline-chain')
    await userEvent.click(within(chain).getByRole('button', { name: 'Start a new chain' }))
    await waitFor(() => expect(screen.getByTestId('run-all-section')).toHaveFocus())
    expect(screen.queryByTestId('pipeline-chain')).not.toBeInTheDocument()

    emit('onPipelineUpdate', makePipeline({ id: 2, createdAtMs: 10_000, updatedAtMs: 10_000 }))
    expect(within(await screen.findByTestId('pipeline-chain')).getByTestId('chain-state')).toHaveTextContent('Running')
  })

  it('offers no Dismiss while the chain runs, and shows nothing produced for a step not yet done', async () => {
    renderPanel(importedOnly(), {}, makePipeline())
    const chain = await screen.findByTestId('pipeline-chain')
    expect(within(chain).queryByRole('button', { name: 'Dismiss' })).not.toBeInTheDocument()
    expect(within(chain).queryByTestId('chain-step-0-produced')).not.toBeInTheDocument()
  })
})
