import { mkdir, readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Database } from 'better-sqlite3'
import { LecternError } from '../../shared/errors.js'
import type { ProjectSummary } from '../../shared/types/project.js'
import { LECTERN_VERSION } from '../../shared/version.js'
import { ComprehensionStore } from '../comprehension/ComprehensionStore.js'
import { CorpusStore } from '../corpus/CorpusStore.js'
import { openProjectDb } from '../db/openProjectDb.js'
import { JobStore } from '../jobs/JobStore.js'
import { isOwnerAlive } from '../jobs/ownerLiveness.js'

export const PROJECT_DB_FILE = 'project.db'
export const ARTIFACTS_DIR = 'artifacts'

export interface OpenProjectOptions {
  /** Open without write access: no migration, no recovery of interrupted jobs. Defaults to `false`. */
  readonly?: boolean
}

/** One project = one folder with project.db and an artifacts/ tree. */
export class Project {
  readonly dir: string
  readonly dbPath: string
  readonly artifactsDir: string
  readonly db: Database
  readonly jobs: JobStore
  private closed = false
  private corpusStore: CorpusStore | null = null

  private constructor(dir: string, db: Database) {
    this.dir = dir
    this.dbPath = join(dir, PROJECT_DB_FILE)
    this.artifactsDir = join(dir, ARTIFACTS_DIR)
    this.db = db
    this.jobs = new JobStore(db)
  }

  /** Creates a project in `dir` (made if missing). Refuses a folder that already holds a project.db. */
  static async create(dir: string, name: string, nowMs = Date.now()): Promise<Project> {
    const absDir = resolve(dir)
    await ensureFolder(absDir)
    const db = await openProjectDb(join(absDir, PROJECT_DB_FILE), { create: true })
    db.prepare('INSERT INTO project (id, name, created_at_ms, created_by_version) VALUES (1, ?, ?, ?)').run(name, nowMs, LECTERN_VERSION)
    await mkdir(join(absDir, ARTIFACTS_DIR), { recursive: true })
    return new Project(absDir, db)
  }

  static async open(dir: string, options: OpenProjectOptions = {}): Promise<Project> {
    const absDir = resolve(dir)
    const dirStat = await stat(absDir).catch(() => null)
    if (!dirStat) throw new LecternError('not_found', `Project folder not found: ${absDir}`, { file: absDir })
    if (!dirStat.isDirectory()) throw new LecternError('not_a_project', `${absDir} is a file, not a project folder`, { file: absDir })
    const db = await openProjectDb(join(absDir, PROJECT_DB_FILE), { readonly: options.readonly ?? false })
    const project = new Project(absDir, db)
    try {
      project.projectRow()
    } catch (error) {
      project.close()
      throw error
    }
    if (!options.readonly) {
      await mkdir(project.artifactsDir, { recursive: true })
      project.jobs.markOrphansInterrupted(isOwnerAlive)
    }
    return project
  }

  get name(): string {
    return this.projectRow().name
  }

  /** The corpus tables; null for a database opened read-only before the corpus existed (schema < 2). */
  get corpus(): CorpusStore | null {
    if (this.corpusStore === null && (this.db.pragma('user_version', { simple: true }) as number) >= 2) this.corpusStore = new CorpusStore(this.db)
    return this.corpusStore
  }

  async summary(): Promise<ProjectSummary> {
    const row = this.projectRow()
    const sizes = await Promise.all(['', '-wal'].map((suffix) => stat(this.dbPath + suffix).then((s) => s.size, () => 0)))
    return {
      dir: this.dir,
      name: row.name,
      dbPath: this.dbPath,
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      createdByVersion: row.created_by_version,
      createdAtMs: row.created_at_ms,
      dbSizeBytes: sizes.reduce((a, b) => a + b, 0),
      jobCounts: this.jobs.countsByState(),
      corpus: this.corpus?.totals() ?? null,
      comprehension: (this.db.pragma('user_version', { simple: true }) as number) >= 3 ? new ComprehensionStore(this.db).totals() : null,
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.db.close()
  }

  private projectRow(): { name: string; created_at_ms: number; created_by_version: string } {
    const row = this.db.prepare('SELECT name, created_at_ms, created_by_version FROM project WHERE id = 1').get() as
      | { name: string; created_at_ms: number; created_by_version: string }
      | undefined
    if (!row) throw new LecternError('project_corrupt', `${this.dbPath} has no project record`, { file: this.dbPath })
    return row
  }
}

async function ensureFolder(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => null)
  if (existing && !existing.isDirectory()) throw new LecternError('invalid_argument', `${dir} is a file, not a folder`, { file: dir })
  if (!existing) {
    await mkdir(dir, { recursive: true }).catch((error: Error) => {
      throw new LecternError('io', `Cannot create ${dir}: ${error.message}`, { file: dir })
    })
    return
  }
  const entries = await readdir(dir)
  if (entries.includes(PROJECT_DB_FILE)) {
    throw new LecternError('project_exists', `${dir} already holds a Lectern project; open it instead`, { file: join(dir, PROJECT_DB_FILE) })
  }
}
