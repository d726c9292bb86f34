import type { ApiClient } from '../../../src-main/shared/api'
import type { ChunkDetail } from '../../../src-main/shared/types/corpus'
import type { ChatReply, EvalParams, EvalReport, TrainRunInfo } from '../../../src-main/shared/types/export'
import type { JobSummary } from '../../../src-main/shared/types/jobs'
import { api } from '../api'
import { errorMessage } from './errorMessage'
import { finishedRuns, runById } from './export.svelte'
import { activeNewestJob, followJobUpdate, isJobBusy, startFollowedJob } from './jobFollowing'
import { orShowError } from './shownError'

export const QUESTIONS_PAGE_SIZE = 10
/** Longest reply each model writes in the side-by-side chat. */
export const CHAT_MAX_TOKENS = 256

/** What the eval job is started with: the run, and every other field optional (the schema's input). */
export type EvalJobParams = Partial<EvalParams> & { run: string }

/** Which questions the per-question view shows. */
export type QuestionFilter = 'all' | 'improved' | 'regressed' | 'bothWrong'

/** One prompt answered by both models. */
export interface ChatExchange {
  prompt: string
  base: ChatReply
  adapted: ChatReply
}

/** A question's source chunk, loaded when the user opens it. */
export type SourceChunk = { state: 'loading' } | { state: 'loaded'; chunk: ChunkDetail } | { state: 'failed'; error: string }

/**
 * The Evaluate screen's data: the project's training runs, the selected run's newest evaluation, the eval job it
 * starts and follows (kept live from `onJobUpdate`), source chunks of questions opened, and the side-by-side chat.
 */
export class EvaluateState {
  runs = $state.raw<TrainRunInfo[]>([])
  selectedRunId = $state<string | null>(null)
  report = $state.raw<EvalReport | null>(null)
  /** Whether the selected run's evaluation has been asked for and answered. */
  reportLoaded = $state(false)
  job = $state.raw<JobSummary | null>(null)
  starting = $state(false)
  loaded = $state(false)
  error = $state<string | null>(null)

  questionFilter = $state<QuestionFilter>('all')
  questionOffset = $state(0)
  chunks = $state.raw<Record<number, SourceChunk>>({})

  /** Newest first. */
  chat = $state.raw<ChatExchange[]>([])
  chatBusy = $state(false)
  chatError = $state<string | null>(null)

  private readonly client: ApiClient
  private unsubscribe: (() => void) | null = null
  /** Counts report requests, so the answer for an earlier selected run never replaces a newer one. */
  private reportRequest = 0

  constructor(client: ApiClient) {
    this.client = client
  }

  get selectedRun(): TrainRunInfo | null {
    return runById(this.runs, this.selectedRunId)
  }

  get busy(): boolean {
    return isJobBusy(this.starting, this.job)
  }

  /** Follows job updates, loads the runs (selecting the newest finished one) with its evaluation, and a running eval job. */
  async start(): Promise<void> {
    this.stop()
    this.unsubscribe = this.client.on('onJobUpdate', (job) => this.applyJob(job))
    try {
      const [runs, jobs] = await Promise.all([this.client.listRuns(), this.client.listJobs({ limit: 50 })])
      this.runs = runs
      this.job ??= activeNewestJob(jobs, 'eval')
      const first = finishedRuns(runs)[0]
      if (first && this.selectedRunId === null) await this.selectRun(first.runId)
    } catch (error) {
      this.error = errorMessage(error)
    } finally {
      this.loaded = true
    }
  }

  stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    this.reportRequest++
    this.runs = []
    this.selectedRunId = null
    this.job = null
    this.loaded = false
    this.error = null
    this.clearRun()
  }

  /** Shows a run's newest evaluation; the chat and opened chunks belong to the run shown before and are cleared. */
  async selectRun(runId: string): Promise<void> {
    this.selectedRunId = runId
    this.clearRun()
    await this.loadReport()
  }

  async loadReport(): Promise<void> {
    const runId = this.selectedRunId
    if (runId === null) return
    const sequence = ++this.reportRequest
    try {
      const report = await this.client.getEvaluation({ runId })
      if (sequence !== this.reportRequest) return
      this.report = report
      this.reportLoaded = true
    } catch (error) {
      if (sequence === this.reportRequest) this.error = errorMessage(error)
    }
  }

  /** Starts an evaluation of the selected run; false when refused (error shown). */
  startEval(params: EvalJobParams): Promise<boolean> {
    return startFollowedJob(this, () => this.client.startJob({ kind: 'eval', params }), () => this.job, (job) => (this.job = job))
  }

  async cancel(): Promise<void> {
    const job = this.job
    if (!job) return
    await orShowError(this, async () => this.applyJob(await this.client.cancelJob({ jobId: job.id })), undefined)
  }

  setQuestionFilter(filter: QuestionFilter): void {
    this.questionFilter = filter
    this.questionOffset = 0
  }

  goToQuestionOffset(offset: number): void {
    this.questionOffset = Math.max(0, offset)
  }

  /** Loads a question's source chunk once; a failed load is kept so the question can say why. */
  async loadChunk(chunkId: number): Promise<void> {
    const known = this.chunks[chunkId]
    if (known && known.state !== 'failed') return
    this.chunks = { ...this.chunks, [chunkId]: { state: 'loading' } }
    let entry: SourceChunk
    try {
      entry = { state: 'loaded', chunk: await this.client.getChunk({ chunkId }) }
    } catch (error) {
      entry = { state: 'failed', error: errorMessage(error) }
    }
    this.chunks = { ...this.chunks, [chunkId]: entry }
  }

  /** Asks both models of the selected run's evaluation the same prompt; false when refused (error shown in the chat). */
  async sendChat(prompt: string): Promise<boolean> {
    const runId = this.selectedRunId
    const text = prompt.trim()
    if (runId === null || text === '') return false
    this.chatBusy = true
    this.chatError = null
    try {
      const replies = await this.client.chatCompare({ runId, prompt: text, maxTokens: CHAT_MAX_TOKENS })
      if (this.selectedRunId !== runId) return false
      this.chat = [{ prompt: text, ...replies }, ...this.chat]
      return true
    } catch (error) {
      if (this.selectedRunId === runId) this.chatError = errorMessage(error)
      return false
    } finally {
      this.chatBusy = false
    }
  }

  private clearRun(): void {
    this.report = null
    this.reportLoaded = false
    this.questionFilter = 'all'
    this.questionOffset = 0
    this.chunks = {}
    this.chat = []
    this.chatError = null
  }

  private applyJob(job: JobSummary): void {
    if (job.kind !== 'eval') return
    const update = followJobUpdate(this.job, job)
    if (update === null) return
    this.job = job
    if (update.finished && job.state === 'succeeded') void this.loadReport()
  }
}

export const evaluateState = new EvaluateState(api)
