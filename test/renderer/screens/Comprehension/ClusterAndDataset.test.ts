import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import ClusterBrowser from '../../../../src-renderer/src/screens/Comprehension/ClusterBrowser.svelte'
import DatasetSummaryView from '../../../../src-renderer/src/screens/Comprehension/DatasetSummaryView.svelte'
import { makeCluster, makeClusterJob, makeClusterRun, makeDataset, makeDatasetJob, makeDetail, renderWizard } from './comprehensionFixtures'

describe('ClusterBrowser', () => {
  it('shows each cluster’s size, tokens, terms and first members', () => {
    render(ClusterBrowser, {
      kind: 'extend',
      run: makeClusterRun(),
      clusters: [makeCluster(), makeCluster({ cluster: 2, size: 1, tokens: 300, terms: [], members: [] })],
      total: 12,
      offset: 10,
      pageSize: 10,
      onKind: () => {},
      onPage: () => {},
    })
    expect(screen.getByTestId('cluster-run')).toHaveTextContent('4 clusters of 12 chunks, embedded with bge-small.gguf')
    const [first, second] = screen.getAllByTestId('cluster')
    expect(within(first!).getByTestId('cluster-size')).toHaveTextContent('3 document(s) · 1,500 tokens')
    expect(within(first!).getByTestId('cluster-terms')).toHaveTextContent('lease · tenant · rent')
    const members = within(first!).getAllByTestId('cluster-member')
    expect(members[0]).toHaveTextContent('Lease agreement')
    expect(members[0]).toHaveTextContent('1.00')
    expect(members[1]).toHaveTextContent('Chunk 200')
    expect(members[1]).toHaveTextContent('0.83')
    expect(members[1]).toHaveTextContent('Rent is due in advance…')
    expect(first).toHaveTextContent('…and 1 more')
    expect(within(second!).queryByTestId('cluster-terms')).not.toBeInTheDocument()
    expect(screen.getByTestId('clusters-range')).toHaveTextContent('11–12 of 12')
    expect(screen.getByRole('button', { name: 'Next' })).toBeDisabled()
  })

  it('says when there is nothing to browse', () => {
    render(ClusterBrowser, { kind: 'kmeans', run: null, clusters: [], total: 0, offset: 0, pageSize: 10, onKind: () => {}, onPage: () => {} })
    expect(screen.getByTestId('clusters-empty')).toHaveTextContent('No k-means view yet')
  })
})

describe('ComprehensionWizard: clustering', () => {
  it('starts clustering with the form’s settings, then shows the clusters, and switches to the k-means view', async () => {
    const chooseFile = vi.fn(async () => '/models/bge.gguf')
    const startJob = vi.fn(async () => makeClusterJob({ state: 'queued' }))
    const listClusters = vi
      .fn<Api['listClusters']>()
      .mockResolvedValueOnce({ run: null, total: 0, clusters: [] })
      .mockResolvedValueOnce({ run: makeClusterRun(), total: 1, clusters: [makeCluster()] })
      .mockResolvedValueOnce({ run: makeClusterRun({ kind: 'kmeans', clusters: 12 }), total: 12, clusters: [makeCluster({ cluster: 5 })] })
    const summary = { embedded: 12, reusedEmbeddings: 0, runId: 3, clusters: 4, multiMemberClusters: 2, largestCluster: 3, kMeansRunId: 4, seconds: { embed: 3, cluster: 1 } }
    const { emit } = renderWizard({ chooseFile, startJob, listClusters, getJob: async () => makeDetail(makeClusterJob({ state: 'succeeded' }), summary) })
    expect(await screen.findByTestId('clusters-empty')).toHaveTextContent('Not clustered yet.')
    expect(screen.getByRole('textbox', { name: 'Similarity threshold' })).toHaveValue('0.7')

    await userEvent.click(screen.getByRole('button', { name: 'Choose Embedding model (.gguf)' }))
    expect(chooseFile).toHaveBeenCalledWith({ title: 'Choose the embedding model', extensions: ['gguf'] })
    await userEvent.type(screen.getByRole('textbox', { name: 'Documents per cluster' }), '4')
    await userEvent.type(screen.getByRole('textbox', { name: 'k-means clusters (optional)' }), '12')
    await userEvent.click(screen.getByRole('button', { name: 'Cluster the corpus' }))
    expect(startJob).toHaveBeenCalledWith({ kind: 'cluster', params: { embedder: '/models/bge.gguf', threshold: 0.7, maxDocs: 4, kMeans: 12 } })

    emit('onJobUpdate', makeClusterJob({ state: 'succeeded' }))
    expect(await screen.findByTestId('cluster-summary')).toHaveTextContent('4 clusters, 2 with several documents (largest 3)')
    await waitFor(() => expect(screen.getAllByTestId('cluster')).toHaveLength(1))

    await userEvent.click(screen.getByRole('button', { name: 'k-means' }))
    expect(listClusters).toHaveBeenLastCalledWith({ kind: 'kmeans', offset: 0, limit: 10 })
    await waitFor(() => expect(screen.getByTestId('cluster')).toHaveTextContent('Cluster 5'))
    expect(screen.getByRole('button', { name: 'k-means' })).toHaveAttribute('aria-pressed', 'true')
  })

  it('refuses a threshold out of range', async () => {
    const startJob = vi.fn()
    renderWizard({ startJob })
    const threshold = screen.getByRole('textbox', { name: 'Similarity threshold' })
    await userEvent.clear(threshold)
    await userEvent.type(threshold, '1.5')
    await userEvent.click(screen.getByRole('button', { name: 'Cluster the corpus' }))
    expect(screen.getByTestId('error-cluster-threshold')).toHaveTextContent('between -1 and 1')
    expect(startJob).not.toHaveBeenCalled()
  })
})

describe('DatasetSummaryView', () => {
  it('shows sequences, tokens per source, ratio, held-out documents, fill and tokenizer', () => {
    render(DatasetSummaryView, { dataset: makeDataset({ exported: '/data/out.jsonl' }) })
    expect(screen.getByTestId('dataset-sequences')).toHaveTextContent('120 × 2,048')
    expect(screen.getByTestId('dataset-tokens')).toHaveTextContent('243,000')
    expect(screen.getByTestId('dataset-tokens-regex')).toHaveTextContent('100,000')
    expect(screen.getByTestId('dataset-tokens-llm')).toHaveTextContent('23,000')
    expect(screen.getByTestId('dataset-tokens-instructions')).toHaveTextContent('120,000')
    expect(screen.getByTestId('dataset-ratio')).toHaveTextContent('1.02 : 1')
    expect(screen.getByTestId('dataset-heldout')).toHaveTextContent('2')
    expect(screen.getByTestId('dataset-fill')).toHaveTextContent('98.7%')
    expect(screen.getByTestId('dataset-tokenizer')).toHaveTextContent('estimate')
    expect(screen.getByTestId('dataset-exported')).toHaveTextContent('/data/out.jsonl')
  })

  it('says when no dataset was built, and shows no ratio without general data', () => {
    const { rerender } = render(DatasetSummaryView, { dataset: null })
    expect(screen.getByTestId('dataset-empty')).toBeInTheDocument()
    void rerender({ dataset: makeDataset({ achievedRatio: null }) })
    return waitFor(() => expect(screen.getByTestId('dataset-ratio')).toHaveTextContent('—'))
  })
})

describe('ComprehensionWizard: dataset', () => {
  it('shows the stored dataset on entry, builds a new one from the form, and shows it', async () => {
    const getDataset = vi.fn<Api['getDataset']>().mockResolvedValueOnce(makeDataset()).mockResolvedValueOnce(makeDataset({ sequences: 480 }))
    const chooseFile = vi.fn(async () => '/data/general.jsonl')
    const startJob = vi.fn(async () => makeDatasetJob({ state: 'queued' }))
    const { emit } = renderWizard({ getDataset, chooseFile, startJob })
    expect(await screen.findByTestId('dataset-sequences')).toHaveTextContent('120 × 2,048')

    await userEvent.click(screen.getByRole('button', { name: 'Choose General instructions to mix in (.jsonl, optional)' }))
    expect(chooseFile).toHaveBeenCalledWith({ title: 'Choose general instruction data', extensions: ['jsonl'] })
    const ratio = screen.getByRole('textbox', { name: 'Domain : general ratio (tokens)' })
    await userEvent.clear(ratio)
    await userEvent.type(ratio, '1:2')
    await userEvent.type(screen.getByRole('textbox', { name: 'Sequence length (tokens)' }), '4096')
    await userEvent.type(screen.getByRole('textbox', { name: 'Held-out fraction of documents' }), '0.1')
    await userEvent.type(screen.getByRole('textbox', { name: 'Also export to this JSONL file (optional)' }), '/data/out.jsonl')
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Export format' }), 'chat')
    await userEvent.click(screen.getByRole('button', { name: 'Build the dataset' }))
    expect(startJob).toHaveBeenCalledWith({
      kind: 'dataset',
      params: { mix: '/data/general.jsonl', ratio: '1:2', seqLen: 4096, heldout: 0.1, out: '/data/out.jsonl', format: 'chat' },
    })
    expect(await screen.findByTestId('dataset-build-job')).toHaveAttribute('data-state', 'queued')
    emit('onJobUpdate', makeDatasetJob({ state: 'succeeded' }))
    await waitFor(() => expect(screen.getByTestId('dataset-sequences')).toHaveTextContent('480 × 2,048'))
  })
})
