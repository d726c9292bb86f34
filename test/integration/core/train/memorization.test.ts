import { describe, expect, it } from 'vitest'
import { adapterLabel, MemorizationTrainer, type AdapterChoice } from '../../../bench/memory/MemorizationTrainer.js'
import { prepareMemorization } from '../../../bench/memory/prepareMemorization.js'
import { uuidPairs } from '../../../bench/memory/uuidPairs.js'
import { ValueEvaluator } from '../../../bench/memory/ValueEvaluator.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

// A small version of `npm run bench:memory` (specs/mora.md §7): random hex keys → values, only the values count.
const PAIRS = 32
const HEX_DIGITS = 6
const BATCH = 16
const STEPS = 150
const BLOCK = 30
const LR = 3e-3

/** Mean of each successive block of `size` losses. */
function blockMeans(losses: readonly number[], size: number): number[] {
  return Array.from({ length: Math.floor(losses.length / size) }, (_, b) => losses.slice(b * size, (b + 1) * size).reduce((s, x) => s + x, 0) / size)
}

describe('adapters memorize random key → value pairs', () => {
  it.each<[string, AdapterChoice]>([
    ['MoRA type 1', { method: 'mora', moraType: 1, rank: 8 }],
    ['MoRA type 6', { method: 'mora', moraType: 6, rank: 8 }],
    ['LoRA', { method: 'lora', rank: 8 }],
  ])('%s, rank 8: the loss falls block by block, and the values are predicted far better than by the base', async (_, choice) => {
    const setup = await prepareMemorization(await tempDir(), uuidPairs(PAIRS, { hexDigits: HEX_DIGITS, seed: 3 }), { embeddingLength: 128, feedForwardLength: 256, headCount: 4 })
    const trainer = await MemorizationTrainer.create(setup, choice, { batch: BATCH, lr: LR, totalSteps: STEPS })
    const evaluator = await ValueEvaluator.create(setup, trainer.plan, trainer.config, { rows: PAIRS })
    try {
      const before = await evaluator.teacherForced(trainer.params)
      const losses: number[] = []
      while (trainer.step < STEPS) losses.push((await trainer.next()).loss)
      const after = await evaluator.teacherForced(trainer.params)
      const blocks = blockMeans(losses, BLOCK)
      console.log(
        `${adapterLabel(choice)} r=${choice.rank}: block losses ${blocks.map((x) => x.toFixed(3)).join(' ')}; ` +
          `value token accuracy ${before.tokenAccuracy.toFixed(3)} → ${after.tokenAccuracy.toFixed(3)}, value loss ${before.loss.toFixed(3)} → ${after.loss.toFixed(3)}`,
      )
      // Each block clearly below the one before (5%, not float noise: at lr 0 successive blocks differ by ~1e-8).
      blocks.slice(1).forEach((mean, i) => expect(mean, `block ${i + 2} vs block ${i + 1}`).toBeLessThan(0.95 * blocks[i]!))
      expect(blocks.at(-1)!).toBeLessThan(0.25 * blocks[0]!)
      expect(after.tokenAccuracy).toBeGreaterThan(before.tokenAccuracy + 0.5)
      expect(after.loss).toBeLessThan(before.loss)
    } finally {
      await evaluator.release()
      await trainer.release()
    }
  })
})
