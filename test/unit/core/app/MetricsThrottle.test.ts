import { describe, expect, it } from 'vitest'
import { MetricsThrottle } from '../../../../src-main/core/app/MetricsThrottle.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('MetricsThrottle', () => {
  it('passes the first record at once, then at most one per interval per job, always ending with the latest', async () => {
    const sent: [string, number][] = []
    const throttle = new MetricsThrottle((jobId, record) => sent.push([jobId, record['step']!]), { intervalMs: 60 })
    for (let step = 1; step <= 50; step++) throttle.push('1', { step })
    throttle.push('2', { step: 1 })
    // Job 1's first record and job 2's went out; steps 2…50 of job 1 wait, replaced by the newest.
    expect(sent).toEqual([
      ['1', 1],
      ['2', 1],
    ])
    await sleep(120)
    expect(sent).toEqual([
      ['1', 1],
      ['2', 1],
      ['1', 50],
    ])
    throttle.dispose()
  })

  it('a fast stream arrives at about the interval rate, in order, without repeats', async () => {
    const steps: number[] = []
    const throttle = new MetricsThrottle((_jobId, record) => steps.push(record['step']!), { intervalMs: 50 })
    const started = Date.now()
    let step = 0
    while (Date.now() - started < 400) {
      throttle.push('7', { step: ++step })
      await sleep(2)
    }
    await sleep(80)
    expect(step).toBeGreaterThan(40)
    expect(steps.length).toBeLessThanOrEqual(Math.ceil(400 / 50) + 2)
    expect(steps.length).toBeGreaterThanOrEqual(4)
    expect(steps.at(-1)).toBe(step)
    expect([...steps].sort((a, b) => a - b)).toEqual(steps)
    expect(new Set(steps).size).toBe(steps.length)
    throttle.dispose()
  })

  it('flush sends a waiting record now; dispose drops it', async () => {
    const steps: number[] = []
    const throttle = new MetricsThrottle((_jobId, record) => steps.push(record['step']!), { intervalMs: 1000 })
    throttle.push('1', { step: 1 })
    throttle.push('1', { step: 2 })
    throttle.flush('1')
    expect(steps).toEqual([1, 2])
    throttle.push('1', { step: 3 })
    throttle.dispose()
    await sleep(20)
    expect(steps).toEqual([1, 2])
  })
})
