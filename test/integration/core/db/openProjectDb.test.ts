import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { LATEST_SCHEMA_VERSION } from '../../../../src-main/core/db/migrations.js'
import type { Migration } from '../../../../src-main/core/db/migrations.js'
import { LECTERN_APPLICATION_ID, openProjectDb } from '../../../../src-main/core/db/openProjectDb.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

async function expectOpenError(dbPath: string, code: string, message: RegExp): Promise<void> {
  const error = await openProjectDb(dbPath).catch((e: unknown) => e)
  expect(error).toMatchObject({ code, file: dbPath })
  expect((error as Error).message).toMatch(message)
  expect((error as Error).message).toContain(dbPath)
}

describe('openProjectDb', () => {
  it('creates a WAL database with foreign keys, our application id and the latest schema', async () => {
    const dbPath = join(await tempDir(), 'project.db')
    const db = await openProjectDb(dbPath, { create: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.pragma('application_id', { simple: true })).toBe(LECTERN_APPLICATION_ID)
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION)
    db.close()
    const reopened = await openProjectDb(dbPath)
    expect(reopened.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION)
    reopened.close()
  })

  it('refuses to create over an existing file and leaves it untouched', async () => {
    const dbPath = join(await tempDir(), 'project.db')
    await writeFile(dbPath, 'precious user data')
    await expect(openProjectDb(dbPath, { create: true })).rejects.toMatchObject({ code: 'project_exists' })
    expect(await readFile(dbPath, 'utf8')).toBe('precious user data')
  })

  it('does not create a database when asked to open a missing one', async () => {
    const dbPath = join(await tempDir(), 'project.db')
    await expectOpenError(dbPath, 'not_a_project', /not found/)
    await expect(stat(dbPath)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('names a file that is not SQLite as damaged and keeps its bytes', async () => {
    const dbPath = join(await tempDir(), 'project.db')
    const garbage = Buffer.from('This is a PDF, not a database. '.repeat(200))
    await writeFile(dbPath, garbage)
    await expectOpenError(dbPath, 'project_corrupt', /damaged or not a project database \(not a SQLite database\)/)
    expect((await readFile(dbPath)).equals(garbage)).toBe(true)
  })

  it('refuses an empty file instead of initialising it', async () => {
    const dbPath = join(await tempDir(), 'project.db')
    await writeFile(dbPath, '')
    await expectOpenError(dbPath, 'not_a_project', /empty or was not written by Lectern/)
    expect((await stat(dbPath)).size).toBe(0)
  })

  it("refuses another application's SQLite file", async () => {
    const dbPath = join(await tempDir(), 'project.db')
    const other = new BetterSqlite3(dbPath)
    other.exec('CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES (\'keep me\')')
    other.pragma('application_id = 12345')
    other.close()
    await expectOpenError(dbPath, 'not_a_project', /belongs to another application/)
    const check = new BetterSqlite3(dbPath, { readonly: true })
    expect(check.prepare('SELECT text FROM notes').get()).toEqual({ text: 'keep me' })
    check.close()
  })

  it('refuses a database from a newer Lectern, saying what to do', async () => {
    const dbPath = join(await tempDir(), 'project.db')
    ;(await openProjectDb(dbPath, { create: true })).close()
    const raw = new BetterSqlite3(dbPath)
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 3}`)
    raw.close()
    await expectOpenError(dbPath, 'project_too_new', new RegExp(`schema version ${LATEST_SCHEMA_VERSION + 3}.*update Lectern`))
  })

  it('reports a truncated database as damaged', async () => {
    const dir = await tempDir()
    const dbPath = join(dir, 'project.db')
    const db = await openProjectDb(dbPath, { create: true })
    db.exec('CREATE TABLE filler (x BLOB)')
    const insert = db.prepare('INSERT INTO filler VALUES (randomblob(4000))')
    for (let i = 0; i < 50; i++) insert.run()
    db.pragma('wal_checkpoint(TRUNCATE)')
    db.close()
    const bytes = await readFile(dbPath)
    await writeFile(dbPath, bytes.subarray(0, 50))
    const error = await openProjectDb(dbPath).catch((e: unknown) => e)
    expect(error).toMatchObject({ file: dbPath })
    expect(['project_corrupt', 'not_a_project']).toContain((error as { code: string }).code)
  })
})

describe('openProjectDb migrations', () => {
  const v1: Migration = { version: 1, description: 'notes', up: (db) => db.exec('CREATE TABLE notes (text TEXT NOT NULL)') }
  const v2: Migration = { version: 2, description: 'note tags', up: (db) => db.exec('ALTER TABLE notes ADD COLUMN tag TEXT') }
  const broken: Migration = {
    version: 2,
    description: 'a migration that fails half-way',
    up: (db) => {
      db.exec('ALTER TABLE notes ADD COLUMN tag TEXT')
      db.exec('INSERT INTO no_such_table VALUES (1)')
    },
  }

  async function projectAtV1(): Promise<string> {
    const dbPath = join(await tempDir(), 'project.db')
    const db = await openProjectDb(dbPath, { create: true, migrations: [v1] })
    db.prepare('INSERT INTO notes (text) VALUES (?)').run('written by v1')
    db.close()
    return dbPath
  }

  it('backs the database up beside itself before migrating, then migrates', async () => {
    const dbPath = await projectAtV1()
    const db = await openProjectDb(dbPath, { migrations: [v1, v2] })
    expect(db.pragma('user_version', { simple: true })).toBe(2)
    expect(db.prepare('SELECT text, tag FROM notes').all()).toEqual([{ text: 'written by v1', tag: null }])
    db.close()
    const backup = new BetterSqlite3(`${dbPath}.schema-v1.bak`, { readonly: true })
    expect(backup.pragma('user_version', { simple: true })).toBe(1)
    expect(backup.prepare('SELECT * FROM notes').all()).toEqual([{ text: 'written by v1' }])
    backup.close()
  })

  it('rolls a failed migration back completely and names the step', async () => {
    const dbPath = await projectAtV1()
    await expect(openProjectDb(dbPath, { migrations: [v1, broken] })).rejects.toMatchObject({
      code: 'project_corrupt',
      message: expect.stringMatching(/migration to schema v2 \(a migration that fails half-way\) failed, nothing was changed/),
    })
    const db = await openProjectDb(dbPath, { migrations: [v1] })
    expect(db.pragma('user_version', { simple: true })).toBe(1)
    expect(db.prepare('SELECT * FROM notes').all()).toEqual([{ text: 'written by v1' }])
    db.close()
  })
})
