import { describe, expect, it } from 'vitest'
import { STALE_HEARTBEAT_MS } from '../../../../src-main/core/jobs/JobStore.js'
import { Project } from '../../../../src-main/core/project/Project.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

describe('JobStore recovery of orphaned jobs', () => {
  it('marks running jobs interrupted when their owner is gone or silent, and leaves live ones alone', async () => {
    const project = await Project.create(await tempDir(), 'p')
    const { jobs } = project
    const now = 1_000_000
    const ids = ['dead', 'stale', 'alive'].map(() => jobs.insert('demo', 'Demo', { steps: 5, stepMs: 0 }, now).id)
    jobs.claimNext('host:1:dead', now)
    jobs.claimNext('host:2:stale', now - STALE_HEARTBEAT_MS - 1)
    jobs.claimNext('host:3:alive', now)
    const recovered = jobs.markOrphansInterrupted((owner) => owner !== 'host:1:dead', now)
    expect(recovered.map((j) => j.id).sort()).toEqual([ids[0], ids[1]].sort())
    expect(jobs.get(ids[0]!)).toMatchObject({ state: 'interrupted', resumable: true, error: { message: expect.stringMatching(/stopped unexpectedly/) } })
    expect(jobs.get(ids[2]!)).toMatchObject({ state: 'running' })
    expect(jobs.logs(ids[0]!).at(-1)?.message).toMatch(/resume to continue/)
    project.close()
  })

  it('requeues with the checkpoint kept, and counts attempts', async () => {
    const project = await Project.create(await tempDir(), 'p')
    const { jobs } = project
    const job = jobs.insert('demo', 'Demo', { steps: 5, stepMs: 0 })
    jobs.claimNext('me')
    jobs.saveCheckpoint(job.id, { step: 3, digest: 'abc' })
    jobs.finish(job.id, 'interrupted')
    jobs.requeue(job.id)
    const claimed = jobs.claimNext('me')
    expect(claimed).toMatchObject({ id: job.id, checkpoint: { step: 3, digest: 'abc' } })
    expect(jobs.get(job.id).attempts).toBe(2)
    expect(jobs.claimNext('me')).toBeNull()
    project.close()
  })
})
