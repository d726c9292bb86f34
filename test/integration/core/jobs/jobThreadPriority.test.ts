import { readdirSync, readFileSync } from 'node:fs'
import { getPriority } from 'node:os'
import { describe, expect, it } from 'vitest'
import { JOB_THREAD_NICE, lowerJobThreadPriority } from '../../../../src-main/core/jobs/jobThreadPriority.js'
import { Project } from '../../../../src-main/core/project/Project.js'
import { recordedQueue } from '../../../support/jobHarness.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

interface ThreadSample {
  nice: number
  /** User plus system time, in clock ticks. */
  cpuTicks: number
}

/** Every thread of this process, from /proc/self/task/<tid>/stat (fields after the command name: nice is the 17th). */
function sampleThreads(): Map<number, ThreadSample> {
  const threads = new Map<number, ThreadSample>()
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    } catch {
      continue // the thread ended meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    threads.set(Number(tid), { nice: Number(fields[16]), cpuTicks: Number(fields[11]) + Number(fields[12]) })
  }
  return threads
}

describe('job thread priority', () => {
  it.runIf(process.platform === 'linux')('runs the thread computing a job at the lowered priority and leaves every other thread as it was', async () => {
    const project = await Project.create(await tempDir(), 'p')
    const { queue, until, logs } = recordedQueue(project, { progressIntervalMs: 0 })
    const before = sampleThreads()
    queue.start()
    const job = queue.enqueue({ kind: 'demo', params: { steps: 60, stepMs: 25 } })
    await until(job.id, (j) => j.state === 'running' && j.progress.done > 2)
    const first = sampleThreads()
    await new Promise((resolve) => setTimeout(resolve, 400))
    const second = sampleThreads()
    await queue.waitFor(job.id)

    // The job's hashing runs on its worker thread: the new thread that took the most CPU between the samples.
    const busiestNew = [...second]
      .filter(([tid]) => !before.has(tid) && first.has(tid))
      .map(([tid, sample]) => ({ tid, nice: sample.nice, ticks: sample.cpuTicks - first.get(tid)!.cpuTicks }))
      .sort((a, b) => b.ticks - a.ticks)[0]
    expect(busiestNew?.ticks).toBeGreaterThan(0)
    expect(busiestNew?.nice).toBe(JOB_THREAD_NICE)
    for (const [tid, sample] of before) {
      if (second.has(tid)) expect({ tid, nice: second.get(tid)!.nice }).toEqual({ tid, nice: sample.nice })
    }
    expect(second.get(process.pid)?.nice).toBe(before.get(process.pid)?.nice)
    expect(logs.filter((l) => l.line.level === 'warn')).toEqual([])
    await queue.dispose()
    project.close()
  })

  it('changes nothing where the call would lower the whole process (Windows, macOS)', () => {
    const own = getPriority(0)
    expect(lowerJobThreadPriority('win32')).toBeNull()
    expect(lowerJobThreadPriority('darwin')).toBeNull()
    expect(getPriority(0)).toBe(own)
  })
})
