import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import ImportWizard from '../../../../src-renderer/src/screens/Import/ImportWizard.svelte'
import type { Api } from '../../../../src-main/shared/api'
import type { CorpusFileInfo } from '../../../../src-main/shared/types/corpus'
import { CorpusState } from '../../../../src-renderer/src/state/corpus.svelte'
import { makeChunk, makeChunkDetail, makeDocument, makeFile, makeImportDetail, makeImportJob, makeSummary, makeTotals } from '../../support/corpusFixtures'
import { fakeClient } from '../../support/fakeClient'
import { makeProject } from '../../support/fixtures'

const leases = makeFile({ id: 1, path: '/docs/leases.txt', documents: 1, chunks: 2 })
const broken = makeFile({ id: 2, path: '/docs/broken.pdf', format: 'pdf', status: 'failed', reason: 'Not a PDF file: no %PDF header', documents: 0, chunks: 0 })
const notes = makeFile({ id: 3, path: '/docs/notes.xyz', format: null, status: 'skipped', reason: 'unsupported file type .xyz', documents: 0, chunks: 0 })

function renderWizard(methods: Partial<Api> = {}, options: { files?: CorpusFileInfo[]; canBrowse?: boolean; pathForFile?: ((file: File) => string) | null } = {}) {
  const files = options.files ?? [leases, broken, notes]
  const { listCorpusFiles: pageOf, ...rest } = methods
  const calls = {
    getCurrentProject: vi.fn(async () => makeProject()),
    listJobs: vi.fn(async () => []),
    importFiles: vi.fn(async () => makeImportJob({ state: 'queued' })),
    ...rest,
    listCorpusFiles: vi.fn<Api['listCorpusFiles']>(
      pageOf ??
        (async (request) => {
          const shown = request.statuses ? files.filter((f) => request.statuses?.includes(f.status as never)) : files
          return { total: shown.length, files: shown }
        }),
    ),
  }
  const fake = fakeClient(calls)
  const corpus = new CorpusState(fake.client)
  render(ImportWizard, { corpus, canBrowse: options.canBrowse ?? true, pathForFile: options.pathForFile === undefined ? null : options.pathForFile })
  return { ...fake, corpus, calls }
}

const pathInput = (): HTMLElement => screen.getByRole('textbox', { name: 'Path to a file, folder or .zip' })
const chosenPaths = (): string[] => screen.queryAllByTestId('chosen-path').map((li) => li.querySelector('.path')?.textContent ?? '')

async function addPath(path: string): Promise<void> {
  await userEvent.clear(pathInput())
  await userEvent.type(pathInput(), path)
  await userEvent.click(screen.getByRole('button', { name: 'Add' }))
}

async function openAdvanced(): Promise<void> {
  await userEvent.click(screen.getByText('Advanced'))
}

describe('ImportWizard: choosing sources', () => {
  it('adds typed paths once each, trimmed, and removes them', async () => {
    renderWizard()
    expect(screen.getByRole('button', { name: 'Add' })).toBeDisabled()
    await addPath('  /docs/contracts ')
    await addPath('/docs/notes.md')
    await addPath('/docs/contracts')
    expect(chosenPaths()).toEqual(['/docs/contracts', '/docs/notes.md'])
    expect(pathInput()).toHaveValue('')

    await userEvent.click(screen.getByRole('button', { name: 'Remove /docs/contracts' }))
    expect(chosenPaths()).toEqual(['/docs/notes.md'])
  })

  it('adds what the native pickers return, and nothing when they are cancelled', async () => {
    const chooseImportPaths = vi.fn().mockResolvedValueOnce(['/a.pdf', '/b.docx']).mockResolvedValueOnce(null)
    renderWizard({ chooseImportPaths })
    await userEvent.click(screen.getByRole('button', { name: 'Add files…' }))
    expect(chooseImportPaths).toHaveBeenLastCalledWith({ folders: false })
    await waitFor(() => expect(chosenPaths()).toEqual(['/a.pdf', '/b.docx']))
    await userEvent.click(screen.getByRole('button', { name: 'Add folder…' }))
    expect(chooseImportPaths).toHaveBeenLastCalledWith({ folders: true })
    expect(chosenPaths()).toEqual(['/a.pdf', '/b.docx'])
  })

  it('offers no picker buttons without a native picker', () => {
    renderWizard({}, { canBrowse: false })
    expect(screen.queryByRole('button', { name: 'Add files…' })).not.toBeInTheDocument()
    expect(pathInput()).toBeInTheDocument()
  })

  it('adds dropped files through pathForFile in the desktop app', async () => {
    const pathForFile = vi.fn((file: File) => `/dropped/${file.name}`)
    renderWizard({}, { pathForFile })
    expect(screen.queryByTestId('drop-note')).not.toBeInTheDocument()
    const files = [new File(['x'], 'a.txt'), new File(['y'], 'b.md')]
    await fireEvent.drop(screen.getByTestId('drop-zone'), { dataTransfer: { files } })
    expect(chosenPaths()).toEqual(['/dropped/a.txt', '/dropped/b.md'])
  })

  it('explains that drop needs the desktop app in a plain browser', async () => {
    renderWizard({}, { pathForFile: null })
    expect(screen.getByTestId('drop-note')).toHaveTextContent('needs the desktop app')
    await fireEvent.drop(screen.getByTestId('drop-zone'), { dataTransfer: { files: [new File(['x'], 'a.txt')] } })
    expect(chosenPaths()).toEqual([])
    expect(screen.getByRole('status')).toHaveTextContent('type or paste the path')
  })
})

describe('ImportWizard: options and starting', () => {
  it('refuses to start without a path', async () => {
    const { calls } = renderWizard()
    await userEvent.click(screen.getByRole('button', { name: 'Start import' }))
    expect(screen.getByTestId('paths-error')).toHaveTextContent('Choose at least one file or folder')
    expect(calls.importFiles).not.toHaveBeenCalled()
    await addPath('/docs')
    expect(screen.queryByTestId('paths-error')).not.toBeInTheDocument()
  })

  it('shows the schema limits next to the Advanced fields, opening them, and does not start', async () => {
    const { calls } = renderWizard()
    await addPath('/docs')
    await openAdvanced()
    await userEvent.type(screen.getByRole('textbox', { name: 'Chunk size (tokens)' }), '8')
    await userEvent.type(screen.getByRole('textbox', { name: 'Near-duplicate threshold' }), '1')
    await openAdvanced() // closed again: a failed start must open it
    await userEvent.click(screen.getByRole('button', { name: 'Start import' }))
    expect(screen.getByRole('textbox', { name: 'Chunk size (tokens)' })).toBeVisible()
    expect(screen.getByTestId('error-chunk-tokens')).toHaveTextContent('Chunk size must be between 16 and 32768')
    expect(screen.getByRole('textbox', { name: 'Chunk size (tokens)' })).toHaveAttribute('aria-invalid', 'true')
    expect(screen.getByRole('textbox', { name: 'Chunk size (tokens)' })).toHaveAccessibleDescription('Chunk size must be between 16 and 32768')
    expect(screen.getByTestId('error-near-duplicate-threshold')).toHaveTextContent('between 0 and 1')
    expect(calls.importFiles).not.toHaveBeenCalled()

    await userEvent.clear(screen.getByRole('textbox', { name: 'Chunk size (tokens)' }))
    await userEvent.type(screen.getByRole('textbox', { name: 'Chunk size (tokens)' }), '128')
    await userEvent.type(screen.getByRole('textbox', { name: 'Overlap (tokens)' }), '128')
    expect(screen.queryByTestId('error-chunk-tokens')).not.toBeInTheDocument()
    expect(screen.getByTestId('error-overlap-tokens')).toHaveTextContent('Overlap must be smaller than the chunk size')
  })

  it('starts an import with the chosen paths and only the options that were set, then clears the paths', async () => {
    const { calls } = renderWizard()
    await addPath('/docs/a')
    await addPath('/docs/b.zip')
    await openAdvanced()
    await userEvent.type(screen.getByRole('textbox', { name: 'Chunk size (tokens)' }), '256')
    await userEvent.type(screen.getByRole('textbox', { name: 'Near-duplicate threshold' }), '0.9')
    await userEvent.type(screen.getByRole('textbox', { name: 'Text field (JSONL) or column (CSV)' }), 'body')
    await userEvent.click(screen.getByRole('button', { name: 'Start import' }))
    expect(calls.importFiles).toHaveBeenCalledWith({ paths: ['/docs/a', '/docs/b.zip'], chunkTokens: 256, nearDuplicateThreshold: 0.9, textField: 'body' })
    await waitFor(() => expect(chosenPaths()).toEqual([]))
    expect(screen.getByTestId('import-progress')).toHaveAttribute('data-state', 'queued')
  })

  it('shows a refused import as an alert and keeps the paths', async () => {
    renderWizard({ importFiles: async () => Promise.reject(new Error('No project is open')) })
    await addPath('/docs')
    await userEvent.click(screen.getByRole('button', { name: 'Start import' }))
    expect(await screen.findByTestId('corpus-error')).toHaveTextContent('No project is open')
    expect(chosenPaths()).toEqual(['/docs'])
  })
})

describe('ImportWizard: progress and summary', () => {
  it('renders live progress from job updates and cancels the job', async () => {
    const cancelJob = vi.fn(async () => makeImportJob({ state: 'running', cancelRequested: true }))
    const { emit, corpus } = renderWizard({ cancelJob })
    await corpus.startImport({ paths: ['/docs'] })
    emit('onJobUpdate', makeImportJob({ state: 'running', progress: { done: 3_250_000, total: 9_437_184, fraction: 0.344, message: '12 of 40 files · 3.1 MiB of 9.0 MiB · 311 chunks', etaSeconds: 75 } }))

    const progress = await screen.findByTestId('import-progress')
    await waitFor(() => expect(screen.getByTestId('import-progress-message')).toHaveTextContent('12 of 40 files · 3.1 MiB of 9.0 MiB · 311 chunks'))
    expect(screen.getByTestId('import-eta')).toHaveTextContent('1m 15s left')
    expect(within(progress).getByRole('progressbar', { name: 'Import progress' })).toHaveAttribute('aria-valuenow', '34')
    expect(screen.getByRole('button', { name: 'Importing…' })).toBeDisabled()

    await userEvent.click(within(progress).getByRole('button', { name: 'Cancel import' }))
    expect(cancelJob).toHaveBeenCalledWith({ jobId: '5' })
    await waitFor(() => expect(within(progress).getByRole('button', { name: 'Cancel import' })).toBeDisabled())
    expect(progress).toHaveTextContent('stopping…')
  })

  it('shows the summary and the failed and skipped files once the import succeeds, and refreshes the corpus', async () => {
    const summary = makeSummary()
    const getJob = vi.fn(async () => makeImportDetail(makeImportJob({ state: 'succeeded' }), summary))
    const { emit, corpus, calls } = renderWizard({ getJob })
    await corpus.startImport({ paths: ['/docs'] })
    const listedBefore = calls.listCorpusFiles.mock.calls.length
    emit('onJobUpdate', makeImportJob({ state: 'running' }))
    emit('onJobUpdate', makeImportJob({ state: 'succeeded' }))

    const shown = await screen.findByTestId('import-summary')
    expect(getJob).toHaveBeenCalledWith({ jobId: '5', logLimit: 0 })
    const value = (key: string): string | null => within(shown).getByTestId(`summary-${key}`).textContent
    expect([value('added'), value('updated'), value('unchanged'), value('empty'), value('skipped'), value('failed')]).toEqual(['4', '0', '0', '0', '1', '1'])
    expect([value('documents'), value('chunks'), value('tokens'), value('exact-duplicates'), value('near-duplicates')]).toEqual(['4', '9', '2,345', '1', '2'])
    expect(screen.getByTestId('import-progress')).toHaveTextContent('Import finished')
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument()

    const failed = within(screen.getByTestId('import-failed')).getAllByRole('listitem')
    expect(failed).toHaveLength(1)
    expect(failed[0]).toHaveTextContent('/docs/broken.pdf')
    expect(failed[0]).toHaveTextContent('Not a PDF file: no %PDF header')
    expect(screen.getByTestId('import-skipped')).toHaveTextContent('/docs/notes.xyz')
    expect(screen.getByTestId('corpus-totals')).toHaveTextContent('6 file(s) · 4 documents · 6 chunks in use (2,345 tokens) · 1 exact and 2 near duplicates set aside')
    await waitFor(() => expect(calls.listCorpusFiles.mock.calls.length).toBeGreaterThan(listedBefore))
  })

  it('shows why an import failed', async () => {
    const { emit, corpus } = renderWizard()
    await corpus.startImport({ paths: ['/docs'] })
    emit('onJobUpdate', makeImportJob({ state: 'failed', error: { code: 'not_found', message: '/docs does not exist' } }))
    expect(await screen.findByRole('alert')).toHaveTextContent('/docs does not exist')
    expect(screen.getByTestId('import-progress')).toHaveTextContent('Import failed')
  })

  it('says when the corpus is empty', async () => {
    renderWizard({ getCurrentProject: async () => makeProject({ corpus: makeTotals() }) }, { files: [] })
    await waitFor(() => expect(screen.getByTestId('corpus-totals')).toHaveTextContent('The corpus is empty'))
    expect(await screen.findByTestId('files-empty')).toHaveTextContent('No files imported yet.')
  })
})

describe('ImportWizard: files and chunks', () => {
  it('lists the files with status badges and reasons, and filters them by status', async () => {
    const { calls } = renderWizard()
    await waitFor(() => expect(screen.getAllByTestId('corpus-file-row')).toHaveLength(3))
    const rows = screen.getAllByTestId('corpus-file-row')
    expect(rows[0]).toHaveTextContent('/docs/leases.txt')
    expect(within(rows[0]!).getByTestId('file-status')).toHaveTextContent('Imported')
    expect(within(rows[1]!).getByTestId('file-status')).toHaveTextContent('Failed')
    expect(rows[1]).toHaveTextContent('Not a PDF file: no %PDF header')
    expect(screen.getByTestId('files-count')).toHaveTextContent('3 file(s)')

    const filters = within(screen.getByRole('group', { name: 'Show files' }))
    await userEvent.click(filters.getByRole('button', { name: 'Failed' }))
    expect(calls.listCorpusFiles).toHaveBeenLastCalledWith({ offset: 0, limit: 50, statuses: ['failed'] })
    await waitFor(() => expect(screen.getAllByTestId('corpus-file-row')).toHaveLength(1))
    expect(filters.getByRole('button', { name: 'Failed' })).toHaveAttribute('aria-pressed', 'true')
    expect(screen.getByTestId('corpus-file-row')).toHaveAttribute('data-status', 'failed')

    await userEvent.click(filters.getByRole('button', { name: 'Empty' }))
    expect(await screen.findByTestId('files-empty')).toHaveTextContent('No empty files.')
    await userEvent.click(filters.getByRole('button', { name: 'All' }))
    expect(calls.listCorpusFiles).toHaveBeenLastCalledWith({ offset: 0, limit: 50 })
  })

  it('renders a window of many files, fetching the page of the last one when moved to the end', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => makeFile({ id: i + 1, path: `/docs/f${String(i).padStart(5, '0')}.txt` }))
    const { calls } = renderWizard({
      listCorpusFiles: async ({ offset = 0, limit = 50 }) => ({ total: many.length, files: many.slice(offset, offset + limit) }),
    })
    await waitFor(() => expect(screen.getByTestId('files-count')).toHaveTextContent('10,000 file(s)'))
    expect(screen.getAllByTestId('corpus-file-row').length).toBeLessThan(50)
    const grid = screen.getByRole('grid', { name: 'Files in the corpus' })
    grid.focus()
    await userEvent.keyboard('{End}')
    await waitFor(() => expect(screen.getByRole('button', { name: 'Show chunks of /docs/f09999.txt' })).toBeInTheDocument())
    expect(calls.listCorpusFiles).toHaveBeenLastCalledWith({ offset: 9950, limit: 50 })
    expect(screen.getAllByTestId('corpus-file-row').length).toBeLessThan(50)
  })

  it('shows a file’s chunks, and a chunk with its source location, context and duplicate status; Restore restores it', async () => {
    const duplicate = makeChunk({ id: 101, ordinal: 1, charStart: 1200, charEnd: 3400, pageStart: 3, pageEnd: 4, duplicateOf: 7, duplicateKind: 'near', similarity: 0.9071 })
    const detail = makeChunkDetail({
      ...duplicate,
      section: 'Termination',
      tokenCount: 512,
      text: 'Either party may end the lease.',
      before: 'Rent is due monthly. ',
      after: ' Notice must be written.',
      document: makeDocument({ path: '/docs/leases.pdf', locator: '' }),
    })
    const restored = { ...duplicate, duplicateOf: null, keptByUser: true }
    const listChunks = vi.fn(async () => ({ total: 2, chunks: [makeChunk(), duplicate] }))
    const listDocuments = vi.fn(async () => [makeDocument()])
    const getChunk = vi.fn(async () => detail)
    const restoreChunk = vi.fn(async () => restored)
    const { calls } = renderWizard({ listChunks, listDocuments, getChunk, restoreChunk })

    await userEvent.click(await screen.findByRole('button', { name: 'Show chunks of /docs/leases.txt' }))
    expect(listDocuments).toHaveBeenCalledWith({ fileId: 1 })
    expect(listChunks).toHaveBeenCalledWith({ fileId: 1, offset: 0, limit: 100 })
    const items = await screen.findAllByTestId('chunk-item')
    expect(items).toHaveLength(2)
    expect(items[1]).toHaveTextContent('near duplicate')
    expect(items[1]).toHaveTextContent('p. 3–4')

    await userEvent.click(within(items[1]!).getByRole('button', { name: 'Open chunk #101' }))
    expect(getChunk).toHaveBeenCalledWith({ chunkId: 101 })
    const viewer = await screen.findByRole('region', { name: 'Chunk #101' })
    expect(within(viewer).getByTestId('chunk-source')).toHaveTextContent('/docs/leases.pdf')
    expect(within(viewer).getByTestId('chunk-pages')).toHaveTextContent('p. 3–4')
    expect(viewer).toHaveTextContent('Termination')
    expect(within(viewer).getByTestId('chunk-span')).toHaveTextContent('chars 1200–3400')
    expect(within(viewer).getByTestId('chunk-tokens')).toHaveTextContent('512')
    expect(within(viewer).getByTestId('chunk-before')).toHaveTextContent('Rent is due monthly.')
    expect(within(viewer).getByTestId('chunk-text')).toHaveTextContent('Either party may end the lease.')
    expect(within(viewer).getByTestId('chunk-after')).toHaveTextContent('Notice must be written.')
    expect(within(viewer).getByTestId('chunk-duplicate')).toHaveTextContent('Near duplicate (similarity 0.91) of chunk #7')

    const listedBefore = calls.listCorpusFiles.mock.calls.length
    await userEvent.click(within(viewer).getByRole('button', { name: 'Restore' }))
    expect(restoreChunk).toHaveBeenCalledWith({ chunkId: 101 })
    await waitFor(() => expect(within(viewer).getByTestId('chunk-duplicate')).toHaveTextContent('Restored by you (was a near duplicate (similarity 0.91))'))
    expect(within(viewer).queryByRole('button', { name: 'Restore' })).not.toBeInTheDocument()
    expect(screen.getAllByTestId('chunk-item')[1]).toHaveTextContent('restored')
    await waitFor(() => expect(calls.listCorpusFiles.mock.calls.length).toBeGreaterThan(listedBefore))
  })

  it('opens the chunk a duplicate copies', async () => {
    const getChunk = vi.fn(async ({ chunkId }: { chunkId: number }) =>
      chunkId === 101 ? makeChunkDetail({ id: 101, duplicateOf: 7, duplicateKind: 'exact', similarity: 1 }) : makeChunkDetail({ id: 7 }),
    )
    renderWizard({ listChunks: async () => ({ total: 1, chunks: [makeChunk({ id: 101 })] }), listDocuments: async () => [makeDocument()], getChunk })
    await userEvent.click(await screen.findByRole('button', { name: 'Show chunks of /docs/leases.txt' }))
    await userEvent.click(await screen.findByRole('button', { name: 'Open chunk #101' }))
    const viewer = await screen.findByTestId('chunk-viewer')
    expect(within(viewer).getByTestId('chunk-duplicate')).toHaveTextContent('Exact duplicate of chunk #7')
    await userEvent.click(within(viewer).getByRole('button', { name: 'Show chunk #7' }))
    expect(await screen.findByRole('region', { name: 'Chunk #7' })).toBeInTheDocument()
    expect(screen.getByTestId('chunk-viewer')).not.toContainElement(screen.queryByTestId('chunk-duplicate'))
  })

  it('restores a document set aside as an exact duplicate', async () => {
    const restoreDocument = vi.fn(async () => ({ chunks: 2 }))
    const listDocuments = vi.fn(async () => [makeDocument({ id: 11, title: 'Copy', duplicateOf: 10 })])
    renderWizard({ listChunks: async () => ({ total: 0, chunks: [] }), listDocuments, restoreDocument })
    await userEvent.click(await screen.findByRole('button', { name: 'Show chunks of /docs/leases.txt' }))
    const duplicates = await screen.findByRole('list', { name: 'Duplicate documents' })
    expect(duplicates).toHaveTextContent('Copy: exact copy of document #10')
    await userEvent.click(within(duplicates).getByRole('button', { name: 'Restore document' }))
    expect(restoreDocument).toHaveBeenCalledWith({ documentId: 11 })
    await waitFor(() => expect(listDocuments).toHaveBeenCalledTimes(2))
  })
})
