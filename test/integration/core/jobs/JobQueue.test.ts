import { describe, expect, it } from 'vitest'
import { demoDigestAfter, type DemoResult } from '../../../../src-main/core/jobs/handlers/demoJob.js'
import { Project } from '../../../../src-main/core/project/Project.js'
import { recordedQueue } from '../../../support/jobHarness.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

describe('JobQueue with real worker threads', () => {
  it('runs a job to success with progress, ETA, logs and its result stored', async () => {
    const project = await Project.create(await tempDir(), 'p')
    const { queue, updates, logs } = recordedQueue(project, { progressIntervalMs: 0 })
    queue.start()
    const job = queue.enqueue({ kind: 'demo', params: { steps: 30, stepMs: 40 } })
    expect(job.state).toMatch(/queued|running/)
    const finished = await queue.waitFor(job.id)
    expect(finished).toMatchObject({ state: 'succeeded', attempts: 1, resumable: false, progress: { done: 30, total: 30, fraction: 1 } })
    const detail = project.jobs.detail(job.id)
    expect(detail.result).toMatchObject({ steps: 30, digest: demoDigestAfter(30), resumedFromStep: 0 })
    expect((detail.result as DemoResult).hashesComputed).toBeGreaterThan(30)
    const running = updates.filter((u) => u.id === job.id && u.state === 'running')
    const doneCounts = running.map((u) => u.progress.done)
    expect(doneCounts).toEqual([...doneCounts].sort((a, b) => a - b))
    expect(new Set(doneCounts).size).toBeGreaterThan(5)
    expect(running.some((u) => u.progress.etaSeconds !== null && u.progress.etaSeconds > 0)).toBe(true)
    expect(logs.map((l) => l.line.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^Starting 30 steps/), expect.stringMatching(/^Succeeded after/)]))
    expect(detail.logs.length).toBe(logs.length)
    await queue.dispose()
    project.close()
  })

  it('keeps the main thread free while a worker computes', async () => {
    const project = await Project.create(await tempDir(), 'p')
    const { queue } = recordedQueue(project)
    queue.start()
    const job = queue.enqueue({ kind: 'demo', params: { steps: 4, stepMs: 250 } })
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    await queue.waitFor(job.id)
    clearInterval(timer)
    // A 1 s job blocking the main thread would allow almost no 10 ms ticks.
    expect(ticks).toBeGreaterThan(40)
    await queue.dispose()
    project.close()
  })

  it('cancels a running job within the grace period and resumes it from its checkpoint to the same result', async () => {
    const project = await Project.create(await tempDir(), 'p')
    const { queue, until } = recordedQueue(project, { progressIntervalMs: 0 })
    queue.start()
    const job = queue.enqueue({ kind: 'demo', params: { steps: 200, stepMs: 10 } })
    await until(job.id, (j) => j.progress.done >= 20)
    const afterCancel = queue.cancel(job.id)
    expect(afterCancel.cancelRequested).toBe(true)
    const cancelled = await queue.waitFor(job.id)
    expect(cancelled).toMatchObject({ state: 'cancelled', resumable: true })
    expect(cancelled.progress.done).toBeLessThan(200)
    const stoppedAt = cancelled.progress.done

    queue.resume(job.id)
    const resumed = await queue.waitFor(job.id)
    expect(resumed).toMatchObject({ state: 'succeeded', attempts: 2 })
    const result = project.jobs.detail(job.id).result as DemoResult
    expect(result.resumedFromStep).toBeGreaterThan(0)
    expect(result.resumedFromStep).toBeGreaterThanOrEqual(stoppedAt - 1)
    expect(result.digest).toBe(demoDigestAfter(200))
    await queue.dispose()
    project.close()
  })

  it('runs jobs one at a time in the order they were queued, and cancels a queued one at once', async () => {
    const project = await Project.create(await tempDir(), 'p')
    const { queue, updates } = recordedQueue(project)
    queue.start()
    const a = queue.enqueue({ kind: 'demo', params: { steps: 3, stepMs: 20 } })
    const b = queue.enqueue({ kind: 'demo', params: { steps: 3, stepMs: 20 } })
    const c = queue.enqueue({ kind: 'demo', params: { steps: 3, stepMs: 20 } })
    expect(queue.cancel(c.id).state).toBe('cancelled')
    await Promise.all([queue.waitFor(a.id), queue.waitFor(b.id)])
    const starts = updates.filter((u) => u.state === 'running' && u.progress.done === 0).map((u) => u.id)
    expect([...new Set(starts)]).toEqual([a.id, b.id])
    const aDone = project.jobs.get(a.id).finishedAtMs ?? Infinity
    const bStart = project.jobs.get(b.id).startedAtMs ?? -Infinity
    expect(bStart).toBeGreaterThanOrEqual(aDone)
    expect(project.jobs.get(c.id)).toMatchObject({ state: 'cancelled', attempts: 0 })
    await queue.dispose()
    project.close()
  })

  it('acts on a cancel requested through the database by another process', async () => {
    const project = await Project.create(await tempDir(), 'p')
    const { queue, until } = recordedQueue(project, { heartbeatMs: 50 })
    queue.start()
    const job = queue.enqueue({ kind: 'demo', params: { steps: 500, stepMs: 10 } })
    await until(job.id, (j) => j.progress.done > 3)
    const other = await Project.open(project.dir)
    other.jobs.requestCancel(job.id)
    other.close()
    expect(await queue.waitFor(job.id)).toMatchObject({ state: 'cancelled' })
    await queue.dispose()
    project.close()
  })

  it('marks the running job interrupted and resumable when the queue is disposed', async () => {
    const project = await Project.create(await tempDir(), 'p')
    const { queue, until } = recordedQueue(project)
    queue.start()
    const job = queue.enqueue({ kind: 'demo', params: { steps: 500, stepMs: 10 } })
    await until(job.id, (j) => j.progress.done > 3)
    await queue.dispose()
    expect(project.jobs.get(job.id)).toMatchObject({ state: 'interrupted', resumable: true })
    expect(() => queue.enqueue({ kind: 'demo', params: {} })).toThrow(/closed/)
    project.close()
  })

  it('refuses to resume a job that is not resumable', async () => {
    const project = await Project.create(await tempDir(), 'p')
    const { queue } = recordedQueue(project)
    queue.start()
    const job = queue.enqueue({ kind: 'demo', params: { steps: 1, stepMs: 0 } })
    await queue.waitFor(job.id)
    expect(() => queue.resume(job.id)).toThrow(expect.objectContaining({ code: 'job_state' }))
    expect(() => queue.cancel(job.id)).toThrow(expect.objectContaining({ code: 'job_state' }))
    expect(() => queue.cancel('999')).toThrow(expect.objectContaining({ code: 'job_not_found' }))
    await queue.dispose()
    project.close()
  })

  it('reports a worker that cannot start as a failed, resumable job', async () => {
    const project = await Project.create(await tempDir(), 'p')
    const { queue } = recordedQueue(project, { workerScript: new URL('./does-not-exist.mjs', import.meta.url) })
    queue.start()
    const job = queue.enqueue({ kind: 'demo', params: { steps: 1, stepMs: 0 } })
    const failed = await queue.waitFor(job.id)
    expect(failed).toMatchObject({ state: 'failed', resumable: true, error: { code: 'internal' } })
    expect(failed.error?.message).toMatch(/Job worker crashed/)
    await queue.dispose()
    project.close()
  })
})
