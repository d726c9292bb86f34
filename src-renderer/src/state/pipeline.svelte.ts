import type { ApiClient } from '../../../src-main/shared/api'
import type { JobRequest, JobSummary } from '../../../src-main/shared/types/jobs'
import type { PipelineInfo } from '../../../src-main/shared/types/pipeline'
import { api } from '../api'
import { EMPTY_PIPELINE_FORM, latestFinishedRun, NO_FACTS, type PipelineFacts, type PipelineForm } from '../screens/Pipeline/pipelinePlan'
import { errorMessage } from './errorMessage'
import { attempt, orShowError } from './shownError'

/** Whether the chain's steps can still change: it is running. */
export const isChainActive = (pipeline: PipelineInfo | null): boolean => pipeline?.state === 'running'

/**
 * The project overview: what each step produced (read from the existing APIs, reloaded when a job finishes) and
 * the project's newest chain of jobs ("run all remaining steps"), kept live from `onPipelineUpdate`, with the
 * progress of its jobs from `onJobUpdate`. `getPipeline` restores it after a reload or a restart.
 */
export class PipelineState {
  facts = $state.raw<PipelineFacts>(NO_FACTS)
  pipeline = $state.raw<PipelineInfo | null>(null)
  /** The newest summary of each job of the chain, by job id. */
  jobs = $state.raw<Record<string, JobSummary>>({})
  /** The stored result of each succeeded step of the shown chain, by job id: what that step produced. */
  stepResults = $state.raw<Record<string, unknown>>({})
  loaded = $state(false)
  /** A start, cancel or continue call in flight. */
  busy = $state(false)
  error = $state<string | null>(null)
  /** The "Run all" form's values: kept while the user visits other pages (Models, to fetch a base), reset with the project. */
  runAllForm = $state<PipelineForm>({ ...EMPTY_PIPELINE_FORM })
  /** The chain the user dismissed (id and creation time, unique across projects); kept while moving between screens. */
  private dismissedChain = $state<string | null>(null)
  private readonly client: ApiClient
  private unsubscribe: (() => void)[] = []
  /** Counts fact loads, so an older answer never replaces a newer one. */
  private factsRequest = 0
  /** Step results being read, by job id: bookkeeping only, never rendered, so a plain Set. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly resultsLoading = new Set<string>()
  /** Counts `stop()` calls, so a result read for a closed project is dropped. */
  private session = 0

  constructor(client: ApiClient) {
    this.client = client
  }

  /** The newest chain unless it was dismissed: a finished chain stays shown until dismissed or a new one starts. */
  get shownPipeline(): PipelineInfo | null {
    const pipeline = this.pipeline
    return pipeline === null || chainKey(pipeline) === this.dismissedChain ? null : pipeline
  }

  /** Back to the default "Run all" values (another project was opened). */
  resetRunAllForm(): void {
    this.runAllForm = { ...EMPTY_PIPELINE_FORM }
  }

  /** Hides the newest chain if it no longer runs. */
  dismissChain(): void {
    if (this.pipeline !== null && !isChainActive(this.pipeline)) this.dismissedChain = chainKey(this.pipeline)
  }

  /** The job of the chain's current step, once known. */
  get currentJob(): JobSummary | null {
    const jobId = this.pipeline?.steps[this.pipeline.position]?.jobId ?? null
    return jobId === null ? null : (this.jobs[jobId] ?? null)
  }

  /** Follows the chain and the jobs, loads the facts, the newest chain and its jobs' progress. */
  async start(): Promise<void> {
    this.stop()
    this.unsubscribe = [this.client.on('onPipelineUpdate', (info) => this.applyPipeline(info)), this.client.on('onJobUpdate', (job) => this.applyJob(job))]
    try {
      const [pipeline, jobs] = await Promise.all([this.client.getPipeline(), this.client.listJobs({ limit: 50 }), this.loadFacts()])
      // An update that arrived while loading is newer than the answer.
      if (this.pipeline === null || (pipeline !== null && pipeline.id > this.pipeline.id)) this.pipeline = pipeline
      const known = { ...this.jobs }
      for (const job of jobs) known[job.id] ??= job
      this.jobs = known
      void this.loadStepResults()
    } catch (error) {
      this.error = errorMessage(error)
    } finally {
      this.loaded = true
    }
  }

  stop(): void {
    for (const off of this.unsubscribe) off()
    this.unsubscribe = []
    this.factsRequest++
    this.facts = NO_FACTS
    this.pipeline = null
    this.jobs = {}
    this.stepResults = {}
    this.resultsLoading.clear()
    this.session++
    this.loaded = false
    this.busy = false
    this.error = null
  }

  /** Reads what each step produced. */
  async loadFacts(): Promise<void> {
    const sequence = ++this.factsRequest
    try {
      const [project, comprehension, dataset, runs, exports] = await Promise.all([
        this.client.getCurrentProject(),
        this.client.getComprehensionTotals(),
        this.client.getDataset(),
        this.client.listRuns(),
        this.client.listExports({}),
      ])
      const run = latestFinishedRun(runs)
      const evaluation = run === null ? null : await this.client.getEvaluation({ runId: run.runId })
      if (sequence !== this.factsRequest) return
      this.facts = { corpus: project?.corpus ?? null, comprehension: comprehension ?? project?.comprehension ?? null, dataset, runs, evaluation, exports }
    } catch (error) {
      if (sequence === this.factsRequest) this.error = errorMessage(error)
    }
  }

  /** Starts the chain; false when refused (error shown). */
  async startPipeline(steps: JobRequest[]): Promise<boolean> {
    return this.call(async () => this.applyPipeline(await this.client.startPipeline({ steps })))
  }

  async cancel(): Promise<boolean> {
    return this.call(async () => this.applyPipeline(await this.client.cancelPipeline()))
  }

  async continue(): Promise<boolean> {
    return this.call(async () => this.applyPipeline(await this.client.continuePipeline()))
  }

  /** A file from the native picker; null when cancelled, where there is none (browser), or on error (shown). */
  chooseFile(title: string, extensions: string[]): Promise<string | null> {
    return orShowError(this, () => this.client.chooseFile({ title, extensions }), null)
  }

  chooseDirectory(title: string): Promise<string | null> {
    return orShowError(this, () => this.client.chooseDirectory({ title }), null)
  }

  /** Reads the result of every succeeded step of the chain not read yet; a failed read shows its error and is tried again on the next update. */
  private async loadStepResults(): Promise<void> {
    const session = this.session
    const jobIds = (this.pipeline?.steps ?? []).flatMap((step) => (step.jobId !== null && (this.jobs[step.jobId]?.state ?? step.state) === 'succeeded' ? [step.jobId] : []))
    const wanted = jobIds.filter((jobId) => !(jobId in this.stepResults) && !this.resultsLoading.has(jobId))
    for (const jobId of wanted) this.resultsLoading.add(jobId)
    await Promise.all(
      wanted.map(async (jobId) => {
        try {
          const { result } = await this.client.getJob({ jobId, logLimit: 0 })
          if (session === this.session) this.stepResults = { ...this.stepResults, [jobId]: result }
        } catch (error) {
          if (session === this.session) this.error = errorMessage(error)
        } finally {
          if (session === this.session) this.resultsLoading.delete(jobId)
        }
      }),
    )
  }

  private call(action: () => Promise<void>): Promise<boolean> {
    return attempt(this, 'busy', action)
  }

  private applyPipeline(info: PipelineInfo): void {
    const current = this.pipeline
    // Updates of an older chain (a late answer) never replace the newer one; same chain: the newest write wins.
    if (current !== null && (info.id < current.id || (info.id === current.id && info.updatedAtMs < current.updatedAtMs))) return
    const stepFinished = current !== null && current.id === info.id && info.position > current.position
    this.pipeline = info
    if (stepFinished || info.state !== 'running') void this.loadFacts()
    void this.loadStepResults()
  }

  private applyJob(job: JobSummary): void {
    const known = this.jobs[job.id]
    this.jobs = { ...this.jobs, [job.id]: job }
    // A finished job changes what its step produced (the chain's or one started from a step screen).
    const wasActive = known === undefined || known.state === 'running' || known.state === 'queued'
    if (wasActive && job.state !== 'running' && job.state !== 'queued') void this.loadFacts()
    if (job.state === 'succeeded') void this.loadStepResults()
  }
}

const chainKey = (pipeline: PipelineInfo): string => `${pipeline.id}:${pipeline.createdAtMs}`

export const pipelineState = new PipelineState(api)
