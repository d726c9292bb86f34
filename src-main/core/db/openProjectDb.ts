import { copyFile, stat } from 'node:fs/promises'
import BetterSqlite3, { type Database } from 'better-sqlite3'
import { LecternError } from '../../shared/errors.js'
import { MIGRATIONS, type Migration } from './migrations.js'

/** PRAGMA application_id of every project.db: ASCII "LCTN". Lets us tell our file from any other SQLite file. */
export const LECTERN_APPLICATION_ID = 0x4c43544e

/** Page size of new project databases (existing ones keep theirs). */
export const PAGE_SIZE_BYTES = 65536

export interface OpenProjectDbOptions {
  /** Create a new database; the file must not exist yet. Defaults to `false` (the file must exist). */
  create?: boolean
  /** Open without write access (no migrations, no recovery). Defaults to `false`. */
  readonly?: boolean
  /** The schema history to bring the database up to. Defaults to `MIGRATIONS`. */
  migrations?: readonly Migration[]
}

/**
 * Opens (or creates) a project database, checks that it is ours and not from a newer Lectern, and brings
 * its schema up to date. An existing database is backed up beside itself before any migration touches it.
 * Never recreates or overwrites a file that exists.
 */
export async function openProjectDb(dbPath: string, options: OpenProjectDbOptions = {}): Promise<Database> {
  const { create = false, readonly = false, migrations = MIGRATIONS } = options
  const latestVersion = migrations.at(-1)?.version ?? 0
  const exists = await stat(dbPath).then(
    (s) => s.isFile() || fail('not_a_project', `${dbPath} is not a file`, dbPath),
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? false : fail('io', `${dbPath}: ${error.message}`, dbPath)),
  )
  if (create && exists) fail('project_exists', `${dbPath} already exists; open the project instead`, dbPath)
  if (!create && !exists) fail('not_a_project', `${dbPath} not found: this folder is not a Lectern project`, dbPath)

  let db: Database
  try {
    db = new BetterSqlite3(dbPath, { fileMustExist: !create, readonly })
  } catch (error) {
    fail('io', `${dbPath}: cannot open (${(error as Error).message})`, dbPath)
  }
  try {
    const { applicationId, userVersion } = readHeader(db, dbPath)
    if (!create) checkOwnership(dbPath, applicationId, userVersion, latestVersion)
    // Large pages: the corpus stores megabytes of text per document, and WAL writes one frame per page.
    if (create) db.pragma(`page_size = ${PAGE_SIZE_BYTES}`)
    if (!readonly) {
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
    }
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    if (userVersion < latestVersion && !readonly) {
      if (userVersion > 0) await backupBeforeMigration(db, dbPath, userVersion)
      migrate(db, dbPath, migrations, userVersion)
    }
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

function readHeader(db: Database, dbPath: string): { applicationId: number; userVersion: number } {
  try {
    return {
      applicationId: db.pragma('application_id', { simple: true }) as number,
      userVersion: db.pragma('user_version', { simple: true }) as number,
    }
  } catch (error) {
    const reason = (error as { code?: string }).code === 'SQLITE_NOTADB' ? 'not a SQLite database' : (error as Error).message
    return fail('project_corrupt', `${dbPath} is damaged or not a project database (${reason})`, dbPath)
  }
}

function checkOwnership(dbPath: string, applicationId: number, userVersion: number, latestVersion: number): void {
  if (applicationId !== LECTERN_APPLICATION_ID) {
    const what = applicationId === 0 && userVersion === 0 ? 'is empty or was not written by Lectern' : 'belongs to another application'
    fail('not_a_project', `${dbPath} ${what}`, dbPath)
  }
  if (userVersion > latestVersion) {
    fail(
      'project_too_new',
      `${dbPath} has schema version ${userVersion}, but this Lectern knows up to ${latestVersion}: update Lectern to open it`,
      dbPath,
    )
  }
}

async function backupBeforeMigration(db: Database, dbPath: string, fromVersion: number): Promise<void> {
  const backupPath = `${dbPath}.schema-v${fromVersion}.bak`
  db.pragma('wal_checkpoint(TRUNCATE)')
  await copyFile(dbPath, backupPath)
}

/** All pending migrations in one transaction: a failure leaves the database exactly as it was. */
function migrate(db: Database, dbPath: string, migrations: readonly Migration[], fromVersion: number): void {
  const pending = migrations.filter((m) => m.version > fromVersion)
  let current: Migration | undefined
  try {
    db.transaction(() => {
      for (const migration of pending) {
        current = migration
        migration.up(db)
        db.pragma(`user_version = ${migration.version}`)
      }
      db.pragma(`application_id = ${LECTERN_APPLICATION_ID}`)
    })()
  } catch (error) {
    const step = current ? `migration to schema v${current.version} (${current.description})` : 'migration'
    throw new LecternError('project_corrupt', `${dbPath}: ${step} failed, nothing was changed: ${(error as Error).message}`, {
      file: dbPath,
      cause: error,
    })
  }
}

function fail(code: LecternError['code'], message: string, file: string): never {
  throw new LecternError(code, message, { file })
}
