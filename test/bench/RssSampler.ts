import { Worker } from 'node:worker_threads'

export interface RssReport {
  /** Largest `process.memoryUsage().rss` seen by the sampler. */
  peakRssBytes: number
  /** `process.resourceUsage().maxRSS`: the kernel's high-water mark for the whole process so far. */
  maxRssBytes: number
  /** [msSinceStart, rssBytes] every `intervalMs`. */
  samples: [number, number][]
}

/**
 * Samples the process's RSS every `intervalMs` from a worker thread: the main thread spends up to a second at a
 * time inside synchronous quantization, where a `setInterval` on it would not fire. RSS is per process, so the
 * worker sees what the main thread allocates (and adds a few MB of its own, which the idle baseline includes).
 */
export class RssSampler {
  private readonly worker: Worker
  private readonly ready: Promise<void>

  private constructor(intervalMs: number) {
    // Plain CommonJS evaluated in the worker; no TypeScript loader needed there.
    const code = `
      const { parentPort, workerData } = require('node:worker_threads')
      const start = performance.now()
      const samples = []
      const sample = () => samples.push([Math.round(performance.now() - start), process.memoryUsage.rss()])
      sample()
      const timer = setInterval(sample, workerData.intervalMs)
      parentPort.on('message', () => {
        clearInterval(timer)
        sample()
        parentPort.postMessage(samples)
      })
      parentPort.postMessage('ready')
    `
    this.worker = new Worker(code, { eval: true, workerData: { intervalMs }, execArgv: [] })
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', () => resolve())
      this.worker.once('error', reject)
    })
  }

  static async start(intervalMs = 50): Promise<RssSampler> {
    const sampler = new RssSampler(intervalMs)
    await sampler.ready
    return sampler
  }

  async stop(): Promise<RssReport> {
    const samples = await new Promise<[number, number][]>((resolve, reject) => {
      this.worker.once('message', resolve)
      this.worker.once('error', reject)
      this.worker.postMessage('stop')
    })
    await this.worker.terminate()
    const peakRssBytes = Math.max(process.memoryUsage.rss(), ...samples.map(([, rss]) => rss))
    return { peakRssBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024, samples }
  }
}
