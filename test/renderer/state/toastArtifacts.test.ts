import { render, screen, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../src-main/shared/api'
import type { DatasetSummary } from '../../../src-main/shared/types/comprehension'
import ToastStack from '../../../src-renderer/src/components/ToastStack.svelte'
import { ToastsState } from '../../../src-renderer/src/state/toasts.svelte'
import { makeExport, makeRun } from '../screens/Export/exportFixtures'
import { fakeClient } from '../support/fakeClient'
import { makeJob } from '../support/fixtures'

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

function artifactsClient(methods: Partial<Api> = {}) {
  const calls = {
    listExports: vi.fn<Api['listExports']>(async () => [makeExport({ jobId: '20', path: '/home/me/models/run-12-q8_0.gguf', status: 'verified' })]),
    getDataset: vi.fn<Api['getDataset']>(async () => ({ dir: '/home/me/contracts/dataset' }) as DatasetSummary),
    listRuns: vi.fn<Api['listRuns']>(async () => [makeRun({ jobId: '12', adapterFile: '/home/me/contracts/runs/run-12/adapter.safetensors' })]),
    showInFolder: vi.fn<Api['showInFolder']>(async () => true),
    ...methods,
  }
  const fake = fakeClient(calls)
  return { ...fake, calls, state: new ToastsState(fake.client) }
}

describe('toasts for finished artifacts', () => {
  it('shows what a finished export, dataset and training run wrote, once per attempt, each with Show in folder', async () => {
    const { state, emit, calls, listenerCount } = artifactsClient()
    const stop = state.followJobArtifacts()
    emit('onJobUpdate', makeJob({ id: '20', kind: 'export', label: 'Export run-12 as gguf Q8_0', state: 'running' }))
    emit('onJobUpdate', makeJob({ id: '20', kind: 'export', label: 'Export run-12 as gguf Q8_0', state: 'succeeded' }))
    emit('onJobUpdate', makeJob({ id: '20', kind: 'export', label: 'Export run-12 as gguf Q8_0', state: 'succeeded' }))
    emit('onJobUpdate', makeJob({ id: '21', kind: 'dataset', label: 'Build the dataset', state: 'succeeded' }))
    emit('onJobUpdate', makeJob({ id: '12', kind: 'train', label: 'Train MoRA rank 8', state: 'succeeded' }))
    emit('onJobUpdate', makeJob({ id: '22', kind: 'demo', label: 'Demo job', state: 'succeeded' }))
    await settle()
    expect(state.toasts.map((t) => [t.tone, t.title, t.file, t.action?.label])).toEqual([
      ['success', 'Export run-12 as gguf Q8_0: done', '/home/me/models/run-12-q8_0.gguf', 'Show in folder'],
      ['success', 'Build the dataset: done', '/home/me/contracts/dataset', 'Show in folder'],
      ['success', 'Train MoRA rank 8: done', '/home/me/contracts/runs/run-12/adapter.safetensors', 'Show in folder'],
    ])
    expect(calls.listExports).toHaveBeenCalledTimes(1)
    state.toasts[0]!.action!.run()
    await settle()
    expect(calls.showInFolder).toHaveBeenCalledWith({ path: '/home/me/models/run-12-q8_0.gguf' })
    stop()
    expect(listenerCount('onJobUpdate')).toBe(0)
  })

  it('says where the file is when there is no file manager, and shows a failed look-up as an error', async () => {
    const { state } = artifactsClient({
      showInFolder: async () => false,
      getDataset: async () => {
        throw new Error('project.db is locked')
      },
    })
    await state.pushJobArtifact(makeJob({ id: '20', kind: 'export', label: 'Export', state: 'succeeded' }))
    await state.showInFolder('/home/me/models/run-12-q8_0.gguf')
    await state.pushJobArtifact(makeJob({ id: '21', kind: 'dataset', label: 'Build the dataset', state: 'succeeded' }))
    expect(state.toasts.map((t) => [t.tone, t.title, t.message, t.file])).toEqual([
      ['success', 'Export: done', 'The export is written and verified.', '/home/me/models/run-12-q8_0.gguf'],
      ['info', 'No file manager here', 'Open this path yourself:', '/home/me/models/run-12-q8_0.gguf'],
      ['error', 'Cannot find what Build the dataset wrote', 'project.db is locked', null],
    ])
  })

  it('shows no toast for an export that did not verify', async () => {
    const { state } = artifactsClient({ listExports: async () => [makeExport({ jobId: '20', status: 'failed' })] })
    await state.pushJobArtifact(makeJob({ id: '20', kind: 'export', label: 'Export', state: 'succeeded' }))
    expect(state.toasts).toEqual([])
  })

  it('renders a success toast as a status with its action button', async () => {
    const run = vi.fn()
    render(ToastStack, {
      toasts: [{ id: 1, key: 'k', code: 'finished', title: 'Export: done', message: 'Written.', file: '/m/x.gguf', detail: null, count: 1, tone: 'success', action: { label: 'Show in folder', run } }],
      onDismiss: vi.fn(),
    })
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
    const toast = screen.getByRole('status')
    expect(toast).toHaveTextContent('File: /m/x.gguf')
    expect(toast).not.toHaveTextContent('finished')
    await userEvent.click(within(toast).getByRole('button', { name: 'Show in folder' }))
    expect(run).toHaveBeenCalledTimes(1)
  })
})
