import { LecternError } from '../../shared/errors.js'
import type { ProjectSummary } from '../../shared/types/project.js'
import { JobQueue, type JobQueueOptions } from '../jobs/JobQueue.js'
import { PipelineRunner } from '../pipeline/PipelineRunner.js'
import { Project } from '../project/Project.js'
import type { ApiEventBus } from './ApiEventBus.js'
import { MetricsThrottle } from './MetricsThrottle.js'
import type { RecentProjects } from './RecentProjects.js'

export type WorkerOptions = Pick<JobQueueOptions, 'workerScript' | 'workerExecArgv' | 'heartbeatMs' | 'cancelGraceMs' | 'progressIntervalMs'>

/** The project the app has open (at most one) and the job queue that runs its work. */
export class Workspace {
  private readonly events: ApiEventBus
  private readonly recents: RecentProjects
  private readonly worker: WorkerOptions
  private readonly threads: () => number
  private readonly warn: (message: string) => void
  /** Per-step metrics reach clients at most ~10 times a second per job (the latest kept). */
  private readonly metrics = new MetricsThrottle((jobId, record) => this.events.emit('onJobMetrics', { jobId, record }))
  private open: { project: Project; queue: JobQueue; pipeline: PipelineRunner } | null = null
  /** Serialises open/create/close so two quick clicks cannot interleave. */
  private transition: Promise<unknown> = Promise.resolve()

  constructor(events: ApiEventBus, recents: RecentProjects, worker: WorkerOptions, threads: () => number, warn: (message: string) => void) {
    this.events = events
    this.recents = recents
    this.worker = worker
    this.threads = threads
    this.warn = warn
  }

  createProject(dir: string, name: string): Promise<ProjectSummary> {
    return this.serialised(async () => this.adopt(await Project.create(dir, name)))
  }

  openProject(dir: string): Promise<ProjectSummary> {
    return this.serialised(async () => this.adopt(await Project.open(dir)))
  }

  closeProject(): Promise<null> {
    return this.serialised(async () => {
      await this.closeCurrent()
      this.events.emit('onProjectChanged', null)
      return null
    })
  }

  async currentSummary(): Promise<ProjectSummary | null> {
    return this.open ? this.open.project.summary() : null
  }

  /** The open project's job queue; a clear error when none is open. */
  get queue(): JobQueue {
    return this.require().queue
  }

  get project(): Project {
    return this.require().project
  }

  /** The open project's chain of steps ("run all remaining steps"). */
  get pipeline(): PipelineRunner {
    return this.require().pipeline
  }

  async dispose(): Promise<void> {
    await this.serialised(() => this.closeCurrent())
  }

  private require(): { project: Project; queue: JobQueue; pipeline: PipelineRunner } {
    if (!this.open) throw new LecternError('no_project_open', 'No project is open: create or open one first')
    return this.open
  }

  private async adopt(project: Project): Promise<ProjectSummary> {
    try {
      await this.closeCurrent()
      let pipeline: PipelineRunner | null = null
      const queue = new JobQueue(
        project,
        {
          jobUpdated: (job) => {
            this.events.emit('onJobUpdate', job)
            // Deferred: the chain may queue its next step, which must not happen inside the queue's own update.
            const runner = pipeline
            if (runner) queueMicrotask(() => this.open?.pipeline === runner && runner.onJobUpdate(job))
          },
          jobLogged: (jobId, line) => this.events.emit('onJobLog', { jobId, line }),
          jobMetrics: (jobId, record) => this.metrics.push(jobId, record),
        },
        { ...this.worker, threads: this.threads },
      )
      pipeline = new PipelineRunner(project.db, project.jobs, queue, (info) => this.events.emit('onPipelineUpdate', info))
      this.open = { project, queue, pipeline }
      queue.start()
      pipeline.recover()
      const summary = await project.summary()
      // The recent list is a convenience: failing to update it must not fail opening the project.
      await this.recents.touch(project.dir, summary.name).catch((error: Error) => this.warn(`recent projects not updated: ${error.message}`))
      this.events.emit('onProjectChanged', summary)
      return summary
    } catch (error) {
      if (this.open?.project !== project) project.close()
      throw error
    }
  }

  private async closeCurrent(): Promise<void> {
    const open = this.open
    if (!open) return
    this.open = null
    await open.queue.dispose()
    open.project.close()
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.transition.then(work, work)
    this.transition = next.catch(() => undefined)
    return next
  }
}
