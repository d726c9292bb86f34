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

  constructor(client: ApiClient) {
    this.client = client
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.client.on('onProjectChanged', (summary) => {
      this.current = summary
      void this.refreshRecent()
    })
    try {
      const [current, recent] = await Promise.all([this.client.getCurrentProject(), this.client.listRecentProjects()])
      this.current = current
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

  async refreshRecent(): Promise<void> {
    try {
      this.recent = await this.client.listRecentProjects()
    } catch (error) {
      this.error = errorMessage(error)
    }
  }

  private run(action: () => Promise<ProjectSummary | null>): Promise<boolean> {
    return attempt(this, 'busy', async () => {
      this.current = await action()
      await this.refreshRecent()
    })
  }
}

export const projectState = new ProjectState(api)
