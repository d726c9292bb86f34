import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { quantize } from '../../../../src-main/core/model/quantize/quantize.js'
import { QuantizePool } from '../../../../src-main/core/modelFiles/QuantizePool.js'
import { sourceQuantizeWorker } from '../../../../src-main/devbridge/sourceJobWorker.js'

/** `blocks` Q8_0 blocks (32 values each) of a smooth, seed-dependent signal. */
function chunk(seed: number, blocks = 8): Float32Array {
  return Float32Array.from({ length: 32 * blocks }, (_, i) => Math.sin(seed + i / 7) * (1 + seed))
}

describe('QuantizePool', () => {
  let pool: QuantizePool | null = null
  afterEach(async () => {
    await pool?.dispose()
    pool = null
  })

  it('replaces a worker that died and keeps quantizing to the bytes quantize gives', { timeout: 60_000 }, async () => {
    const threads: Worker[] = []
    pool = new QuantizePool({
      size: 2,
      worker: () => {
        const thread = new Worker(sourceQuantizeWorker().workerScript)
        threads.push(thread)
        return thread
      },
    })
    const expected = (seed: number): Uint8Array => quantize('Q8_0', chunk(seed))
    expect(await Promise.all([0, 1].map((seed) => pool!.quantize('Q8_0', chunk(seed))))).toEqual([expected(0), expected(1)])
    expect(threads).toHaveLength(2)

    // The idle worker that dies has nothing in flight, so it would look like the least busy one.
    await threads[0]!.terminate()
    const seeds = [2, 3, 4, 5]
    expect(await Promise.all(seeds.map((seed) => pool!.quantize('Q8_0', chunk(seed))))).toEqual(seeds.map(expected))
    expect(threads).toHaveLength(3)
  })
})
