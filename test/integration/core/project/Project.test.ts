import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LATEST_SCHEMA_VERSION } from '../../../../src-main/core/db/migrations.js'
import { Project } from '../../../../src-main/core/project/Project.js'
import { LECTERN_VERSION } from '../../../../src-main/shared/version.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

describe('Project', () => {
  it('creates project.db and artifacts/ in a new folder and describes the empty project', async () => {
    const dir = join(await tempDir(), 'contracts')
    const project = await Project.create(dir, 'Contracts 2026', 1_700_000_000_000)
    expect((await readdir(dir)).sort()).toEqual(expect.arrayContaining(['artifacts', 'project.db']))
    const summary = await project.summary()
    expect(summary).toMatchObject({
      dir,
      name: 'Contracts 2026',
      dbPath: join(dir, 'project.db'),
      schemaVersion: LATEST_SCHEMA_VERSION,
      createdByVersion: LECTERN_VERSION,
      createdAtMs: 1_700_000_000_000,
      jobCounts: { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, interrupted: 0 },
      corpus: { files: { imported: 0, empty: 0, failed: 0, skipped: 0 }, documents: 0, chunks: 0, activeChunks: 0 },
    })
    expect(summary.dbSizeBytes).toBeGreaterThan(0)
    project.close()
    project.close()
  })

  it('accepts a folder with other files but keeps them', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'notes.txt'), 'mine')
    const project = await Project.create(dir, 'x')
    project.close()
    expect(await readdir(dir)).toEqual(expect.arrayContaining(['artifacts', 'notes.txt', 'project.db']))
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine')
  })

  it('refuses to create a project where one exists', async () => {
    const dir = await tempDir()
    ;(await Project.create(dir, 'first')).close()
    await expect(Project.create(dir, 'second')).rejects.toMatchObject({ code: 'project_exists', message: expect.stringContaining('open it instead') })
    const reopened = await Project.open(dir)
    expect(reopened.name).toBe('first')
    reopened.close()
  })

  it('gives clear errors for a missing folder, a file, and a folder without project.db', async () => {
    const base = await tempDir()
    await expect(Project.open(join(base, 'nope'))).rejects.toMatchObject({ code: 'not_found', message: `Project folder not found: ${join(base, 'nope')}` })
    await writeFile(join(base, 'file.txt'), 'x')
    await expect(Project.open(join(base, 'file.txt'))).rejects.toMatchObject({ code: 'not_a_project' })
    await mkdir(join(base, 'empty'))
    await expect(Project.open(join(base, 'empty'))).rejects.toMatchObject({ code: 'not_a_project', file: join(base, 'empty', 'project.db') })
  })
})
