import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import { LecternError } from '../../../../src-main/shared/errors'
import type { LibraryModel, ModelDownload, RecommendedModelInfo } from '../../../../src-main/shared/types/models'
import ModelsPage from '../../../../src-renderer/src/screens/Models/ModelsPage.svelte'
import { ModelsState } from '../../../../src-renderer/src/state/models.svelte'
import { fakeClient } from '../../support/fakeClient'
import { makeLibraryModel } from '../../support/fixtures'

const TEMPLATE = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>{% endfor %}"

function makeModel(overrides: Partial<LibraryModel> = {}, facts: Partial<LibraryModel['facts']> = {}): LibraryModel {
  return makeLibraryModel(overrides, { chatTemplate: TEMPLATE, ...facts })
}

function makeRecommended(overrides: Partial<RecommendedModelInfo> = {}): RecommendedModelInfo {
  return {
    id: 'embed',
    name: 'nomic-embed-text v1.5 (Q8_0)',
    description: 'An embedding model.',
    url: 'https://example.invalid/embed.gguf',
    fileName: 'embed.gguf',
    sizeBytes: 146_000_000,
    sha256: 'c'.repeat(64),
    roles: ['embedder'],
    license: 'Apache-2.0',
    source: 'test',
    modelId: null,
    download: null,
    ...overrides,
  }
}

function renderPage(methods: Partial<Api>, options: { offline?: boolean | null; pathForFile?: ((file: File) => string) | null } = {}) {
  const fake = fakeClient({ listModels: async () => [], listRecommendedModels: async () => [], ...methods })
  const models = new ModelsState(fake.client)
  render(ModelsPage, { models, canBrowse: false, pathForFile: options.pathForFile ?? null, offline: options.offline === undefined ? true : options.offline })
  return { fake, models }
}

describe('ModelsPage', () => {
  it('shows each model with its facts, roles and a collapsible chat template', async () => {
    renderPage({ listModels: async () => [makeModel()] })
    const card = await screen.findByRole('article', { name: 'Qwen2.5 0.5B Instruct' })
    const view = within(card)
    expect(view.getByTestId('model-architecture')).toHaveTextContent('qwen2')
    expect(view.getByTestId('model-quantization')).toHaveTextContent('Q8_0')
    expect(view.getByText('494 M')).toBeInTheDocument()
    expect(view.getByText('32,768 tokens')).toBeInTheDocument()
    expect(view.getByTestId('model-chat-template')).toHaveTextContent('yes')
    const template = view.getByText('Show chat template').closest('details')!
    expect(template).not.toHaveAttribute('open')
    expect(template.querySelector('pre')).toHaveTextContent('<|im_start|>')
    expect(view.getByRole('checkbox', { name: /Generator/ })).toBeChecked()
    expect(view.getByRole('checkbox', { name: /Embedder/ })).not.toBeChecked()
    expect(view.getByRole('checkbox', { name: /Base for training/ })).toBeChecked()
  })

  it('shows a refused file with its path and reason, and keeps working for the next one', async () => {
    const good = makeModel({ id: 'model-2', path: '/models/good.gguf' }, { displayName: 'Good one' })
    const addModel = vi.fn(async ({ path }: { path: string }) => {
      if (path === '/models/broken.gguf') {
        throw new LecternError('invalid_model_file', '/models/broken.gguf: tensor x data runs past the end of the file: the file is truncated or damaged', { file: path })
      }
      return good
    })
    renderPage({ addModel })
    const user = userEvent.setup()
    const input = screen.getByRole('textbox', { name: /Path to a .gguf file/ })
    await user.type(input, '/models/broken.gguf')
    await user.click(screen.getByRole('button', { name: 'Add model' }))
    const failure = await screen.findByTestId('model-failure')
    expect(failure).toHaveTextContent('Could not add /models/broken.gguf')
    expect(failure).toHaveTextContent('the file is truncated or damaged')
    expect(await screen.findByTestId('models-empty')).toBeInTheDocument()

    await user.type(input, '/models/good.gguf')
    await user.click(screen.getByRole('button', { name: 'Add model' }))
    expect(await screen.findByRole('article', { name: 'Good one' })).toBeInTheDocument()
    expect(screen.getByTestId('model-failure')).toBeInTheDocument()
    await user.click(within(screen.getByTestId('model-failure')).getByRole('button', { name: 'Dismiss' }))
    expect(screen.queryByTestId('model-failure')).toBeNull()
    expect(addModel).toHaveBeenCalledTimes(2)
  })

  it('flags a model whose file went missing and disables roles it cannot take', async () => {
    renderPage({
      listModels: async () => [
        makeModel({ status: 'missing', problem: '/models/qwen.gguf is gone: it was moved or deleted.' }),
        makeModel({ id: 'model-3', path: '/models/hf', roles: ['base'] }, { format: 'hf-folder', displayName: 'HF folder', llamaCppUsable: false, chatTemplate: null }),
      ],
    })
    const missing = await screen.findByRole('article', { name: 'Qwen2.5 0.5B Instruct' })
    expect(within(missing).getByTestId('model-status')).toHaveTextContent('File missing')
    expect(within(missing).getByRole('alert')).toHaveTextContent('is gone')
    const folder = screen.getByRole('article', { name: 'HF folder' })
    expect(within(folder).getByRole('checkbox', { name: /Generator/ })).toBeDisabled()
    expect(within(folder).getByRole('checkbox', { name: /Base for training/ })).toBeEnabled()
    expect(within(folder).queryByText('Show chat template')).toBeNull()
  })

  it('changes roles through the API', async () => {
    const setModelRoles = vi.fn(async () => makeModel({ roles: ['generator'] }))
    renderPage({ listModels: async () => [makeModel()], setModelRoles })
    const card = await screen.findByRole('article', { name: 'Qwen2.5 0.5B Instruct' })
    await userEvent.setup().click(within(card).getByRole('checkbox', { name: /Base for training/ }))
    expect(setModelRoles).toHaveBeenCalledWith({ id: 'model-1', roles: ['generator'] })
    await waitFor(() => expect(within(card).getByRole('checkbox', { name: /Base for training/ })).not.toBeChecked())
  })

  it('disables downloads while offline and says why', async () => {
    renderPage({ listRecommendedModels: async () => [makeRecommended({ sha256: null })] }, { offline: true })
    const item = await screen.findByTestId('recommended-model')
    expect(within(item).getByRole('button', { name: 'Download' })).toBeDisabled()
    expect(screen.getByTestId('offline-note')).toHaveTextContent('Offline mode is on')
    expect(item).toHaveTextContent('no checksum could be verified')
  })

  it('downloads when online, following progress events to the end', async () => {
    const running: ModelDownload = { recommendedId: 'embed', status: 'running', receivedBytes: 0, totalBytes: 146_000_000, resumedFromBytes: 0, error: null, modelId: null }
    const downloadModel = vi.fn(async () => running)
    let listed: LibraryModel[] = []
    let offered = [makeRecommended()]
    const { fake } = renderPage({ listRecommendedModels: async () => offered, downloadModel, listModels: async () => listed }, { offline: false })
    const item = await screen.findByTestId('recommended-model')
    await userEvent.setup().click(within(item).getByRole('button', { name: 'Download' }))
    expect(downloadModel).toHaveBeenCalledWith({ recommendedId: 'embed' })
    fake.emit('onModelDownload', { ...running, receivedBytes: 73_000_000, resumedFromBytes: 10_000_000 })
    await waitFor(() => expect(within(item).getByTestId('download-progress')).toHaveTextContent('50% of 139.2 MB, resumed at 9.5 MB'))
    const succeeded: ModelDownload = { ...running, status: 'succeeded', receivedBytes: 146_000_000, modelId: 'model-9' }
    listed = [makeModel({ id: 'model-9', recommendedId: 'embed' }, { displayName: 'nomic' })]
    offered = [makeRecommended({ modelId: 'model-9', download: succeeded })]
    fake.emit('onModelDownload', succeeded)
    expect(await screen.findByRole('article', { name: 'nomic' })).toBeInTheDocument()
    expect(within(item).getByText('In your library.')).toBeInTheDocument()
  })

  it('adds dropped files by their path where the shell gives one', async () => {
    const addModel = vi.fn(async () => makeModel())
    renderPage({ addModel }, { pathForFile: (file) => `/dropped/${file.name}` })
    const zone = screen.getByRole('region', { name: 'Drop model files here' })
    const file = new File(['x'], 'qwen.gguf')
    const event = new Event('drop', { bubbles: true, cancelable: true }) as unknown as DragEvent
    Object.defineProperty(event, 'dataTransfer', { value: { files: [file] } })
    zone.dispatchEvent(event)
    await waitFor(() => expect(addModel).toHaveBeenCalledWith({ path: '/dropped/qwen.gguf' }))
  })
})
