import { z } from 'zod'
import type { ApiMethod, ApiRequest } from './api.js'
import { settingsPatchSchema } from './types/app.js'
import { QA_REJECT_REASONS } from './types/comprehension.js'
import { CORPUS_FILE_STATUSES, importParamsSchema } from './types/corpus.js'
import { jobRequestSchema } from './types/jobs.js'
import { MODEL_ROLES } from './types/models.js'
import { trainParamsSchema } from './types/train.js'
import { pipelineRequestSchema } from './types/pipeline.js'

const noRequest = z.undefined()
const projectDir = z.string().trim().min(1, 'a folder path is required').max(4096)
const jobId = z.string().min(1).max(64)
const rowId = z.number().int().min(1)
const pageOffset = z.number().int().min(0).optional()
const pageLimit = z.number().int().min(1).max(1000).optional()
const qaStatus = z.enum(['accepted', 'rejected'])
const runId = z.string().regex(/^run-\d+$/, 'a run id such as run-12')

export const requestSchemas = {
  getAppInfo: noRequest,
  getHardwareReport: noRequest,
  getSettings: noRequest,
  updateSettings: settingsPatchSchema,
  listRecentProjects: noRequest,
  forgetRecentProject: z.object({ dir: projectDir }).strict(),
  chooseDirectory: z.object({ title: z.string().max(200).optional(), defaultPath: z.string().max(4096).optional() }).strict(),
  createProject: z.object({ dir: projectDir, name: z.string().trim().min(1, 'a project name is required').max(200) }).strict(),
  openProject: z.object({ dir: projectDir }).strict(),
  closeProject: noRequest,
  getCurrentProject: noRequest,
  listJobs: z.object({ limit: z.number().int().min(1).max(10_000).optional() }).strict(),
  getJob: z.object({ jobId, logLimit: z.number().int().min(0).max(100_000).optional() }).strict(),
  startJob: jobRequestSchema,
  cancelJob: z.object({ jobId }).strict(),
  resumeJob: z.object({ jobId }).strict(),
  chooseImportPaths: z.object({ folders: z.boolean() }).strict(),
  importFiles: importParamsSchema,
  listCorpusFiles: z.object({ statuses: z.array(z.enum(CORPUS_FILE_STATUSES)).max(4).optional(), offset: pageOffset, limit: pageLimit }).strict(),
  listDocuments: z.object({ fileId: rowId }).strict(),
  listChunks: z.object({ documentId: rowId.optional(), fileId: rowId.optional(), offset: pageOffset, limit: pageLimit }).strict(),
  getChunk: z.object({ chunkId: rowId }).strict(),
  restoreChunk: z.object({ chunkId: rowId }).strict(),
  restoreDocument: z.object({ documentId: rowId }).strict(),
  chooseFile: z.object({ title: z.string().min(1).max(200), extensions: z.array(z.string().regex(/^[a-z0-9]{1,10}$/)).min(1).max(10) }).strict(),
  getComprehensionTotals: noRequest,
  listQaPairs: z
    .object({
      search: z.string().max(500).optional(),
      status: qaStatus.optional(),
      reason: z.enum(QA_REJECT_REASONS).optional(),
      sort: z.enum(['chunk', 'question', 'answerLength']).optional(),
      descending: z.boolean().optional(),
      offset: pageOffset,
      limit: pageLimit,
    })
    .strict(),
  updateQaPair: z
    .object({ id: rowId, question: z.string().trim().min(1).max(10_000).optional(), answer: z.string().trim().min(1).max(20_000).optional(), status: qaStatus.optional() })
    .strict(),
  rejectQaPairs: z
    .object({ search: z.string().min(1).max(500).optional(), reason: z.enum(QA_REJECT_REASONS).optional() })
    .strict()
    .refine((r) => r.search !== undefined || r.reason !== undefined, 'give a search text or a reason, so not every pair is rejected'),
  listClusters: z.object({ kind: z.enum(['extend', 'kmeans']), offset: pageOffset, limit: pageLimit }).strict(),
  getDataset: noRequest,
  listRuns: noRequest,
  planTraining: trainParamsSchema,
  listCheckpoints: z.object({ runId }).strict(),
  getRunMetrics: z.object({ runId }).strict(),
  listExports: z.object({ runId: runId.optional() }).strict(),
  getEvaluation: z.object({ runId }).strict(),
  chatCompare: z.object({ runId, prompt: z.string().trim().min(1, 'type a message first').max(20_000), maxTokens: z.number().int().min(1).max(4096).optional() }).strict(),
  showInFolder: z.object({ path: z.string().trim().min(1).max(4096) }).strict(),
  listModels: z.object({ role: z.enum(MODEL_ROLES).optional() }).strict(),
  addModel: z.object({ path: z.string().trim().min(1, 'a model file or folder path is required').max(4096), roles: z.array(z.enum(MODEL_ROLES)).max(3).optional() }).strict(),
  removeModel: z.object({ id: z.string().min(1).max(64) }).strict(),
  setModelRoles: z.object({ id: z.string().min(1).max(64), roles: z.array(z.enum(MODEL_ROLES)).max(3) }).strict(),
  listRecommendedModels: noRequest,
  downloadModel: z.object({ recommendedId: z.string().min(1).max(100) }).strict(),
  cancelModelDownload: z.object({ recommendedId: z.string().min(1).max(100) }).strict(),
  startPipeline: pipelineRequestSchema,
  getPipeline: noRequest,
  cancelPipeline: noRequest,
  continuePipeline: noRequest,
} satisfies { [M in ApiMethod]: z.ZodType<unknown, ApiRequest<M>> }
