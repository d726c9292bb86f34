import { screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import type { ChunkDetail } from '../../../../src-main/shared/types/corpus'
import { deferred } from '../../support/fakeClient'
import { makeRun } from '../Export/exportFixtures'
import { makeChunkDetail, makeEvalJob, makeReport, renderWizard } from './evaluateFixtures'

const row = (id: string): HTMLElement => screen.getByTestId(`metric-${id}`)
const cells = (id: string): string[] => ['metric-base', 'metric-adapted', 'metric-change'].map((t) => within(row(id)).getByTestId(t).textContent!.trim())

describe('EvaluateWizard: starting an evaluation', () => {
  it('says the selected run is not evaluated yet, starts an evaluation with its settings, then shows the metrics', async () => {
    const getEvaluation = vi.fn<Api['getEvaluation']>(async () => null)
    const startJob = vi.fn(async () => makeEvalJob({ state: 'queued' }))
    const { emit } = renderWizard({ getEvaluation, startJob })
    expect(await screen.findByTestId('no-evaluation')).toHaveTextContent('run-12 has not been evaluated yet.')
    expect(getEvaluation).toHaveBeenCalledWith({ runId: 'run-12' })

    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Weight type of both models' }), 'q8_0')
    await userEvent.click(screen.getByRole('checkbox', { name: /Also write answers/ }))
    await userEvent.click(screen.getByText('Advanced'))
    await userEvent.type(screen.getByRole('textbox', { name: 'Questions at most' }), '50')
    await userEvent.click(screen.getByRole('button', { name: 'Evaluate' }))
    expect(startJob).toHaveBeenCalledWith({ kind: 'eval', params: { run: 'run-12', type: 'q8_0', generate: false, maxQuestions: 50 } })

    emit('onJobUpdate', makeEvalJob({ state: 'running', progress: { done: 1, total: 4, fraction: 0.25, message: 'Perplexity of the base model', etaSeconds: 60 } }))
    expect(await screen.findByTestId('evaluation-message')).toHaveTextContent('Perplexity of the base model')
    expect(screen.getByRole('button', { name: 'Evaluating…' })).toBeDisabled()

    getEvaluation.mockResolvedValue(makeReport())
    emit('onJobUpdate', makeEvalJob({ state: 'succeeded' }))
    expect(await screen.findByRole('table', { name: 'Base against adapted' })).toBeInTheDocument()
    expect(screen.queryByTestId('no-evaluation')).not.toBeInTheDocument()
  })

  it('refuses a context size out of range, naming the field', async () => {
    const { calls } = renderWizard({ startJob: vi.fn() })
    await screen.findByTestId('no-evaluation')
    await userEvent.click(screen.getByText('Advanced'))
    await userEvent.type(screen.getByRole('textbox', { name: 'Context size (tokens)' }), '8')
    await userEvent.click(screen.getByRole('button', { name: 'Evaluate' }))
    expect(screen.getByTestId('error-eval-context')).toHaveTextContent('Context size must be between 32 and 32768')
    expect(calls.startJob).not.toHaveBeenCalled()
  })

  it('shows a failed evaluation’s error', async () => {
    const { emit } = renderWizard({ listJobs: async () => [makeEvalJob({ state: 'running' })] })
    await screen.findByTestId('evaluation-job')
    emit('onJobUpdate', makeEvalJob({ state: 'failed', error: { code: 'not_found', message: 'no held-out text: rebuild the dataset with a held-out fraction' } as never }))
    expect(await screen.findByRole('alert')).toHaveTextContent('no held-out text: rebuild the dataset')
  })

  it('says to train first when no run has finished', async () => {
    renderWizard({ listRuns: async () => [makeRun({ state: 'running' })] })
    expect(await screen.findByTestId('eval-run-none')).toHaveTextContent('No training run has finished yet')
    expect(screen.getByRole('button', { name: 'Evaluate' })).toBeDisabled()
  })
})

describe('EvaluateWizard: metrics and questions', () => {
  it('shows base against adapted with the change and whether it is better', async () => {
    renderWizard({ getEvaluation: async () => makeReport() })
    await screen.findByRole('table', { name: 'Base against adapted' })
    expect(cells('heldOutPerplexity')).toEqual(['12.50', '10.00', '−20.0% (better)'])
    expect(within(row('heldOutPerplexity')).getByTestId('metric-change')).toHaveAttribute('data-direction', 'better')
    expect(cells('generalPerplexity')).toEqual(['9.80', '10.29', '+5.0% (worse)'])
    expect(within(row('generalPerplexity')).getByTestId('metric-change')).toHaveAttribute('data-direction', 'worse')
    expect(cells('qaAccuracy')).toEqual(['40.0%', '55.0%', '+15.0 pts (better)'])
    expect(cells('qaExactMatch')).toEqual(['10.0%', '10.0%', '±0.0 pts (no change)'])
    expect(cells('qaF1')).toEqual(['35.0%', '—', '—'])
    expect(screen.getByTestId('metrics-basis')).toHaveTextContent('2 held-out text(s), 4000 tokens · 3 question(s)')
    expect(screen.getByTestId('metrics-basis')).toHaveTextContent('both models at F16, context 1024')
    expect(screen.getByTestId('eval-notes')).toHaveTextContent('Only 3 held-out questions')
  })

  it('shows each question with both answers and correct marks, and filters them', async () => {
    renderWizard({ getEvaluation: async () => makeReport() })
    const questions = await screen.findAllByTestId('eval-question')
    expect(questions).toHaveLength(3)
    const first = questions[0]!
    expect(within(first).getByTestId('question-reference')).toHaveTextContent('Thirty days.')
    const base = within(first).getByTestId('answer-base')
    const adapted = within(first).getByTestId('answer-adapted')
    expect(within(base).getByLabelText('Wrong')).toHaveTextContent('✗')
    expect(within(base).getByTestId('prediction')).toHaveTextContent('Two weeks.')
    expect(within(adapted).getByLabelText('Correct')).toHaveTextContent('✓')
    expect(within(adapted).getByTestId('prediction')).toHaveTextContent('Thirty days.')
    expect(adapted).toHaveTextContent('F1 1.00')
    expect(within(questions[2]!).getByTestId('answer-base')).toHaveTextContent('No answer written')

    await userEvent.click(screen.getByRole('button', { name: 'Base right, adapted wrong' }))
    const regressed = screen.getAllByTestId('eval-question')
    expect(regressed).toHaveLength(1)
    expect(regressed[0]).toHaveAccessibleName('Question 2')
    expect(regressed[0]).toHaveTextContent('The source chunk of this question was not recorded.')
    await userEvent.click(screen.getByRole('button', { name: 'Both wrong' }))
    expect(screen.getAllByTestId('eval-question')[0]).toHaveAccessibleName('Question 3')
    await userEvent.click(screen.getByRole('button', { name: 'Adapted right, base wrong' }))
    expect(screen.getAllByTestId('eval-question')[0]).toHaveAccessibleName('Question 1')
  })

  it('pages through many questions', async () => {
    const report = makeReport()
    report.questions = Array.from({ length: 23 }, (_, i) => ({ ...report.questions[0]!, question: `Question text ${i + 1}` }))
    renderWizard({ getEvaluation: async () => report })
    expect(await screen.findByTestId('questions-range')).toHaveTextContent('1–10 of 23')
    await userEvent.click(screen.getByRole('button', { name: 'Next' }))
    expect(screen.getByTestId('questions-range')).toHaveTextContent('11–20 of 23')
    expect(screen.getAllByTestId('question-text')[0]).toHaveTextContent('Question text 11')
  })

  it('loads a question’s source chunk when opened, once', async () => {
    const chunk = deferred<ChunkDetail>()
    const getChunk = vi.fn<Api['getChunk']>(() => chunk.promise)
    renderWizard({ getEvaluation: async () => makeReport(), getChunk })
    const first = (await screen.findAllByTestId('eval-question'))[0]!
    expect(getChunk).not.toHaveBeenCalled()
    await userEvent.click(within(first).getByRole('button', { name: 'Show source (chunk #100)' }))
    expect(getChunk).toHaveBeenCalledWith({ chunkId: 100 })
    expect(within(first).getByTestId('question-source')).toHaveTextContent('Loading the source chunk…')
    chunk.resolve(makeChunkDetail())
    expect(await within(first).findByTestId('source-text')).toHaveTextContent('thirty days’ written notice')
    expect(within(first).getByTestId('source-location')).toHaveTextContent('/docs/lease.pdf · p. 3–4 · Termination')
    await userEvent.click(within(first).getByRole('button', { name: 'Hide source' }))
    expect(within(first).queryByTestId('question-source')).not.toBeInTheDocument()
    await userEvent.click(within(first).getByRole('button', { name: 'Show source (chunk #100)' }))
    expect(within(first).getByTestId('source-text')).toBeInTheDocument()
    expect(getChunk).toHaveBeenCalledTimes(1)
  })

  it('says why a source chunk could not be loaded', async () => {
    renderWizard({ getEvaluation: async () => makeReport(), getChunk: async () => Promise.reject(new Error('chunk 300 not found')) })
    const third = (await screen.findAllByTestId('eval-question'))[2]!
    await userEvent.click(within(third).getByRole('button', { name: 'Show source (chunk #300)' }))
    expect(await within(third).findByRole('alert')).toHaveTextContent('Could not load chunk #300: chunk 300 not found')
  })
})

describe('EvaluateWizard: side-by-side chat', () => {
  it('sends a prompt to both models and shows the replies side by side', async () => {
    const chatCompare = vi.fn<Api['chatCompare']>(async () => ({
      base: { text: 'Notice periods vary.', tokens: 4, elapsedMs: 800 },
      adapted: { text: 'Thirty days’ written notice.', tokens: 6, elapsedMs: 900 },
    }))
    renderWizard({ getEvaluation: async () => makeReport(), chatCompare })
    const prompt = await screen.findByRole('textbox', { name: 'Prompt' })
    expect(screen.getByRole('button', { name: 'Ask both models' })).toBeDisabled()
    await userEvent.type(prompt, 'How much notice must a tenant give?')
    await userEvent.click(screen.getByRole('button', { name: 'Ask both models' }))
    expect(chatCompare).toHaveBeenCalledWith({ runId: 'run-12', prompt: 'How much notice must a tenant give?', maxTokens: 256 })
    const exchange = await screen.findByTestId('chat-exchange')
    expect(exchange).toHaveTextContent('How much notice must a tenant give?')
    expect(within(within(exchange).getByTestId('chat-base')).getByTestId('chat-text')).toHaveTextContent('Notice periods vary.')
    expect(within(exchange).getByTestId('chat-base')).toHaveTextContent('4 tokens in 0.8 s')
    expect(within(within(exchange).getByTestId('chat-adapted')).getByTestId('chat-text')).toHaveTextContent('Thirty days’ written notice.')
    expect(prompt).toHaveValue('')
  })

  it('shows a refused chat as an error and keeps the prompt', async () => {
    renderWizard({ getEvaluation: async () => makeReport(), chatCompare: async () => Promise.reject(new Error('/home/me/contracts/runs/run-12/eval/base-f16.gguf: file not found')) })
    const prompt = await screen.findByRole('textbox', { name: 'Prompt' })
    await userEvent.type(prompt, 'Hello')
    await userEvent.click(screen.getByRole('button', { name: 'Ask both models' }))
    expect(await screen.findByTestId('chat-error')).toHaveTextContent('base-f16.gguf: file not found')
    expect(prompt).toHaveValue('Hello')
    expect(screen.queryByTestId('chat-exchange')).not.toBeInTheDocument()
  })

  it('says to evaluate first before any evaluation, and cannot send', async () => {
    const { calls } = renderWizard({ chatCompare: vi.fn() })
    expect(await screen.findByTestId('chat-unavailable')).toHaveTextContent('evaluate this run first')
    await userEvent.type(screen.getByRole('textbox', { name: 'Prompt' }), 'Hello')
    expect(screen.getByRole('button', { name: 'Ask both models' })).toBeDisabled()
    expect(calls.chatCompare).not.toHaveBeenCalled()
  })

  it('switching runs shows the other run’s evaluation and clears the chat', async () => {
    const getEvaluation = vi.fn<Api['getEvaluation']>(async ({ runId }) => (runId === 'run-12' ? makeReport() : null))
    const chatCompare = vi.fn<Api['chatCompare']>(async () => ({ base: { text: 'a', tokens: 1, elapsedMs: 1 }, adapted: { text: 'b', tokens: 1, elapsedMs: 1 } }))
    renderWizard({ listRuns: async () => [makeRun(), makeRun({ runId: 'run-9', jobId: '9' })], getEvaluation, chatCompare })
    await userEvent.type(await screen.findByRole('textbox', { name: 'Prompt' }), 'Hi')
    await userEvent.click(screen.getByRole('button', { name: 'Ask both models' }))
    await screen.findByTestId('chat-exchange')
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Training run' }), 'run-9')
    expect(await screen.findByTestId('no-evaluation')).toHaveTextContent('run-9 has not been evaluated yet.')
    expect(getEvaluation).toHaveBeenLastCalledWith({ runId: 'run-9' })
    expect(screen.queryByTestId('chat-exchange')).not.toBeInTheDocument()
    await waitFor(() => expect(screen.getByTestId('chat-unavailable')).toBeInTheDocument())
  })
})
