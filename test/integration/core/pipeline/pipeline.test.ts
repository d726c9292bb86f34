import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ApiEventBus } from '../../../../src-main/core/app/ApiEventBus.js'
import { RecentProjects } from '../../../../src-main/core/app/RecentProjects.js'
import { Workspace } from '../../../../src-main/core/app/Workspace.js'
import { sourceJobWorker } from '../../../../src-main/devbridge/sourceJobWorker.js'
import type { PipelineInfo } from '../../../../src-main/shared/types/pipeline.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

async function workspace(appDir: string): Promise<{ workspace: Workspace; updates: PipelineInfo[]; until: (predicate: (p: PipelineInfo) => boolean) => Promise<PipelineInfo> }> {
  const events = new ApiEventBus()
  const updates: PipelineInfo[] = []
  const waiters: { predicate: (p: PipelineInfo) => boolean; resolve: (p: PipelineInfo) => void }[] = []
  events.subscribe((event, payload) => {
    if (event !== 'onPipelineUpdate') return
    const info = payload as PipelineInfo
    updates.push(info)
    for (const waiter of waiters.filter((w) => w.predicate(info))) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(info)
    }
  })
  const recents = await RecentProjects.load(appDir, () => {})
  const ws = new Workspace(events, recents, { ...sourceJobWorker(), heartbeatMs: 200 }, () => 1, () => {})
  return {
    workspace: ws,
    updates,
    until: (predicate) => {
      const seen = updates.find(predicate)
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ predicate, resolve }))
    },
  }
}

const demo = (steps: number, stepMs: number) => ({ kind: 'demo' as const, params: { steps, stepMs } })

describe('pipelines: chains of jobs', () => {
  it('runs the steps one after another, each starting after the previous succeeded', async () => {
    const dir = await tempDir()
    const { workspace: ws, until } = await workspace(join(dir, 'app'))
    await ws.createProject(join(dir, 'project'), 'Chain')
    const started = ws.pipeline.start([demo(2, 5), demo(3, 5), demo(2, 5)])
    expect(['queued', 'running']).toContain(started.steps[0]!.state)
    expect(started.steps.slice(1).map((s) => s.state)).toEqual(['pending', 'pending'])
    const done = await until((p) => p.state === 'succeeded')
    expect(done.position).toBe(3)
    expect(done.steps.map((s) => s.state)).toEqual(['succeeded', 'succeeded', 'succeeded'])
    const jobs = done.steps.map((s) => ws.project.jobs.get(s.jobId!))
    for (let i = 1; i < jobs.length; i++) expect(jobs[i]!.startedAtMs!).toBeGreaterThanOrEqual(jobs[i - 1]!.finishedAtMs!)
    // Each step keeps its own job, whose stored result is what that step produced (the overview shows it).
    expect(done.steps.map((s) => (ws.project.jobs.detail(s.jobId!, 0).result as { steps: number }).steps)).toEqual([2, 3, 2])
    expect(() => ws.pipeline.continue()).toThrow(/no stopped pipeline/)
    await ws.dispose()
  }, 120_000)

  it('continues after a restart: the interrupted step is resumed and the rest follow', async () => {
    const dir = await tempDir()
    const project = join(dir, 'project')
    const first = await workspace(join(dir, 'app'))
    await first.workspace.createProject(project, 'Restart')
    first.workspace.pipeline.start([demo(2, 5), demo(40, 50), demo(2, 5)])
    const second = await first.until((p) => p.position === 1)
    const jobId = second.steps[1]!.jobId!
    while (first.workspace.project.jobs.get(jobId).progress.done < 2) await new Promise((r) => setTimeout(r, 20))
    await first.workspace.dispose()

    const again = await workspace(join(dir, 'app'))
    await again.workspace.openProject(project)
    const done = await again.until((p) => p.state === 'succeeded')
    expect(done.steps.map((s) => s.state)).toEqual(['succeeded', 'succeeded', 'succeeded'])
    expect(done.steps[1]!.jobId).toBe(jobId)
    expect(again.workspace.project.jobs.get(jobId).attempts).toBe(2)
    await again.workspace.dispose()
  }, 120_000)

  it('a failing step stops the chain with its reason; cancel and continue work', async () => {
    const dir = await tempDir()
    const { workspace: ws, until } = await workspace(join(dir, 'app'))
    await ws.createProject(join(dir, 'project'), 'Stops')
    ws.pipeline.start([demo(1, 1), { kind: 'train', params: { base: join(dir, 'missing.gguf') } }, demo(1, 1)])
    const stopped = await until((p) => p.state === 'stopped')
    expect(stopped.position).toBe(1)
    expect(stopped.error).toMatch(/Step 2 \(Train .*\) failed: .*missing\.gguf/)
    expect(stopped.steps[2]!.state).toBe('pending')

    ws.pipeline.start([demo(100, 50), demo(1, 1)])
    const running = await until((p) => p.state === 'running' && p.steps.length === 2)
    const cancelled = ws.pipeline.cancel()
    expect(cancelled.state).toBe('cancelled')
    expect(() => ws.pipeline.continue()).toThrow(/still stopping/)
    const stepJob = cancelled.steps[0]!.jobId!
    while (ws.project.jobs.get(stepJob).state !== 'cancelled') await new Promise((r) => setTimeout(r, 20))
    const continued = ws.pipeline.continue()
    expect(continued.id).toBe(running.id)
    expect(continued.state).toBe('running')
    await ws.dispose()
  }, 120_000)
})
