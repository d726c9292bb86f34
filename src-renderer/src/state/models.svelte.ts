import type { ApiClient } from '../../../src-main/shared/api'
import { MODEL_ROLES, type LibraryModel, type ModelDownload, type ModelRole, type RecommendedModelInfo } from '../../../src-main/shared/types/models'
import { api } from '../api'
import { errorMessage } from './errorMessage'

/** A path the user tried to add and why it was refused: shown until dismissed, while the page keeps working. */
export interface AddFailure {
  path: string
  message: string
}

/** Where the model a picker last chose for each role is remembered between sessions. */
const LAST_CHOICE_KEY = 'lectern.lastModelChoice'

/**
 * The Models page's data: the app-wide library (re-checked by main on every listing), the recommended downloads kept
 * live from `onModelDownload`, and the refusals of bad files. The wizards' model pickers read `forRole(role)` and
 * `lastChoice(role)`; the page and every mounted picker share one subscription (`start`/`stop` are counted).
 */
export class ModelsState {
  models = $state.raw<LibraryModel[]>([])
  recommended = $state.raw<RecommendedModelInfo[]>([])
  failures = $state.raw<AddFailure[]>([])
  /** Paths being validated right now. */
  adding = $state.raw<string[]>([])
  loaded = $state(false)
  error = $state<string | null>(null)
  private readonly client: ApiClient
  private readonly storage: Storage | null
  private unsubscribe: (() => void) | null = null
  private users = 0
  private reloading: Promise<void> | null = null
  private lastChoices = $state<Partial<Record<ModelRole, string>>>({})

  /** `storage` keeps the last choice per role; `null` keeps it for this session only. */
  constructor(client: ApiClient, storage: Storage | null = globalThis.localStorage ?? null) {
    this.client = client
    this.storage = storage
    this.lastChoices = readLastChoices(storage)
  }

  /** Models the user gave `role` whose file is still fine, for other pages' pickers. */
  usable(role: ModelRole): LibraryModel[] {
    return this.models.filter((m) => m.status === 'ok' && m.roles.includes(role))
  }

  /** Every model the user gave `role`, usable or not, for pickers that show the unusable ones disabled with the reason. */
  forRole(role: ModelRole): LibraryModel[] {
    return this.models.filter((m) => m.roles.includes(role))
  }

  /** The path a picker last chose from the library for `role`, if any. */
  lastChoice(role: ModelRole): string | null {
    return this.lastChoices[role] ?? null
  }

  rememberChoice(role: ModelRole, path: string): void {
    this.lastChoices = { ...this.lastChoices, [role]: path }
    try {
      this.storage?.setItem(LAST_CHOICE_KEY, JSON.stringify(this.lastChoices))
    } catch {
      // A full or disabled storage only costs the preselection next time.
    }
  }

  /** Listens for downloads and lists the library; each `start` is matched by a `stop`, the last one unsubscribes. */
  async start(): Promise<void> {
    this.users += 1
    try {
      this.unsubscribe ??= this.client.on('onModelDownload', (download) => this.applyDownload(download))
    } catch (error) {
      this.error = errorMessage(error)
    }
    await this.reload()
  }

  stop(): void {
    this.users = Math.max(0, this.users - 1)
    if (this.users > 0) return
    this.unsubscribe?.()
    this.unsubscribe = null
  }

  /** Lists the library again; callers that arrive while a listing is on its way share it. */
  reload(): Promise<void> {
    this.reloading ??= this.list().finally(() => (this.reloading = null))
    return this.reloading
  }

  private async list(): Promise<void> {
    try {
      const [models, recommended] = await Promise.all([this.client.listModels({}), this.client.listRecommendedModels()])
      this.models = models
      this.recommended = recommended
      this.error = null
    } catch (error) {
      this.error = errorMessage(error)
    } finally {
      this.loaded = true
    }
  }

  /** Validates and adds each path; every refusal is kept with its path and reason, the others still get added. */
  async add(paths: string[]): Promise<void> {
    for (const path of paths) await this.addOne(path)
  }

  /** Validates and adds one path: the entry, or null when it was refused (the reason is in `failures`) or is being added. */
  async addOne(raw: string): Promise<LibraryModel | null> {
    const path = raw.trim()
    if (path === '' || this.adding.includes(path)) return null
    this.adding = [...this.adding, path]
    this.failures = this.failures.filter((f) => f.path !== path)
    try {
      const model = await this.client.addModel({ path })
      this.models = [...this.models.filter((m) => m.id !== model.id), model]
      return model
    } catch (error) {
      this.failures = [...this.failures, { path, message: errorMessage(error) }]
      return null
    } finally {
      this.adding = this.adding.filter((p) => p !== path)
    }
  }

  dismissFailure(path: string): void {
    this.failures = this.failures.filter((f) => f.path !== path)
  }

  async remove(id: string): Promise<void> {
    await this.guard(async () => {
      this.models = await this.client.removeModel({ id })
    })
  }

  async setRoles(id: string, roles: ModelRole[]): Promise<void> {
    await this.guard(async () => {
      const model = await this.client.setModelRoles({ id, roles })
      this.models = this.models.map((m) => (m.id === id ? model : m))
    })
  }

  async download(recommendedId: string): Promise<void> {
    await this.guard(async () => this.applyDownload(await this.client.downloadModel({ recommendedId })))
  }

  async cancelDownload(recommendedId: string): Promise<void> {
    await this.guard(async () => void (await this.client.cancelModelDownload({ recommendedId })))
  }

  /** Chooses a .gguf with the native picker (desktop app only) and adds it. */
  async browseFile(): Promise<void> {
    const path = await this.client.chooseFile({ title: 'Add a GGUF model', extensions: ['gguf'] }).catch(() => null)
    if (path !== null) await this.add([path])
  }

  /** Chooses a Hugging Face model folder with the native picker (desktop app only) and adds it. */
  async browseFolder(): Promise<void> {
    const path = await this.client.chooseDirectory({ title: 'Add a Hugging Face model folder' }).catch(() => null)
    if (path !== null) await this.add([path])
  }

  private applyDownload(download: ModelDownload): void {
    this.recommended = this.recommended.map((r) => (r.id === download.recommendedId ? { ...r, download, modelId: download.modelId ?? r.modelId } : r))
    if (download.status === 'succeeded') void this.reload()
  }

  private async guard(work: () => Promise<void>): Promise<void> {
    this.error = null
    try {
      await work()
    } catch (error) {
      this.error = errorMessage(error)
    }
  }
}

function readLastChoices(storage: Storage | null): Partial<Record<ModelRole, string>> {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(LAST_CHOICE_KEY) ?? '{}')
    if (typeof parsed !== 'object' || parsed === null) return {}
    return Object.fromEntries(Object.entries(parsed).filter(([role, path]) => (MODEL_ROLES as readonly string[]).includes(role) && typeof path === 'string'))
  } catch {
    return {}
  }
}

export const modelsState = new ModelsState(api)
