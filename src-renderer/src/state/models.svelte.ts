import type { ApiClient } from '../../../src-main/shared/api'
import type { LibraryModel, ModelDownload, ModelRole, RecommendedModelInfo } from '../../../src-main/shared/types/models'
import { api } from '../api'
import { errorMessage } from './errorMessage'

/** A path the user tried to add and why it was refused: shown until dismissed, while the page keeps working. */
export interface AddFailure {
  path: string
  message: string
}

/**
 * The Models page's data: the app-wide library (re-checked by main on every listing), the recommended downloads kept
 * live from `onModelDownload`, and the refusals of bad files. Other screens read `usable(role)` for their pickers.
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
  private unsubscribe: (() => void) | null = null

  constructor(client: ApiClient) {
    this.client = client
  }

  /** Models the user gave `role` whose file is still fine, for other pages' pickers. */
  usable(role: ModelRole): LibraryModel[] {
    return this.models.filter((m) => m.status === 'ok' && m.roles.includes(role))
  }

  async start(): Promise<void> {
    this.unsubscribe ??= this.client.on('onModelDownload', (download) => this.applyDownload(download))
    await this.reload()
  }

  stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
  }

  async reload(): Promise<void> {
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
    for (const raw of paths) {
      const path = raw.trim()
      if (path === '' || this.adding.includes(path)) continue
      this.adding = [...this.adding, path]
      this.failures = this.failures.filter((f) => f.path !== path)
      try {
        const model = await this.client.addModel({ path })
        this.models = [...this.models.filter((m) => m.id !== model.id), model]
      } catch (error) {
        this.failures = [...this.failures, { path, message: errorMessage(error) }]
      } finally {
        this.adding = this.adding.filter((p) => p !== path)
      }
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

export const modelsState = new ModelsState(api)
