/**
 * The one API contract between the main process and every client: the Electron renderer (through the
 * preload), the browser development bridge (HTTP + Server-Sent Events) and tests. Handlers in
 * src-main/ipc are typed against `ApiHandlers`, so a method missing there fails to compile, and every
 * request is validated at the boundary with `requestSchemas` (apiSchemas.ts, kept apart so that the
 * sandboxed preload, which must be one dependency-free file, does not pull in zod).
 */
import { deserializeError, type SerializedError } from './errors.js'
import type { AppInfo, AppSettings, HardwareReport, SettingsPatch } from './types/app.js'
import type { ClusterInfo, ClusterRunInfo, ComprehensionTotals, DatasetSummary, QaPairInfo, QaRejectReason } from './types/comprehension.js'
import type { ChunkDetail, ChunkInfo, ChunkPage, CorpusFilePage, CorpusFileStatus, DocumentInfo, ImportParamsInput } from './types/corpus.js'
import type { ChatReply, EvalReport, ExportInfo, TrainRunInfo } from './types/export.js'
import type { JobDetail, JobLogLine, JobRequest, JobSummary } from './types/jobs.js'
import type { MenuCommand } from './menuCommands.js'
import type { LibraryModel, ModelDownload, ModelRole, RecommendedModelInfo } from './types/models.js'
import type { PipelineInfo, PipelineRequest } from './types/pipeline.js'
import type { ProjectSummary, RecentProject } from './types/project.js'
import type { TrainParamsInput, TrainStepMetrics } from './types/train.js'
import type { TrainCheckpointInfo, TrainPlanInfo } from './types/trainPlan.js'

export interface Api {
  getAppInfo(): Promise<AppInfo>
  getHardwareReport(): Promise<HardwareReport>
  getSettings(): Promise<AppSettings>
  updateSettings(request: SettingsPatch): Promise<AppSettings>

  listRecentProjects(): Promise<RecentProject[]>
  forgetRecentProject(request: { dir: string }): Promise<RecentProject[]>
  /** Native folder picker in the desktop app; resolves null when the user cancels or no picker exists. */
  chooseDirectory(request: { title?: string | undefined; defaultPath?: string | undefined }): Promise<string | null>
  /** Creates `project.db` and `artifacts/` in `dir` (created if missing) and opens the project. */
  createProject(request: { dir: string; name: string }): Promise<ProjectSummary>
  openProject(request: { dir: string }): Promise<ProjectSummary>
  closeProject(): Promise<null>
  getCurrentProject(): Promise<ProjectSummary | null>

  listJobs(request: { limit?: number | undefined }): Promise<JobSummary[]>
  getJob(request: { jobId: string; logLimit?: number | undefined }): Promise<JobDetail>
  startJob(request: JobRequest): Promise<JobSummary>
  cancelJob(request: { jobId: string }): Promise<JobSummary>
  resumeJob(request: { jobId: string }): Promise<JobSummary>

  /** Native picker for files or folders to import; resolves null when the user cancels or no picker exists. */
  chooseImportPaths(request: { folders: boolean }): Promise<string[] | null>
  /** Starts an import job (files, folders, .zip archives) into the open project's corpus. */
  importFiles(request: ImportParamsInput): Promise<JobSummary>
  listCorpusFiles(request: { statuses?: CorpusFileStatus[] | undefined; offset?: number | undefined; limit?: number | undefined }): Promise<CorpusFilePage>
  listDocuments(request: { fileId: number }): Promise<DocumentInfo[]>
  listChunks(request: { documentId?: number | undefined; fileId?: number | undefined; offset?: number | undefined; limit?: number | undefined }): Promise<ChunkPage>
  getChunk(request: { chunkId: number }): Promise<ChunkDetail>
  /** Puts a chunk set aside as a duplicate back into use. */
  restoreChunk(request: { chunkId: number }): Promise<ChunkInfo>
  /** Puts a document set aside as an exact duplicate back into use (it is chunked). */
  restoreDocument(request: { documentId: number }): Promise<{ chunks: number }>

  /** Native picker for one file (a .gguf model, a .jsonl); resolves null when the user cancels or no picker exists. */
  chooseFile(request: { title: string; extensions: string[] }): Promise<string | null>
  getComprehensionTotals(): Promise<ComprehensionTotals>
  listQaPairs(request: QaPairListRequest): Promise<{ total: number; pairs: QaPairInfo[] }>
  /** Edits a pair's text or accepts/rejects it; the user's decision sticks until the chunk is regenerated. */
  updateQaPair(request: { id: number; question?: string | undefined; answer?: string | undefined; status?: 'accepted' | 'rejected' | undefined }): Promise<QaPairInfo>
  /** Rejects every accepted pair matching the filter. */
  rejectQaPairs(request: { search?: string | undefined; reason?: QaRejectReason | undefined }): Promise<{ rejected: number }>
  listClusters(request: { kind: 'extend' | 'kmeans'; offset?: number | undefined; limit?: number | undefined }): Promise<{ run: ClusterRunInfo | null; total: number; clusters: ClusterInfo[] }>
  /** The project's built dataset, or null before the first build. */
  getDataset(): Promise<DatasetSummary | null>

  /** Training runs of the open project, newest first. */
  listRuns(): Promise<TrainRunInfo[]>
  /** The fit planner's memory estimate and step count for train parameters (cached per model and data file version). */
  planTraining(request: TrainParamsInput): Promise<TrainPlanInfo>
  /** A run's complete checkpoints, newest first. */
  listCheckpoints(request: { runId: string }): Promise<TrainCheckpointInfo[]>
  /** A run's per-step metrics from its metrics.jsonl, in step order. */
  getRunMetrics(request: { runId: string }): Promise<TrainStepMetrics[]>
  /** Exports of the project (of one run when `runId` is given), newest first, with their verification reports. */
  listExports(request: { runId?: string | undefined }): Promise<ExportInfo[]>
  /** The newest evaluation of a run, or null before the first. */
  getEvaluation(request: { runId: string }): Promise<EvalReport | null>
  /** One reply from the base and one from the adapted model of the run's newest evaluation, greedy, same prompt. */
  chatCompare(request: { runId: string; prompt: string; maxTokens?: number | undefined }): Promise<{ base: ChatReply; adapted: ChatReply }>
  /** Shows a file or folder in the system's file manager; resolves false where there is none (browser bridge). */
  showInFolder(request: { path: string }): Promise<boolean>

  /** The app-wide model library, each entry checked again (a vanished file is flagged); with `role`, only usable ones. */
  listModels(request: { role?: ModelRole | undefined }): Promise<LibraryModel[]>
  /** Validates a .gguf file or Hugging Face folder and adds it; a bad file is refused with an error naming it and why. */
  addModel(request: { path: string; roles?: ModelRole[] | undefined }): Promise<LibraryModel>
  /** Forgets a model (the file stays on disk). */
  removeModel(request: { id: string }): Promise<LibraryModel[]>
  setModelRoles(request: { id: string; roles: ModelRole[] }): Promise<LibraryModel>
  /** The curated download list, with downloads in progress. */
  listRecommendedModels(): Promise<RecommendedModelInfo[]>
  /** Starts (or resumes) downloading a recommended model; refused while offline. Progress comes as `onModelDownload`. */
  downloadModel(request: { recommendedId: string }): Promise<ModelDownload>
  cancelModelDownload(request: { recommendedId: string }): Promise<ModelDownload>

  /** Runs the given steps as a chain of jobs, the next when the previous succeeded; it continues after a restart. */
  startPipeline(request: PipelineRequest): Promise<PipelineInfo>
  /** The project's newest pipeline, or null. */
  getPipeline(): Promise<PipelineInfo | null>
  cancelPipeline(): Promise<PipelineInfo>
  /** Resumes a stopped or cancelled pipeline at the step that stopped it. */
  continuePipeline(): Promise<PipelineInfo>
}

export interface QaPairListRequest {
  search?: string | undefined
  status?: 'accepted' | 'rejected' | undefined
  reason?: QaRejectReason | undefined
  sort?: 'chunk' | 'question' | 'answerLength' | undefined
  descending?: boolean | undefined
  offset?: number | undefined
  limit?: number | undefined
}

/** Events pushed from main to clients; names follow the `on[A-Z]…` rule. */
export interface ApiEvents {
  onJobUpdate: JobSummary
  onJobLog: { jobId: string; line: JobLogLine }
  onProjectChanged: ProjectSummary | null
  /** A job's per-step metrics (a train step's loss, lr…), at most ~10 per second per job, the latest kept. */
  onJobMetrics: { jobId: string; record: Record<string, number> }
  onPipelineUpdate: PipelineInfo
  /** A model download's progress and end, throttled. */
  onModelDownload: ModelDownload
  /** A File menu item the page acts on (Close Project…), sent by the native menu to its window. */
  onMenuCommand: MenuCommand
}

export type ApiMethod = keyof Api
export type ApiEventName = keyof ApiEvents
export type ApiRequest<M extends ApiMethod> = Parameters<Api[M]>[0]
export type ApiResult<M extends ApiMethod> = Awaited<ReturnType<Api[M]>>
export type ApiHandlers = { [M in ApiMethod]: (request: ApiRequest<M>) => Promise<ApiResult<M>> }

const methodNames = {
  getAppInfo: true,
  getHardwareReport: true,
  getSettings: true,
  updateSettings: true,
  listRecentProjects: true,
  forgetRecentProject: true,
  chooseDirectory: true,
  createProject: true,
  openProject: true,
  closeProject: true,
  getCurrentProject: true,
  listJobs: true,
  getJob: true,
  startJob: true,
  cancelJob: true,
  resumeJob: true,
  chooseImportPaths: true,
  importFiles: true,
  listCorpusFiles: true,
  listDocuments: true,
  listChunks: true,
  getChunk: true,
  restoreChunk: true,
  restoreDocument: true,
  chooseFile: true,
  getComprehensionTotals: true,
  listQaPairs: true,
  updateQaPair: true,
  rejectQaPairs: true,
  listClusters: true,
  getDataset: true,
  listRuns: true,
  planTraining: true,
  listCheckpoints: true,
  getRunMetrics: true,
  listExports: true,
  getEvaluation: true,
  chatCompare: true,
  showInFolder: true,
  listModels: true,
  addModel: true,
  removeModel: true,
  setModelRoles: true,
  listRecommendedModels: true,
  downloadModel: true,
  cancelModelDownload: true,
  startPipeline: true,
  getPipeline: true,
  cancelPipeline: true,
  continuePipeline: true,
} satisfies Record<ApiMethod, true>

export const API_METHODS = Object.keys(methodNames) as ApiMethod[]

const eventNames = { onJobUpdate: true, onJobLog: true, onProjectChanged: true, onJobMetrics: true, onPipelineUpdate: true, onModelDownload: true, onMenuCommand: true } satisfies Record<ApiEventName, true>
export const API_EVENTS = Object.keys(eventNames) as ApiEventName[]

/** Electron IPC channel for a method; the main process accepts nothing without this prefix. */
export const IPC_CHANNEL_PREFIX = 'api:'
export const IPC_EVENT_CHANNEL = 'api-event'
export function ipcChannelFor(method: ApiMethod): string {
  return IPC_CHANNEL_PREFIX + method
}

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.hasOwn(methodNames, name)
}
export function isApiEventName(name: unknown): name is ApiEventName {
  return typeof name === 'string' && Object.hasOwn(eventNames, name)
}

export type ApiResponse = { ok: true; value: unknown } | { ok: false; error: SerializedError }

/**
 * What a preload (or the browser bridge stand-in) provides. Errors travel inside the response envelope
 * rather than as thrown exceptions, because Electron's contextBridge strips custom fields from errors.
 */
export interface ApiTransport {
  invoke(method: ApiMethod, request: unknown): Promise<ApiResponse>
  subscribe(listener: (event: ApiEventName, payload: unknown) => void): () => void
}

export type ApiClient = Api & {
  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void
}

export function createApiClient(transport: ApiTransport): ApiClient {
  const listeners = new Map<ApiEventName, Set<(payload: never) => void>>()
  let unsubscribeTransport: (() => void) | null = null

  const ensureSubscribed = (): void => {
    unsubscribeTransport ??= transport.subscribe((event, payload) => {
      for (const listener of listeners.get(event) ?? []) listener(payload as never)
    })
  }

  const client: Record<string, unknown> = {
    on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      set.add(listener)
      ensureSubscribed()
      return () => {
        set.delete(listener)
        const anyLeft = [...listeners.values()].some((s) => s.size > 0)
        if (!anyLeft && unsubscribeTransport) {
          unsubscribeTransport()
          unsubscribeTransport = null
        }
      }
    },
  }
  for (const method of API_METHODS) {
    client[method] = async (request?: unknown) => {
      const response = await transport.invoke(method, request)
      if (!response.ok) throw deserializeError(response.error)
      return response.value
    }
  }
  return client as unknown as ApiClient
}
