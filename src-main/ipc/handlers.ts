import { existsSync } from 'node:fs'
import { isApiMethod, type ApiHandlers, type ApiMethod, type ApiResponse } from '../shared/api.js'
import { requestSchemas } from '../shared/apiSchemas.js'
import { LecternError, serializeError } from '../shared/errors.js'
import { trainParamsSchema } from '../shared/types/train.js'
import { listClusterPage } from '../core/cluster/listClusterPage.js'
import { ComprehensionStore } from '../core/comprehension/ComprehensionStore.js'
import { CorpusBrowser } from '../core/corpus/CorpusBrowser.js'
import { readDatasetSummary } from '../core/dataset/datasetFiles.js'
import { EvaluationStore } from '../core/eval/EvaluationStore.js'
import { ExportStore } from '../core/export/ExportStore.js'
import { listRunCheckpoints, readRunMetrics } from '../core/train/runFiles.js'
import { listTrainRuns, trainRunDir } from '../core/train/trainRuns.js'
import { hardwareReport } from '../core/system/hardwareReport.js'
import type { Services } from '../core/services.js'
import { assertJobAllowed, jobsOfWorkspace, stopNetworkWork } from '../core/app/networkPolicy.js'

/** Every contract method, forwarding to the services. Arguments arrive already validated by `dispatch`. */
export function createHandlers(services: Services): ApiHandlers {
  const { workspace, settings, recents } = services
  const corpus = (): CorpusBrowser => new CorpusBrowser(workspace.project.db)
  const comprehension = (): ComprehensionStore => new ComprehensionStore(workspace.project.db)
  const runDir = (runId: string): string => trainRunDir(workspace.project.dir, runId.slice('run-'.length))
  return {
    getAppInfo: async () => services.appInfo,
    getHardwareReport: async () => hardwareReport(settings.get()),
    getSettings: async () => settings.get(),
    updateSettings: async (patch) => {
      const next = await settings.update(patch)
      // The switch is hard: turning it on also stops what is already on the network.
      if (next.offline) await stopNetworkWork({ cancelAllDownloads: () => services.models.cancelAllDownloads(), jobs: jobsOfWorkspace(workspace) })
      return next
    },
    listRecentProjects: () => recents.list(),
    forgetRecentProject: async ({ dir }) => {
      await recents.forget(dir)
      return recents.list()
    },
    chooseDirectory: (request) => services.chooseDirectory(request),
    createProject: ({ dir, name }) => workspace.createProject(dir, name),
    openProject: ({ dir }) => workspace.openProject(dir),
    closeProject: () => workspace.closeProject(),
    getCurrentProject: () => workspace.currentSummary(),
    listJobs: async ({ limit }) => workspace.project.jobs.list(limit),
    getJob: async ({ jobId, logLimit }) => workspace.project.jobs.detail(jobId, logLimit),
    startJob: async (request) => {
      assertJobAllowed(settings.get().offline, request.kind, request.params)
      return workspace.queue.enqueue(request)
    },
    cancelJob: async ({ jobId }) => workspace.queue.cancel(jobId),
    resumeJob: async ({ jobId }) => {
      const job = workspace.project.jobs.detail(jobId, 0)
      assertJobAllowed(settings.get().offline, job.kind, job.params)
      return workspace.queue.resume(jobId)
    },
    chooseImportPaths: (request) => services.chooseImportPaths(request),
    importFiles: async (params) => workspace.queue.enqueue({ kind: 'import', params }),
    listCorpusFiles: async (request) => corpus().listFiles(request),
    listDocuments: async ({ fileId }) => corpus().listDocuments(fileId),
    listChunks: async (request) => corpus().listChunks(request),
    getChunk: async ({ chunkId }) => corpus().chunk(chunkId),
    restoreChunk: async ({ chunkId }) => corpus().restoreChunk(chunkId),
    restoreDocument: async ({ documentId }) => corpus().restoreDocument(documentId),
    chooseFile: (request) => services.chooseFile(request),
    getComprehensionTotals: async () => comprehension().totals(),
    listQaPairs: async (request) => comprehension().listQaPairs(request),
    updateQaPair: async ({ id, ...edit }) => {
      const pair = comprehension().updateQaPair(id, edit)
      if (pair === null) throw new LecternError('not_found', `There is no QA pair ${id}`)
      return pair
    },
    rejectQaPairs: async (filter) => ({ rejected: comprehension().rejectMatching(filter) }),
    listClusters: async ({ kind, offset, limit }) => listClusterPage(comprehension(), kind, offset ?? 0, limit ?? 20),
    getDataset: () => readDatasetSummary(workspace.project.dir),
    listRuns: async () => listTrainRuns(workspace.project.db, workspace.project.dir),
    planTraining: (params) => services.trainPlanner.plan(workspace.project.dir, trainParamsSchema.parse(params)),
    listCheckpoints: ({ runId }) => listRunCheckpoints(runDir(runId)),
    getRunMetrics: ({ runId }) => readRunMetrics(runDir(runId)),
    listExports: async ({ runId }) => new ExportStore(workspace.project.db).list(runId),
    getEvaluation: async ({ runId }) => new EvaluationStore(workspace.project.db).latest(runId),
    chatCompare: async ({ runId, prompt, maxTokens }) => {
      const report = new EvaluationStore(workspace.project.db).latest(runId)
      if (report === null) throw new LecternError('not_found', `Evaluate ${runId} first: chat compares the base and adapted models its evaluation prepares`)
      for (const path of [report.baseModel, report.adaptedModel]) {
        if (!existsSync(path)) throw new LecternError('not_found', `${path} is gone; evaluate ${runId} again to rebuild it`, { file: path })
      }
      return (await services.chatComparer()).reply(report, prompt, maxTokens ?? 256)
    },
    showInFolder: ({ path }) => services.showInFolder(path),
    listModels: ({ role }) => services.models.list({ role }),
    addModel: ({ path, roles }) => services.models.add(path, { roles }),
    removeModel: async ({ id }) => {
      await services.models.remove(id)
      return services.models.list()
    },
    setModelRoles: ({ id, roles }) => services.models.setRoles(id, roles),
    listRecommendedModels: async () => services.models.recommended(),
    downloadModel: async ({ recommendedId }) => services.models.startDownload(recommendedId),
    cancelModelDownload: async ({ recommendedId }) => services.models.cancelDownload(recommendedId),
    startPipeline: async ({ steps }) => {
      for (const step of steps) assertJobAllowed(settings.get().offline, step.kind, step.params)
      return workspace.pipeline.start(steps)
    },
    getPipeline: async () => workspace.pipeline.latest(),
    cancelPipeline: async () => workspace.pipeline.cancel(),
    continuePipeline: async () => {
      const stopped = workspace.pipeline.latest()
      const current = stopped?.steps[stopped.position]
      if (current?.jobId) {
        const job = workspace.project.jobs.detail(current.jobId, 0)
        assertJobAllowed(settings.get().offline, job.kind, job.params)
      }
      return workspace.pipeline.continue()
    },
  }
}

export interface DispatchOptions {
  /** Called with unexpected (non-Lectern) errors, whose stack stays in main. Defaults to `console.error`. */
  onInternalError?: (method: string, error: unknown) => void
}

/**
 * The boundary every transport goes through: checks the method name, validates the request against the
 * contract's schema, runs the handler and wraps the outcome in an envelope. Never throws.
 */
export async function dispatch(handlers: ApiHandlers, method: unknown, request: unknown, options: DispatchOptions = {}): Promise<ApiResponse> {
  const { onInternalError = (name: string, error: unknown) => console.error(`[lectern] ${name} failed:`, error) } = options
  if (!isApiMethod(method)) {
    return { ok: false, error: { code: 'unknown_method', message: `Unknown API method: ${String(method).slice(0, 100)}` } }
  }
  const parsed = requestSchemas[method].safeParse(request)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ')
    return { ok: false, error: { code: 'invalid_argument', message: `Invalid request for ${method}: ${issues}` } }
  }
  try {
    const handler = handlers[method] as (request: unknown) => Promise<unknown>
    const value = await handler(parsed.data)
    return { ok: true, value: value ?? null }
  } catch (error) {
    if (!(error instanceof LecternError)) onInternalError(method, error)
    return { ok: false, error: serializeError(error) }
  }
}

export type { ApiMethod }
