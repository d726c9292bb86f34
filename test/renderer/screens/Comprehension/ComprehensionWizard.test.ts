import { fireEvent, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import type { JobSummary } from '../../../../src-main/shared/types/jobs'
import {
  makeComprehendJob,
  makeComprehendSummary,
  makeDetail,
  makePair,
  makePreviewJob,
  makePreviewSummary,
  renderWizard as renderComprehensionWizard,
} from './comprehensionFixtures'

/** The wizard with some mined tasks and pairs already counted. */
function renderWizard(methods: Partial<Api> = {}, options: { canBrowse?: boolean } = {}): ReturnType<typeof renderComprehensionWizard> {
  return renderComprehensionWizard(methods, { ...options, totals: { rcChunks: 3, rcTasks: 9, acceptedPairs: 4, rejectedPairs: 1 } })
}

const generatorInput = (): HTMLElement => screen.getByRole('textbox', { name: 'Instruct model (.gguf)' })

async function chooseLocalModel(path: string): Promise<void> {
  await userEvent.click(screen.getByRole('radio', { name: 'Questions by a local model (ETRC)' }))
  await userEvent.type(generatorInput(), path)
}

const running = (message: string): Partial<JobSummary> => ({ state: 'running', progress: { done: 40, total: 120, fraction: 1 / 3, message, etaSeconds: 90 } })

describe('ComprehensionWizard: mode and model', () => {
  it('shows the totals header', async () => {
    renderWizard()
    await waitFor(() => expect(screen.getByTestId('totals-pairs')).toHaveTextContent('4 QA pairs kept, 1 rejected'))
    expect(screen.getByTestId('totals-rc')).toHaveTextContent('9 mined tasks in 3 chunks')
    expect(screen.getByTestId('totals-clusters')).toHaveTextContent('not clustered')
  })

  it('fills the model path from the native picker with .gguf files, and keeps the path typeable', async () => {
    const chooseFile = vi.fn<Api['chooseFile']>().mockResolvedValueOnce('/models/qwen.gguf').mockResolvedValueOnce(null)
    renderWizard({ chooseFile })
    expect(screen.queryByRole('textbox', { name: 'Instruct model (.gguf)' })).not.toBeInTheDocument()
    await userEvent.click(screen.getByRole('radio', { name: 'Questions by a local model (ETRC)' }))
    await userEvent.click(screen.getByRole('button', { name: 'Choose Instruct model (.gguf)' }))
    expect(chooseFile).toHaveBeenLastCalledWith({ title: 'Choose the model that writes the questions', extensions: ['gguf'] })
    await waitFor(() => expect(generatorInput()).toHaveValue('/models/qwen.gguf'))
    await userEvent.click(screen.getByRole('button', { name: 'Choose Instruct model (.gguf)' }))
    expect(generatorInput()).toHaveValue('/models/qwen.gguf')
  })

  it('offers no Choose… button without a native picker', async () => {
    renderWizard({}, { canBrowse: false })
    await userEvent.click(screen.getByRole('radio', { name: 'Questions by a local model (ETRC)' }))
    expect(generatorInput()).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: /^Choose/ })).not.toBeInTheDocument()
  })

  it('refuses to start llm mode without a model, naming the field', async () => {
    const { calls } = renderWizard({ startJob: vi.fn() })
    await userEvent.click(screen.getByRole('radio', { name: 'Questions by a local model (ETRC)' }))
    await userEvent.click(screen.getByRole('button', { name: 'Generate questions' }))
    expect(screen.getByTestId('error-comprehend-generator')).toHaveTextContent('Choose a local instruct model (.gguf)')
    expect(generatorInput()).toHaveAttribute('aria-invalid', 'true')
    expect(calls.startJob).not.toHaveBeenCalled()
  })

  it('sends the endpoint and model name for a remote server', async () => {
    const startJob = vi.fn(async () => makeComprehendJob())
    renderWizard({ startJob })
    await userEvent.click(screen.getByRole('radio', { name: 'Questions by a local model (ETRC)' }))
    await userEvent.click(screen.getByRole('radio', { name: 'OpenAI-compatible server' }))
    await userEvent.type(screen.getByRole('textbox', { name: 'Server URL' }), 'http://gpu-box:8080')
    await userEvent.type(screen.getByRole('textbox', { name: 'Model name' }), 'qwen')
    await userEvent.click(screen.getByRole('button', { name: 'Generate questions' }))
    expect(startJob).toHaveBeenCalledWith({ kind: 'comprehend', params: expect.objectContaining({ mode: 'llm', endpoint: 'http://gpu-box:8080', endpointModel: 'qwen', generator: null, preview: null }) })
  })
})

describe('ComprehensionWizard: preview and run', () => {
  it('previews 3 chunks and shows each pair with ✓ or its reject reason, and each chunk’s status', async () => {
    const startJob = vi.fn(async () => makePreviewJob({ state: 'queued' }))
    const { emit } = renderWizard({ startJob, getJob: async () => makeDetail(makePreviewJob({ state: 'succeeded' }), makePreviewSummary()) })
    await chooseLocalModel('/models/qwen.gguf')
    await userEvent.click(screen.getByRole('button', { name: 'Preview on 3 chunks' }))
    expect(startJob).toHaveBeenCalledWith({ kind: 'comprehend', params: expect.objectContaining({ mode: 'llm', generator: '/models/qwen.gguf', preview: 3 }) })
    await waitFor(() => expect(screen.getByRole('button', { name: 'Previewing…' })).toBeDisabled())
    emit('onJobUpdate', makePreviewJob({ state: 'succeeded' }))

    const chunks = await screen.findAllByTestId('preview-chunk')
    expect(chunks).toHaveLength(2)
    const pairs = within(chunks[0]!).getAllByTestId('preview-pair')
    expect(within(pairs[0]!).getByLabelText('Kept')).toHaveTextContent('✓')
    expect(within(pairs[0]!).queryByTestId('preview-reason')).not.toBeInTheDocument()
    expect(within(pairs[1]!).getByLabelText('Rejected')).toBeInTheDocument()
    expect(within(pairs[1]!).getByTestId('preview-reason')).toHaveTextContent('Answer not found in the text (0% of its words)')
    expect(within(chunks[1]!).getByTestId('preview-status')).toHaveTextContent('Timed out')
    expect(chunks[1]).toHaveTextContent('no answer within 120 s')
    expect(screen.getByTestId('preview-yield')).toHaveTextContent('1 of 2 pair(s) kept · 1 of 2 chunk(s) failed')
    expect(screen.queryByTestId('preview-hint')).not.toBeInTheDocument()
  })

  it('points at the grounding setting when a preview rejects every pair', async () => {
    const summary = makePreviewSummary()
    summary.preview = summary.preview!.map((chunk) => ({ ...chunk, pairs: chunk.pairs.map((pair) => ({ ...pair, rejectReason: 'not_grounded' as const })) }))
    const { emit } = renderWizard({ startJob: async () => makePreviewJob(), getJob: async () => makeDetail(makePreviewJob({ state: 'succeeded' }), summary) })
    await chooseLocalModel('/models/qwen.gguf')
    await userEvent.click(screen.getByRole('button', { name: 'Preview on 3 chunks' }))
    emit('onJobUpdate', makePreviewJob({ state: 'succeeded' }))
    expect(await screen.findByTestId('preview-hint')).toHaveTextContent('lower the minimum grounding')
  })

  it('asks to retry failed chunks and to stop after a number of chunks', async () => {
    const startJob = vi.fn(async () => makeComprehendJob())
    renderWizard({ startJob })
    await chooseLocalModel('/models/qwen.gguf')
    await userEvent.click(screen.getByRole('checkbox', { name: 'Also retry chunks that timed out or failed' }))
    await userEvent.click(screen.getByText('Advanced'))
    await userEvent.type(screen.getByRole('textbox', { name: 'Stop after this many chunks' }), '50')
    await userEvent.click(screen.getByRole('button', { name: 'Generate questions' }))
    expect(startJob).toHaveBeenCalledWith({ kind: 'comprehend', params: expect.objectContaining({ retryFailed: true, limit: 50, preview: null }) })
  })

  it('shows the mined texts of a regex preview', async () => {
    const summary = makeComprehendSummary({ mode: 'regex', rcPreview: [{ chunkId: 5, text: 'Answer questions based on the article: What is a lease?', taskCount: 2 }] })
    const { emit } = renderWizard({ startJob: async () => makePreviewJob({ label: 'Preview: Mine reading comprehension' }), getJob: async () => makeDetail(makePreviewJob({ state: 'succeeded' }), summary) })
    await userEvent.click(screen.getByRole('button', { name: 'Preview on 3 chunks' }))
    emit('onJobUpdate', makePreviewJob({ label: 'Preview: Mine reading comprehension', state: 'succeeded' }))
    const chunk = await screen.findByTestId('preview-chunk')
    expect(chunk).toHaveTextContent('Chunk 5 · 2 task(s)')
    expect(chunk).toHaveTextContent('What is a lease?')
  })

  it('shows live yield figures with a cancel button, then the summary', async () => {
    const cancelJob = vi.fn(async () => makeComprehendJob({ ...running('40 of 120 chunks · 98 pairs kept, 14 rejected, 2 chunks failed'), cancelRequested: true }))
    const { emit } = renderWizard({
      listJobs: async () => [makeComprehendJob(running('40 of 120 chunks · 98 pairs kept, 14 rejected, 2 chunks failed'))],
      cancelJob,
      getJob: async () => makeDetail(makeComprehendJob({ state: 'succeeded' }), makeComprehendSummary()),
    })
    expect(await screen.findByTestId('yield-kept')).toHaveTextContent('98 pairs kept')
    expect(screen.getByTestId('yield-rejected')).toHaveTextContent('14 rejected')
    expect(screen.getByTestId('yield-failed')).toHaveTextContent('2 chunks failed')
    expect(screen.getByRole('progressbar', { name: 'Generation progress' })).toHaveAttribute('aria-valuenow', '33')
    await userEvent.click(screen.getByRole('button', { name: 'Cancel generation' }))
    expect(cancelJob).toHaveBeenCalledWith({ jobId: '7' })
    expect(screen.getByRole('button', { name: 'Cancel generation' })).toBeDisabled()

    emit('onJobUpdate', makeComprehendJob({ state: 'succeeded' }))
    const summary = await screen.findByTestId('run-summary')
    expect(within(summary).getByTestId('summary-produced')).toHaveTextContent('24')
    expect(within(summary).getByTestId('summary-remaining')).toHaveTextContent('2')
    expect(within(summary).getByTestId('summary-speed')).toHaveTextContent('41.3')
    expect(within(summary).getByTestId('summary-reasons')).toHaveTextContent('Answer not found in the text: 3')
    expect(within(summary).getByTestId('summary-failed')).toHaveTextContent('Timed out: 1')
    expect(screen.queryByRole('button', { name: 'Cancel generation' })).not.toBeInTheDocument()
  })

  it('resumes an interrupted run', async () => {
    const resumeJob = vi.fn(async () => makeComprehendJob({ state: 'queued', attempts: 2 }))
    renderWizard({ listJobs: async () => [makeComprehendJob({ state: 'interrupted', resumable: true })], resumeJob })
    await userEvent.click(await screen.findByRole('button', { name: 'Resume generation' }))
    expect(resumeJob).toHaveBeenCalledWith({ jobId: '7' })
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Resume generation' })).not.toBeInTheDocument())
    expect(screen.getByRole('button', { name: 'Cancel generation' })).toBeInTheDocument()
  })
})

describe('ComprehensionWizard: reviewing pairs', () => {
  const kept = makePair({ id: 1, question: 'When does the lease begin?', answer: 'On the first day.' })
  const flagged = makePair({ id: 2, question: 'What colour is the sky?', answer: 'Blue.', status: 'rejected', rejectReason: 'not_grounded', rejectDetail: '0% of its words' })

  it('shows each rejected pair’s reason, and edits a pair inline', async () => {
    const updateQaPair = vi.fn<Api['updateQaPair']>(async (r) => ({ ...kept, question: r.question ?? kept.question, edited: true }))
    renderWizard({ listQaPairs: async () => ({ total: 2, pairs: [kept, flagged] }), updateQaPair })
    const rows = await screen.findAllByTestId('qa-row')
    expect(within(rows[1]!).getByTestId('qa-reason')).toHaveTextContent('Answer not found in the text (0% of its words)')
    expect(within(rows[0]!).queryByTestId('qa-reason')).not.toBeInTheDocument()

    await userEvent.click(screen.getByRole('button', { name: 'Edit pair 1' }))
    const form = screen.getByRole('form', { name: 'Edit pair 1' })
    const question = within(form).getByRole('textbox', { name: 'Question' })
    expect(question).toHaveValue('When does the lease begin?')
    await userEvent.clear(question)
    expect(within(form).getByRole('button', { name: 'Save' })).toBeDisabled()
    await userEvent.type(question, 'On what day does the lease begin?')
    await userEvent.click(within(form).getByRole('button', { name: 'Save' }))
    expect(updateQaPair).toHaveBeenCalledWith({ id: 1, question: 'On what day does the lease begin?' })
    await waitFor(() => expect(screen.queryByRole('form', { name: 'Edit pair 1' })).not.toBeInTheDocument())
    expect(screen.getAllByTestId('qa-question')[0]).toHaveTextContent('On what day does the lease begin?')
    expect(screen.getAllByTestId('qa-row')[0]).toHaveTextContent('edited')
  })

  it('keeps the editor open and shows the error when a save is refused', async () => {
    renderWizard({ listQaPairs: async () => ({ total: 1, pairs: [kept] }), updateQaPair: async () => Promise.reject(new Error('answer is too long')) })
    await userEvent.click(await screen.findByRole('button', { name: 'Edit pair 1' }))
    await userEvent.type(screen.getByRole('textbox', { name: 'Answer' }), ' And more.')
    await userEvent.click(screen.getByRole('button', { name: 'Save' }))
    expect(await screen.findByTestId('comprehension-error')).toHaveTextContent('answer is too long')
    expect(screen.getByRole('form', { name: 'Edit pair 1' })).toBeInTheDocument()
  })

  it('accepts and rejects a row', async () => {
    const updateQaPair = vi.fn<Api['updateQaPair']>(async (r) =>
      r.id === 2 ? { ...flagged, status: 'accepted', rejectReason: null, decidedBy: 'user' } : { ...kept, status: 'rejected', rejectReason: 'user', decidedBy: 'user' },
    )
    renderWizard({ listQaPairs: async () => ({ total: 2, pairs: [kept, flagged] }), updateQaPair })
    await userEvent.click(await screen.findByRole('button', { name: 'Accept pair 2' }))
    expect(updateQaPair).toHaveBeenLastCalledWith({ id: 2, status: 'accepted' })
    await waitFor(() => expect(screen.getAllByTestId('qa-row')[1]).toHaveAttribute('data-status', 'accepted'))
    await userEvent.click(screen.getByRole('button', { name: 'Reject pair 1' }))
    expect(updateQaPair).toHaveBeenLastCalledWith({ id: 1, status: 'rejected' })
    await waitFor(() => expect(within(screen.getAllByTestId('qa-row')[0]!).getByTestId('qa-reason')).toHaveTextContent('Rejected by you'))
  })

  it('searches, filters and sorts through listQaPairs', async () => {
    const listQaPairs = vi.fn<Api['listQaPairs']>(async () => ({ total: 2, pairs: [kept, flagged] }))
    renderWizard({ listQaPairs })
    await screen.findAllByTestId('qa-row')
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search questions and answers' }), 'sky')
    await userEvent.click(screen.getByRole('button', { name: 'Search' }))
    expect(listQaPairs).toHaveBeenLastCalledWith(expect.objectContaining({ search: 'sky', offset: 0 }))
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Status' }), 'rejected')
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Reject reason' }), 'not_grounded')
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sort by' }), 'answerLength')
    await userEvent.click(screen.getByRole('checkbox', { name: 'Descending' }))
    expect(listQaPairs).toHaveBeenLastCalledWith({ search: 'sky', status: 'rejected', reason: 'not_grounded', sort: 'answerLength', descending: true, offset: 0, limit: 50 })
  })

  it('renders a window of 10,000 pairs, fetching the pages it scrolls to, and starts over at the top on a new search', async () => {
    const listQaPairs = vi.fn<Api['listQaPairs']>(async ({ offset = 0, limit = 50 }) => ({
      total: 10_000,
      pairs: Array.from({ length: Math.min(limit, 10_000 - offset) }, (_, i) => makePair({ id: offset + i + 1, question: `Question ${offset + i + 1}?` })),
    }))
    renderWizard({ listQaPairs })
    expect(await screen.findByTestId('qa-count')).toHaveTextContent('10,000 pair(s)')
    const grid = screen.getByRole('grid', { name: 'Question/answer pairs' })
    expect(grid).toHaveAttribute('aria-rowcount', '10001')
    expect(screen.getAllByTestId('qa-row').length).toBeLessThan(40)
    expect(listQaPairs.mock.calls.map(([r]) => r.offset)).toEqual([0])

    grid.focus()
    await userEvent.keyboard('{End}')
    await waitFor(() => expect(screen.getByRole('button', { name: 'Edit pair 10000' })).toBeInTheDocument())
    expect(listQaPairs).toHaveBeenCalledWith(expect.objectContaining({ offset: 9950, limit: 50 }))
    expect(listQaPairs).not.toHaveBeenCalledWith(expect.objectContaining({ offset: 5000 }))
    expect(screen.getAllByTestId('qa-row').length).toBeLessThan(40)
    expect(grid.getAttribute('aria-activedescendant')).toBe(screen.getByRole('button', { name: 'Edit pair 10000' }).closest('[role="row"]')!.id)

    await userEvent.type(screen.getByRole('searchbox', { name: 'Search questions and answers' }), 'rent')
    await userEvent.click(screen.getByRole('button', { name: 'Search' }))
    await waitFor(() => expect(screen.getByRole('button', { name: 'Edit pair 1' })).toBeInTheDocument())
    expect(listQaPairs).toHaveBeenLastCalledWith(expect.objectContaining({ search: 'rent', offset: 0 }))
    expect(screen.queryByRole('button', { name: 'Edit pair 10000' })).not.toBeInTheDocument()
  })

  it('keeps an unsaved edit when its row scrolls out of view and back', async () => {
    const listQaPairs = vi.fn<Api['listQaPairs']>(async ({ offset = 0, limit = 50 }) => ({
      total: 10_000,
      pairs: Array.from({ length: Math.min(limit, 10_000 - offset) }, (_, i) => makePair({ id: offset + i + 1, question: `Question ${offset + i + 1}?` })),
    }))
    renderWizard({ listQaPairs })
    await userEvent.click(await screen.findByRole('button', { name: 'Edit pair 1' }))
    const editor = screen.getByRole('form', { name: 'Edit pair 1' })
    await userEvent.clear(within(editor).getByRole('textbox', { name: 'Question' }))
    await userEvent.type(within(editor).getByRole('textbox', { name: 'Question' }), 'Half-typed question')

    const grid = screen.getByRole('grid', { name: 'Question/answer pairs' })
    grid.focus()
    await userEvent.keyboard('{End}')
    await waitFor(() => expect(screen.getByRole('button', { name: 'Edit pair 10000' })).toBeInTheDocument())
    expect(screen.queryByRole('form', { name: 'Edit pair 1' })).not.toBeInTheDocument()
    grid.focus()
    await userEvent.keyboard('{Home}')
    const reopened = await screen.findByRole('form', { name: 'Edit pair 1' })
    expect(within(reopened).getByRole('textbox', { name: 'Question' })).toHaveValue('Half-typed question')
    await userEvent.click(within(reopened).getByRole('button', { name: 'Cancel' }))
    expect(screen.queryByRole('form', { name: 'Edit pair 1' })).not.toBeInTheDocument()
    grid.focus()
    await userEvent.keyboard('{End}')
    await userEvent.keyboard('{Home}')
    await screen.findByRole('button', { name: 'Edit pair 1' })
    expect(screen.queryByRole('form', { name: 'Edit pair 1' })).not.toBeInTheDocument()
  })

  it('goes into a pair with Enter, keeps its focused editor while the grid scrolls away, and leaves with Escape', async () => {
    const listQaPairs = vi.fn<Api['listQaPairs']>(async ({ offset = 0, limit = 50 }) => ({
      total: 10_000,
      pairs: Array.from({ length: Math.min(limit, 10_000 - offset) }, (_, i) => makePair({ id: offset + i + 1, question: `Question ${offset + i + 1}?` })),
    }))
    renderWizard({ listQaPairs })
    await screen.findByRole('button', { name: 'Edit pair 1' })
    const grid = screen.getByRole('grid', { name: 'Question/answer pairs' })
    grid.focus()
    await userEvent.keyboard('{ArrowDown}{Enter}')
    expect(screen.getByRole('button', { name: 'Edit pair 2' })).toHaveFocus()
    await userEvent.keyboard('{Enter}')
    const question = within(screen.getByRole('form', { name: 'Edit pair 2' })).getByRole('textbox', { name: 'Question' })
    await waitFor(() => expect(question).toHaveFocus())

    const viewport = grid.querySelector<HTMLElement>('.viewport')!
    await fireEvent.wheel(viewport)
    viewport.scrollTop = 300_000
    await fireEvent.scroll(viewport)
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Edit pair 1' })).not.toBeInTheDocument())
    expect(question).toHaveFocus()
    await userEvent.keyboard('{Escape}')
    expect(grid).toHaveFocus()
  })

  it('rejects all matching pairs only after a confirmation that shows the count', async () => {
    const listQaPairs = vi.fn<Api['listQaPairs']>(async (r) => (r.limit === 1 ? { total: 7, pairs: [kept] } : { total: 2, pairs: [kept, flagged] }))
    const rejectQaPairs = vi.fn(async () => ({ rejected: 7 }))
    renderWizard({ listQaPairs, rejectQaPairs })
    await screen.findAllByTestId('qa-row')
    expect(screen.getByRole('button', { name: 'Reject all matching…' })).toBeDisabled()
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search questions and answers' }), 'sky')
    await userEvent.click(screen.getByRole('button', { name: 'Search' }))
    await userEvent.click(screen.getByRole('button', { name: 'Reject all matching…' }))
    const dialog = await screen.findByRole('alertdialog')
    expect(dialog).toHaveTextContent('Reject 7 accepted pair(s) containing “sky”?')
    expect(rejectQaPairs).not.toHaveBeenCalled()
    await userEvent.click(within(dialog).getByRole('button', { name: 'Keep them' }))
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument()
    expect(rejectQaPairs).not.toHaveBeenCalled()

    await userEvent.click(screen.getByRole('button', { name: 'Reject all matching…' }))
    await userEvent.click(await screen.findByRole('button', { name: 'Reject 7 pair(s)' }))
    expect(rejectQaPairs).toHaveBeenCalledWith({ search: 'sky' })
    expect(await screen.findByRole('status')).toHaveTextContent('7 pair(s) rejected.')
  })
})
