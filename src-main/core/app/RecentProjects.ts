import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import type { RecentProject } from '../../shared/types/project.js'
import { PROJECT_DB_FILE } from '../project/Project.js'
import { readJsonFile, writeJsonFileAtomic } from './jsonFile.js'

const MAX_RECENT = 20
const fileSchema = z.object({
  projects: z.array(z.object({ dir: z.string(), name: z.string(), lastOpenedAtMs: z.number() })),
})
type Entry = z.output<typeof fileSchema>['projects'][number]

/** Most recently opened projects, newest first, in `<appData>/recent-projects.json`. */
export class RecentProjects {
  private readonly path: string
  private entries: Entry[] = []

  private constructor(path: string) {
    this.path = path
  }

  static async load(appDataDir: string, warn: (message: string) => void): Promise<RecentProjects> {
    const recents = new RecentProjects(join(appDataDir, 'recent-projects.json'))
    const { value, movedAsideTo } = await readJsonFile(recents.path, fileSchema, { projects: [] })
    if (movedAsideTo) warn(`${recents.path} was damaged; moved to ${movedAsideTo} and the list started afresh`)
    recents.entries = value.projects
    return recents
  }

  async list(): Promise<RecentProject[]> {
    return Promise.all(
      this.entries.map(async (entry) => ({
        ...entry,
        available: await stat(join(entry.dir, PROJECT_DB_FILE)).then((s) => s.isFile(), () => false),
      })),
    )
  }

  async touch(dir: string, name: string, nowMs = Date.now()): Promise<void> {
    const absDir = resolve(dir)
    this.entries = [{ dir: absDir, name, lastOpenedAtMs: nowMs }, ...this.entries.filter((e) => e.dir !== absDir)].slice(0, MAX_RECENT)
    await writeJsonFileAtomic(this.path, { projects: this.entries })
  }

  async forget(dir: string): Promise<void> {
    const absDir = resolve(dir)
    this.entries = this.entries.filter((e) => e.dir !== absDir)
    await writeJsonFileAtomic(this.path, { projects: this.entries })
  }
}
