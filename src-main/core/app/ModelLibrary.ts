import { randomUUID } from 'node:crypto'
import { mkdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { LecternError } from '../../shared/errors.js'
import {
  MODEL_ROLES,
  roleProblem,
  type LibraryModel,
  type ModelDownload,
  type ModelFacts,
  type ModelRole,
  type RecommendedModel,
  type RecommendedModelInfo,
} from '../../shared/types/models.js'
import { readModelFacts } from '../modelFiles/readModelFacts.js'
import { downloadFile } from './downloadFile.js'
import { readJsonFile, writeJsonFileAtomic } from './jsonFile.js'

const recommendedModelSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,80}$/),
    name: z.string().min(1),
    description: z.string(),
    /** Only https URLs ship; tests point a library at a local server. */
    url: z.string().url(),
    fileName: z.string().regex(/^[A-Za-z0-9._-]+\.gguf$/),
    /** As the host lists it, rounded (e.g. 531 MB): for display and progress until the server states the length. */
    sizeBytes: z.number().int().positive().nullable(),
    /** Lowercase hex; null when nobody could check it, and the UI says so. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
    roles: z.array(z.enum(MODEL_ROLES)).min(1),
    license: z.string(),
    /** Where the facts were checked. */
    source: z.string(),
  })
  .strict() satisfies z.ZodType<RecommendedModel>
const recommendedListSchema = z.object({ models: z.array(recommendedModelSchema) }).strict()

const factsSchema = z.object({
  format: z.enum(['gguf', 'hf-folder']),
  architecture: z.string(),
  displayName: z.string(),
  sizeBytes: z.number(),
  parameterCount: z.number(),
  quantization: z.string(),
  contextLength: z.number().nullable(),
  chatTemplate: z.string().nullable(),
  llamaCppUsable: z.boolean(),
  trainable: z.boolean(),
  notes: z.array(z.string()),
  suggestedRoles: z.array(z.enum(MODEL_ROLES)),
}) satisfies z.ZodType<ModelFacts>
const entrySchema = z.object({
  id: z.string(),
  path: z.string(),
  roles: z.array(z.enum(MODEL_ROLES)),
  addedAtMs: z.number(),
  facts: factsSchema,
  /** Size and modification time when `facts` were read; a change means reading the file again. */
  fingerprint: z.object({ sizeBytes: z.number(), mtimeMs: z.number() }),
  recommendedId: z.string().nullable(),
})
const fileSchema = z.object({ models: z.array(entrySchema) })
type Entry = z.output<typeof entrySchema>

export interface ModelLibraryOptions {
  /** The curated list the Models page offers to download. Defaults to none. */
  recommended?: RecommendedModel[]
  /** Read before every network path; true refuses it. */
  isOffline: () => boolean
  /** Every change of a download (throttled progress included). */
  onDownload?: (download: ModelDownload) => void
  /** Where downloads go. Defaults to `<appData>/models`. */
  downloadsDir?: string
  /** Defaults to `250`. */
  progressIntervalMs?: number
  warn: (message: string) => void
}

/**
 * The app-wide model library in `<appData>/models.json`: local GGUF files and Hugging Face folders the user added or
 * downloaded, each with the roles the user gave it. Entries are validated when added and re-checked on every
 * listing, so a file that disappeared or changed is flagged, never dropped silently.
 */
export class ModelLibrary {
  private readonly path: string
  private readonly options: ModelLibraryOptions
  private readonly downloadsDir: string
  private entries: Entry[] = []
  private readonly downloads = new Map<string, { state: ModelDownload; controller: AbortController; done: Promise<void> }>()
  private writing: Promise<unknown> = Promise.resolve()
  /** Adds in flight by path, so adding the same file twice at once gives one entry. */
  private readonly adding = new Map<string, Promise<LibraryModel>>()

  private constructor(path: string, downloadsDir: string, options: ModelLibraryOptions) {
    this.path = path
    this.downloadsDir = downloadsDir
    this.options = options
  }

  static async load(appDataDir: string, options: ModelLibraryOptions): Promise<ModelLibrary> {
    const library = new ModelLibrary(join(appDataDir, 'models.json'), options.downloadsDir ?? join(appDataDir, 'models'), options)
    const { value, movedAsideTo } = await readJsonFile(library.path, fileSchema, { models: [] })
    if (movedAsideTo) options.warn(`${library.path} was damaged; moved to ${movedAsideTo} and the model library started afresh`)
    library.entries = value.models
    return library
  }

  /** Reads the curated list shipped in `resources/models/recommended.json`; a damaged list is an error naming it. */
  static async readRecommended(file: string): Promise<RecommendedModel[]> {
    const text = await readFile(file, 'utf8').catch((error: Error) => {
      throw new LecternError('not_found', `${file}: ${error.message}`, { file })
    })
    const parsed = recommendedListSchema.safeParse(JSON.parse(text))
    if (!parsed.success) throw new LecternError('invalid_argument', `${file}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { file })
    return parsed.data.models
  }

  /** Every model (with `role`, only those the user gave that role and that are usable), each checked again. */
  async list(filter: { role?: ModelRole | undefined } = {}): Promise<LibraryModel[]> {
    const models = await Promise.all(this.entries.map((entry) => this.revalidate(entry)))
    if (filter.role === undefined) return models
    return models.filter((m) => m.status === 'ok' && m.roles.includes(filter.role!))
  }

  /**
   * Validates and adds a model. The same path twice gives the existing entry, checked again. `roles` defaults to
   * what the metadata suggests.
   */
  add(path: string, options: { roles?: ModelRole[] | undefined; recommendedId?: string | null } = {}): Promise<LibraryModel> {
    const absolute = resolve(path)
    const inFlight = this.adding.get(absolute)
    if (inFlight) return inFlight
    const work = this.addOnce(absolute, options).finally(() => this.adding.delete(absolute))
    this.adding.set(absolute, work)
    return work
  }

  private async addOnce(absolute: string, options: { roles?: ModelRole[] | undefined; recommendedId?: string | null }): Promise<LibraryModel> {
    const existing = this.entries.find((e) => e.path === absolute)
    if (existing) return this.revalidate(existing)
    const [facts, fingerprint] = await Promise.all([readModelFacts(absolute), fingerprintOf(absolute)])
    const roles = options.roles ?? facts.suggestedRoles
    checkRoles(roles, facts, absolute)
    const entry: Entry = { id: `model-${randomUUID().slice(0, 8)}`, path: absolute, roles, addedAtMs: Date.now(), facts, fingerprint: fingerprint!, recommendedId: options.recommendedId ?? null }
    this.entries = [...this.entries, entry]
    await this.save()
    return toModel(entry, 'ok', null)
  }

  async remove(id: string): Promise<void> {
    this.require(id)
    this.entries = this.entries.filter((e) => e.id !== id)
    await this.save()
  }

  async setRoles(id: string, roles: ModelRole[]): Promise<LibraryModel> {
    const entry = this.require(id)
    checkRoles(roles, entry.facts, entry.path)
    entry.roles = [...new Set(roles)]
    await this.save()
    return this.revalidate(entry)
  }

  /** The curated list, each with its download in progress and its library entry once downloaded. */
  recommended(): RecommendedModelInfo[] {
    return (this.options.recommended ?? []).map((r) => ({
      ...r,
      modelId: this.entries.find((e) => e.recommendedId === r.id)?.id ?? null,
      download: this.downloads.get(r.id)?.state ?? null,
    }))
  }

  /**
   * Starts downloading a recommended model into the downloads folder (resuming an earlier partial file); progress goes
   * to `onDownload`, and on success the file is validated and added. Refused while offline.
   */
  startDownload(recommendedId: string): ModelDownload {
    if (this.options.isOffline()) {
      throw new LecternError('offline', 'Lectern is offline: turn off "Offline mode" in Settings to download models')
    }
    const model = this.options.recommended?.find((r) => r.id === recommendedId)
    if (!model) throw new LecternError('not_found', `There is no recommended model ${recommendedId}`)
    const running = this.downloads.get(recommendedId)
    if (running?.state.status === 'running') return running.state
    const controller = new AbortController()
    const state: ModelDownload = { recommendedId, status: 'running', receivedBytes: 0, totalBytes: model.sizeBytes, resumedFromBytes: 0, error: null, modelId: null }
    const record = { state, controller, done: Promise.resolve() }
    this.downloads.set(recommendedId, record)
    const update = (patch: Partial<ModelDownload>): void => {
      record.state = { ...record.state, ...patch }
      this.options.onDownload?.(record.state)
    }
    record.done = this.runDownload(model, controller.signal, update)
    update({})
    return record.state
  }

  cancelDownload(recommendedId: string): ModelDownload {
    const record = this.downloads.get(recommendedId)
    if (!record) throw new LecternError('not_found', `No download of ${recommendedId} is running`)
    record.controller.abort()
    return record.state
  }

  /** Stops every download, e.g. when the offline switch is turned on; the partial files stay for resuming. */
  async cancelAllDownloads(): Promise<void> {
    for (const record of this.downloads.values()) record.controller.abort()
    await Promise.all([...this.downloads.values()].map((r) => r.done))
  }

  /** Resolves when the download has finished one way or another (for tests and shutdown). */
  async settled(recommendedId: string): Promise<ModelDownload | null> {
    const record = this.downloads.get(recommendedId)
    if (!record) return null
    await record.done
    return record.state
  }

  async dispose(): Promise<void> {
    await this.cancelAllDownloads()
    await this.writing
  }

  private async runDownload(model: RecommendedModel, signal: AbortSignal, update: (patch: Partial<ModelDownload>) => void): Promise<void> {
    const destination = join(this.downloadsDir, model.fileName)
    try {
      await mkdir(this.downloadsDir, { recursive: true })
      const done = await downloadFile(model.url, destination, {
        sha256: model.sha256,
        signal,
        progressIntervalMs: this.options.progressIntervalMs ?? 250,
        onProgress: (p) => update({ receivedBytes: p.receivedBytes, totalBytes: p.totalBytes ?? model.sizeBytes, resumedFromBytes: p.resumedFromBytes }),
      })
      const added = await this.add(destination, { recommendedId: model.id, roles: model.roles })
      update({ status: 'succeeded', receivedBytes: done.receivedBytes, totalBytes: done.receivedBytes, modelId: added.id })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      if (signal.aborted) update({ status: 'cancelled', error: null })
      else update({ status: 'failed', error: message })
    }
  }

  private async revalidate(entry: Entry): Promise<LibraryModel> {
    const fingerprint = await fingerprintOf(entry.path)
    if (fingerprint === null) return toModel(entry, 'missing', `${entry.path} is gone: it was moved or deleted. Add it again from its new place, or remove it.`)
    if (fingerprint.sizeBytes === entry.fingerprint.sizeBytes && fingerprint.mtimeMs === entry.fingerprint.mtimeMs) return toModel(entry, 'ok', null)
    try {
      const facts = await readModelFacts(entry.path)
      entry.facts = facts
      entry.fingerprint = fingerprint
      entry.roles = entry.roles.filter((role) => roleProblem(role, facts) === null)
      await this.save()
      return toModel(entry, 'ok', null)
    } catch (error) {
      return toModel(entry, 'invalid', error instanceof Error ? error.message : String(error))
    }
  }

  private require(id: string): Entry {
    const entry = this.entries.find((e) => e.id === id)
    if (!entry) throw new LecternError('not_found', `There is no model ${id} in the library`)
    return entry
  }

  private save(): Promise<void> {
    const next = this.writing.then(() => writeJsonFileAtomic(this.path, { models: this.entries }))
    this.writing = next.catch(() => undefined)
    return next
  }
}

function toModel(entry: Entry, status: LibraryModel['status'], problem: string | null): LibraryModel {
  return { id: entry.id, path: entry.path, roles: [...entry.roles], addedAtMs: entry.addedAtMs, facts: entry.facts, status, problem, recommendedId: entry.recommendedId }
}

function checkRoles(roles: ModelRole[], facts: ModelFacts, path: string): void {
  for (const role of roles) {
    const problem = roleProblem(role, facts)
    if (problem !== null) throw new LecternError('invalid_argument', `${path}: cannot be used as ${role}: ${problem}`, { file: path })
  }
}

async function fingerprintOf(path: string): Promise<Entry['fingerprint'] | null> {
  try {
    const info = await stat(path)
    return { sizeBytes: info.size, mtimeMs: info.mtimeMs }
  } catch {
    return null
  }
}
