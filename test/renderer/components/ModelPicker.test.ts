import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../src-main/shared/api'
import type { LibraryModel, ModelFacts } from '../../../src-main/shared/types/models'
import type { TrainParamsInput } from '../../../src-main/shared/types/train'
import ModelPicker from '../../../src-renderer/src/components/ModelPicker.svelte'
import TrainForm from '../../../src-renderer/src/screens/Train/TrainForm.svelte'
import { ModelsState } from '../../../src-renderer/src/state/models.svelte'
import { fakeClient } from '../support/fakeClient'
import { makeLibraryModel } from '../support/fixtures'

function makeModel(id: string, overrides: Partial<LibraryModel> = {}, facts: Partial<ModelFacts> = {}): LibraryModel {
  return makeLibraryModel({ id, path: `/models/${id}.gguf`, ...overrides }, { displayName: `Model ${id}`, sizeBytes: 500 * 2 ** 20, ...facts })
}

function libraryOf(models: LibraryModel[], methods: Partial<Api> = {}) {
  const fake = fakeClient({ listModels: async () => models, listRecommendedModels: async () => [], ...methods })
  return { fake, models: new ModelsState(fake.client) }
}

const chooseFile = async (): Promise<string | null> => null

function renderPicker(models: ModelsState, props: { noneLabel?: string; onOpenModels?: () => void } = {}) {
  return render(ModelPicker, {
    id: 'test-base',
    label: 'Base model',
    role: 'base',
    value: '',
    placeholder: '/models/base.gguf',
    canBrowse: false,
    pickerTitle: 'Choose the base model',
    extensions: ['gguf'],
    chooseFile,
    models,
    ...props,
  })
}

/** TrainForm, a real form, hands on whatever its picker chose as `base`. */
function renderTrainForm(models: ModelsState) {
  const onStart = vi.fn(async (_params: TrainParamsInput) => true)
  render(TrainForm, { canBrowse: false, chooseFile, busy: false, onParamsChange: () => {}, onStart, models })
  return { onStart }
}

const optionTexts = (select: HTMLElement): string[] => within(select).getAllByRole('option').map((o) => o.textContent ?? '')

beforeEach(() => localStorage.clear())

describe('ModelPicker', () => {
  it('lists the models given the role with their facts, disables unusable ones with the reason, and preselects the only usable one', async () => {
    const { models } = libraryOf([
      makeModel('good'),
      makeModel('gone', { status: 'missing', problem: '/models/gone.gguf is gone: it was moved or deleted.' }),
      makeModel('embed', { roles: ['embedder'] }, { displayName: 'Embedder only' }),
    ])
    renderPicker(models)
    const select = await screen.findByRole('combobox', { name: 'Base model' })
    await waitFor(() => expect(select).toHaveValue('good'))
    const texts = optionTexts(select)
    expect(texts).toEqual([
      'Choose a base model…',
      'Model good · qwen2, 494 M, Q8_0, 500.0 MB',
      'Model gone · qwen2, 494 M, Q8_0, 500.0 MB (unavailable: /models/gone.gguf is gone: it was moved or deleted.)',
      'Other file…',
    ])
    expect(within(select).getByRole('option', { name: /Model gone/ })).toBeDisabled()
    expect(within(select).getByRole('option', { name: /Model good/ })).toBeEnabled()
    expect(screen.getByTestId('model-picker-path')).toHaveTextContent('/models/good.gguf')
    expect(screen.queryByRole('textbox')).toBeNull()
    expect(screen.queryByTestId('model-picker-empty')).toBeNull()
  })

  it('preselects the model chosen last for the role, and nothing when none is a valid answer', async () => {
    const { models } = libraryOf([makeModel('a'), makeModel('b')])
    const first = renderPicker(models)
    const select = await screen.findByRole('combobox', { name: 'Base model' })
    await waitFor(() => expect(optionTexts(select)).toHaveLength(4))
    // Two usable models and no earlier choice: the user picks.
    expect(select).toHaveValue('')
    await userEvent.selectOptions(select, 'b')
    expect(models.lastChoice('base')).toBe('/models/b.gguf')
    first.unmount()

    const reopened = renderPicker(models)
    await waitFor(() => expect(screen.getByRole('combobox', { name: 'Base model' })).toHaveValue('b'))
    reopened.unmount()

    renderPicker(models, { noneLabel: 'None: mine with rules' })
    const optional = screen.getByRole('combobox', { name: 'Base model' })
    expect(optional).toHaveValue('')
    expect(within(optional).getByRole('option', { name: 'None: mine with rules' })).toBeEnabled()
  })

  it('hands the form the chosen model path, and a typed path through "Other file…"', async () => {
    const { models } = libraryOf([makeModel('lib')])
    const { onStart } = renderTrainForm(models)
    const select = await screen.findByRole('combobox', { name: /^Base model/ })
    await waitFor(() => expect(select).toHaveValue('lib'))
    await userEvent.click(screen.getByRole('button', { name: 'Start training' }))
    expect(onStart).toHaveBeenLastCalledWith(expect.objectContaining({ base: '/models/lib.gguf' }))

    await userEvent.selectOptions(select, 'other')
    const path = screen.getByRole('textbox', { name: 'Base model (.gguf or Hugging Face folder): file path' })
    expect(path).toHaveValue('')
    await userEvent.click(screen.getByRole('button', { name: 'Start training' }))
    expect(screen.getByTestId('error-train-base-path')).toHaveTextContent('Base model: choose')
    await userEvent.type(path, '/elsewhere/qwen.gguf')
    await userEvent.click(screen.getByRole('button', { name: 'Start training' }))
    expect(onStart).toHaveBeenLastCalledWith(expect.objectContaining({ base: '/elsewhere/qwen.gguf' }))
    expect(select).toHaveValue('other')
  })

  it('adds a typed path to the library, with the picker role, and then shows it as chosen', async () => {
    const added = makeModel('new', { path: '/elsewhere/new.gguf', roles: ['generator'] })
    const addModel = vi.fn(async () => added)
    const setModelRoles = vi.fn(async ({ roles }: { id: string; roles: LibraryModel['roles'] }) => ({ ...added, roles }))
    const { models } = libraryOf([], { addModel, setModelRoles })
    renderPicker(models)
    const path = await screen.findByRole('textbox', { name: 'Base model' })
    await userEvent.type(path, '/elsewhere/new.gguf')
    await userEvent.click(screen.getByRole('button', { name: 'Add to library: Base model' }))
    const select = await screen.findByRole('combobox', { name: 'Base model' })
    expect(select).toHaveValue('new')
    expect(addModel).toHaveBeenCalledWith({ path: '/elsewhere/new.gguf' })
    expect(setModelRoles).toHaveBeenCalledWith({ id: 'new', roles: ['generator', 'base'] })
    expect(screen.queryByRole('textbox')).toBeNull()
  })

  it('shows why the library refused a typed path, and keeps the path', async () => {
    const addModel = vi.fn(async () => {
      throw new Error('/elsewhere/broken.gguf: the file is truncated or damaged')
    })
    const { models } = libraryOf([], { addModel })
    renderPicker(models)
    const path = await screen.findByRole('textbox', { name: 'Base model' })
    await userEvent.type(path, '/elsewhere/broken.gguf')
    await userEvent.click(screen.getByRole('button', { name: 'Add to library: Base model' }))
    expect(await screen.findByTestId('model-picker-add-failure')).toHaveTextContent('truncated or damaged')
    expect(path).toHaveValue('/elsewhere/broken.gguf')
  })

  it('says the library has no model for the role, links to the Models page and keeps the path field', async () => {
    const onOpenModels = vi.fn()
    const { models } = libraryOf([makeModel('gen', { roles: ['generator'] })])
    renderPicker(models, { onOpenModels })
    expect(await screen.findByTestId('model-picker-empty')).toHaveTextContent('No base model in your library yet — add one on the Models page, or choose a file.')
    expect(screen.queryByRole('combobox')).toBeNull()
    expect(screen.getByRole('textbox', { name: 'Base model' })).toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Models page' }))
    expect(onOpenModels).toHaveBeenCalledTimes(1)
  })

  it('follows the library while open: a finished download appears and is preselected', async () => {
    let listed: LibraryModel[] = []
    const { fake, models } = libraryOf([], { listModels: async () => listed })
    renderPicker(models)
    await screen.findByTestId('model-picker-empty')
    expect(fake.listenerCount('onModelDownload')).toBe(1)
    listed = [makeModel('fetched', { recommendedId: 'qwen' })]
    fake.emit('onModelDownload', { recommendedId: 'qwen', status: 'succeeded', receivedBytes: 1, totalBytes: 1, resumedFromBytes: 0, error: null, modelId: 'fetched' })
    const select = await screen.findByRole('combobox', { name: 'Base model' })
    await waitFor(() => expect(select).toHaveValue('fetched'))
    expect(screen.queryByTestId('model-picker-empty')).toBeNull()
  })
})
