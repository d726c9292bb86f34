import type { ApiClient } from '../../../src-main/shared/api'
import type { ProjectSummary, RecentProject } from '../../../src-main/shared/types/project'
import { api } from '../api'
import { errorMessage } from './errorMessage'
import { attempt, orShowError } from './shownError'

/** The open project and the recent-projects list. */
export class ProjectState {
  current = $state<ProjectSummary | null>(null)
  recent = $state.raw<RecentProject[]>([])
  loaded = $state(false)
  busy = $state(false)
  error = $state<string | null>(null)
  private readonly client: ApiClient
  private started = false
  // Bookkeeping only, never rendered.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly switchListeners = new Set<(dir: string | null) => void>()

  constructor(client: ApiClient) {
    this.client = client
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.client.on('onProjectChanged', (summary) => {
      this.setCurrent(summary)
      void this.refreshRecent()
    })
    try {
      const [current, recent] = await Promise.all([this.client.getCurrentProject(), this.client.listRecentProjects()])
      this.setCurrent(current)
      this.recent = recent
    } catch (error) {
      this.error = errorMessage(error)
    } finally {
      this.loaded = true
    }
  }

  create(dir: string, name: string): Promise<boolean> {
    return this.run(() => this.client.createProject({ dir, name }))
  }

  open(dir: string): Promise<boolean> {
    return this.run(() => this.client.openProject({ dir }))
  }

  close(): Promise<boolean> {
    return this.run(async () => {
      await this.client.closeProject()
      return null
    })
  }

  async forget(dir: string): Promise<void> {
    try {
      this.recent = await this.client.forgetRecentProject({ dir })
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  /** A folder from the native picker, or null when cancelled, unavailable or failed (the error is shown). */
  chooseDirectory(title: string): Promise<string | null> {
    return orShowError(this, () => this.client.chooseDirectory({ title }), null)
  }

  /**
   * Calls `listener` with the new folder (null: closed) each time another project takes the window's place, before
   * the page shows it, so state kept across pages (the current page, form values, toast bookkeeping) can start over.
   */
  onSwitch(listener: (dir: string | null) => void): () => void {
    this.switchListeners.add(listener)
    return () => this.switchListeners.delete(listener)
  }

  async refreshRecent(): Promise<void> {
    try {
      this.recent = await this.client.listRecentProjects()
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  private setCurrent(summary: ProjectSummary | null): void {
    const switched = (summary?.dir ?? null) !== (this.current?.dir ?? null)
    this.current = summary
    if (switched) for (const listener of this.switchListeners) listener(summary?.dir ?? null)
  }

  private run(action: () => Promise<ProjectSummary | null>): Promise<boolean> {
    return attempt(this, 'busy', async () => {
      this.setCurrent(await action())
      await this.refreshRecent()
    })
  }
}

export const projectState = new ProjectState(api)
