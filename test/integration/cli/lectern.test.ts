import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { LATEST_SCHEMA_VERSION } from '../../../src-main/core/db/migrations.js'
import { demoDigestAfter } from '../../../src-main/core/jobs/handlers/demoJob.js'
import { Project } from '../../../src-main/core/project/Project.js'
import type { ProjectSummary } from '../../../src-main/shared/types/project.js'
import type { JobDetail, JobSummary } from '../../../src-main/shared/types/jobs.js'
import { runCliProcess, startCli } from '../../support/cli.js'
import { useTempDirs } from '../../support/tempDir.js'

const tempDir = useTempDirs()

async function waitForProgress(dir: string, jobId: string, atLeast: number): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const project = await Project.open(dir, { readonly: true }).catch(() => null)
    const done = project ? (() => { try { return project.jobs.get(jobId).progress.done } catch { return 0 } })() : 0
    project?.close()
    if (done >= atLeast) return
    await sleep(50)
  }
  throw new Error(`job ${jobId} in ${dir} never reached ${atLeast} steps`)
}

describe('lectern CLI (built)', () => {
  it('init then status --json describes the empty project', async () => {
    const dir = join(await tempDir(), 'my project')
    const init = await runCliProcess(['init', dir, '--name', 'Legal'])
    expect(init).toMatchObject({ code: 0, stderr: '' })
    expect(init.stdout).toContain(`Created project "Legal" in ${dir}`)
    const status = await runCliProcess(['status', dir, '--json'])
    expect(status.code).toBe(0)
    const summary = JSON.parse(status.stdout) as ProjectSummary
    expect(summary).toMatchObject({ dir, name: 'Legal', schemaVersion: LATEST_SCHEMA_VERSION, dbPath: join(dir, 'project.db') })
    expect(Object.values(summary.jobCounts).every((n) => n === 0)).toBe(true)
    const human = await runCliProcess(['status', dir])
    expect(human.stdout).toMatch(/Project\s+Legal/)
    expect(human.stdout).toMatch(/Jobs\s+none/)
    expect(JSON.parse((await runCliProcess(['jobs', dir, '--json'])).stdout)).toEqual([])
  })

  it('fails with one line naming the problem for a missing folder, a damaged db and an existing project', async () => {
    const missing = await runCliProcess(['status', '/nonexistent'])
    expect(missing.code).toBe(1)
    expect(missing.stdout).toBe('')
    expect(missing.stderr).toBe('lectern: Project folder not found: /nonexistent\n')

    const damaged = await tempDir()
    await writeFile(join(damaged, 'project.db'), 'not a database at all, really not'.repeat(100))
    const corrupt = await runCliProcess(['jobs', damaged, '--json'])
    expect(corrupt.code).toBe(1)
    expect(corrupt.stderr.trim().split('\n')).toHaveLength(1)
    expect(corrupt.stderr).toContain(join(damaged, 'project.db'))

    const dir = await tempDir()
    await runCliProcess(['init', dir])
    const again = await runCliProcess(['init', dir])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^lectern: .* already holds a Lectern project; open it instead\n$/)
  })

  it('explains usage mistakes with exit code 2', async () => {
    expect((await runCliProcess([])).code).toBe(2)
    const help = await runCliProcess(['--help'])
    expect(help.code).toBe(0)
    for (const command of ['init', 'status', 'jobs', 'resume', 'cancel', 'demo']) expect(help.stdout).toContain(`  ${command}`)
    expect(await runCliProcess(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') })
    expect(await runCliProcess(['status'])).toMatchObject({ code: 2, stderr: expect.stringContaining('missing <dir>') })
    expect(await runCliProcess(['status', '/x', '--bogus'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--bogus') })
    expect(await runCliProcess(['demo', '/x', '--steps', 'many'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--steps must be a whole number') })
  })

  it('shows a killed job as interrupted on reopening, and resumes it to the uninterrupted result', async () => {
    const dir = await tempDir()
    await runCliProcess(['init', dir])
    const { child, done } = startCli(['demo', dir, '--steps', '150', '--step-ms', '20'])
    await waitForProgress(dir, '1', 10)
    child.kill('SIGKILL')
    expect((await done).signal).toBe('SIGKILL')

    const jobs = JSON.parse((await runCliProcess(['jobs', dir, '--json'])).stdout) as JobSummary[]
    expect(jobs).toHaveLength(1)
    expect(jobs[0]).toMatchObject({ id: '1', state: 'interrupted', resumable: true })
    expect(jobs[0]!.progress.done).toBeGreaterThanOrEqual(10)
    const status = JSON.parse((await runCliProcess(['status', dir, '--json'])).stdout) as ProjectSummary
    expect(status.jobCounts).toMatchObject({ interrupted: 1, running: 0 })

    const resumed = await runCliProcess(['resume', dir, '1', '--json'])
    expect(resumed.code).toBe(0)
    const detail = JSON.parse(resumed.stdout) as JobDetail
    expect(detail).toMatchObject({ state: 'succeeded', attempts: 2, progress: { done: 150, total: 150 } })
    expect(detail.result).toMatchObject({ digest: demoDigestAfter(150) })
    expect((detail.result as { resumedFromStep: number }).resumedFromStep).toBeGreaterThanOrEqual(10)
    expect(detail.logs.map((l) => l.message)).toEqual(expect.arrayContaining([expect.stringMatching(/stopped unexpectedly/), expect.stringMatching(/^Resuming at step/)]))
  })

  it('cancels on Ctrl-C, exits 130, and says how to resume', async () => {
    const dir = await tempDir()
    await runCliProcess(['init', dir])
    const { child, done } = startCli(['demo', dir, '--steps', '1000', '--step-ms', '20'])
    await waitForProgress(dir, '1', 3)
    child.kill('SIGINT')
    const result = await done
    expect(result.code).toBe(130)
    expect(result.stdout).toMatch(/Job 1 cancelled/)
    expect(result.stdout).toContain(`lectern resume ${dir} 1`)
    const job = JSON.parse((await runCliProcess(['job', dir, '1', '--json'])).stdout) as JobDetail
    expect(job).toMatchObject({ state: 'cancelled', resumable: true })
  })

  it('cancels a job running in another process through the database', async () => {
    const dir = await tempDir()
    await runCliProcess(['init', dir])
    const { done } = startCli(['demo', dir, '--steps', '1000', '--step-ms', '20', '--json'])
    await waitForProgress(dir, '1', 3)
    const cancel = await runCliProcess(['cancel', dir, '1'])
    expect(cancel).toMatchObject({ code: 0, stdout: expect.stringContaining('requested') })
    const result = await done
    expect(result.code).toBe(130)
    expect(JSON.parse(result.stdout)).toMatchObject({ id: '1', state: 'cancelled' })
  })
})
