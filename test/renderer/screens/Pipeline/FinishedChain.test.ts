import { screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { ClusterSummary } from '../../../../src-main/shared/types/comprehension'
import type { PipelineInfo } from '../../../../src-main/shared/types/pipeline'
import { makeComprehendSummary } from '../Comprehension/comprehensionFixtures'
import { allDone, importedOnly, jobResults, makeDataset, makePipeline, makeRun, renderPanel } from './pipelineFixtures'

/** The chain that ran Comprehension → Dataset → Train, all succeeded; the training job is run-12's. */
function finishedChain(overrides: Partial<PipelineInfo> = {}): PipelineInfo {
  return makePipeline({
    state: 'succeeded',
    position: 3,
    updatedAtMs: 9_000,
    steps: [
      { kind: 'comprehend', label: 'Mine reading comprehension', jobId: '7', state: 'succeeded' },
      { kind: 'dataset', label: 'Build the dataset (2048-token sequences)', jobId: '8', state: 'succeeded' },
      { kind: 'train', label: 'Train MoRA rank 8 on qwen.gguf', jobId: makeRun().jobId, state: 'succeeded' },
    ],
    ...overrides,
  })
}

/** The dataset the chain's step built: smaller than the one built since, which the Dataset stage shows. */
const CHAIN_DATASET = makeDataset({ sequences: 80, tokens: { regex: 100_000, llm: 0, instructions: 60_000, total: 160_000 } })

const CLUSTERS: ClusterSummary = { embedded: 38, reusedEmbeddings: 0, runId: 3, clusters: 9, multiMemberClusters: 4, largestCluster: 6, kMeansRunId: null, seconds: { embed: 2, cluster: 1 } }

const CHAIN_RESULTS = {
  '7': makeComprehendSummary({ mode: 'regex', processed: 38, produced: 114, rejected: 0 }),
  '8': CHAIN_DATASET,
  [makeRun().jobId]: { runDir: '/home/me/contracts/runs/run-12', steps: 200, finalLoss: 1.2346, trainableParameters: 1000, provider: 'cpu', adapterFile: 'adapter.safetensors' },
}

describe('PipelinePanel: a finished chain', () => {
  it('stays shown as finished, with what the job of each step produced, a link to its screen and one to the next step of the chain', async () => {
    const { onOpenStep } = renderPanel(allDone(), jobResults(CHAIN_RESULTS), finishedChain())
    const chain = await screen.findByTestId('pipeline-chain')
    expect(within(chain).getByTestId('chain-state')).toHaveTextContent('All steps finished')
    expect(within(chain).getByTestId('chain-finished')).toHaveTextContent('every step ran')
    const comprehend = within(chain).getByTestId('chain-step-0-produced')
    await waitFor(() => expect(comprehend).toHaveTextContent('114 comprehension tasks mined from 38 chunks'))
    await userEvent.click(within(comprehend).getByRole('button', { name: 'Open Comprehension' }))
    expect(onOpenStep).toHaveBeenLastCalledWith('comprehension')
    // The chain's next step builds the dataset (on the Comprehension screen), before training.
    await userEvent.click(within(comprehend).getByRole('button', { name: 'Next: Dataset →' }))
    expect(onOpenStep).toHaveBeenLastCalledWith('comprehension')

    const dataset = within(chain).getByTestId('chain-step-1-produced')
    expect(dataset).toHaveTextContent(`80 sequences of ${CHAIN_DATASET.seqLen} tokens (160,000 tokens)`)
    expect(dataset).not.toHaveTextContent(`${makeDataset().sequences} sequences`)
    await userEvent.click(within(dataset).getByRole('button', { name: 'Open Dataset' }))
    expect(onOpenStep).toHaveBeenLastCalledWith('comprehension')
    await userEvent.click(within(dataset).getByRole('button', { name: 'Next: Train →' }))
    expect(onOpenStep).toHaveBeenLastCalledWith('train')
    const train = within(chain).getByTestId('chain-step-2-produced')
    expect(train).toHaveTextContent('run-12')
    // The last step of the chain: its output is used by the stage after it.
    await userEvent.click(within(train).getByRole('button', { name: 'Next: Evaluate →' }))
    expect(onOpenStep).toHaveBeenLastCalledWith('evaluate')
    // Every step is done, so there is nothing for a new chain to run: only Dismiss.
    expect(within(chain).queryByRole('button', { name: 'Start a new chain' })).not.toBeInTheDocument()
    await userEvent.click(within(chain).getByRole('button', { name: 'Dismiss' }))
    expect(screen.queryByTestId('pipeline-chain')).not.toBeInTheDocument()
  })

  it('shows comprehension and clustering each with its own output, each linking to the step that follows it', async () => {
    const chain = finishedChain({
      position: 3,
      steps: [
        { kind: 'comprehend', label: 'Generate questions with qwen.gguf', jobId: '7', state: 'succeeded' },
        { kind: 'cluster', label: 'Embed and cluster with bge.gguf', jobId: '8', state: 'succeeded' },
      ],
    })
    const { onOpenStep } = renderPanel(allDone(), jobResults({ '7': makeComprehendSummary({ processed: 10, produced: 24, rejected: 5 }), '8': CLUSTERS }), chain)
    const view = await screen.findByTestId('pipeline-chain')
    const comprehend = within(view).getByTestId('chain-step-0-produced')
    const cluster = within(view).getByTestId('chain-step-1-produced')
    await waitFor(() => expect(cluster).toHaveTextContent('9 clusters (4 with more than one chunk, the largest 6 chunks), 38 chunks embedded'))
    expect(comprehend).toHaveTextContent('24 question–answer pairs kept, 5 rejected, from 10 chunks')
    expect(comprehend.querySelector('.summary')?.textContent).not.toBe(cluster.querySelector('.summary')?.textContent)
    expect(within(comprehend).getByRole('button', { name: 'Next: Clusters →' })).toBeInTheDocument()
    await userEvent.click(within(cluster).getByRole('button', { name: 'Next: Dataset →' }))
    expect(onOpenStep).toHaveBeenLastCalledWith('comprehension')
  })

  it('starts a new chain: the finished one goes and the form takes the focus; a newer chain shows again', async () => {
    const { emit } = renderPanel({ ...importedOnly(), dataset: makeDataset() }, jobResults(CHAIN_RESULTS), finishedChain())
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
