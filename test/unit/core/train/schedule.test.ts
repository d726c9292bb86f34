import { describe, expect, it } from 'vitest'
import { learningRateAt, type LearningRateSchedule } from '../../../../src-main/core/train/schedule.js'

const curve = (schedule: LearningRateSchedule, steps: number): number[] => Array.from({ length: steps }, (_, step) => learningRateAt(step, schedule))

describe('learningRateAt', () => {
  // The ten-step curves of transformers' tests/optimization/test_optimization.py (base lr 10, values to 2 places).
  it('matches transformers: linear, 2 warmup of 10 steps', () => {
    const expected = [0, 5, 10, 8.75, 7.5, 6.25, 5, 3.75, 2.5, 1.25]
    curve({ kind: 'linear', peak: 10, warmupSteps: 2, totalSteps: 10 }, 10).forEach((lr, i) => expect(lr, `step ${i}`).toBeCloseTo(expected[i]!, 10))
  })
  it('matches transformers: cosine, 2 warmup of 10 steps', () => {
    const expected = [0, 5, 10, 9.61, 8.53, 6.91, 5, 3.08, 1.46, 0.38]
    curve({ kind: 'cosine', peak: 10, warmupSteps: 2, totalSteps: 10 }, 10).forEach((lr, i) => expect(lr, `step ${i}`).toBeCloseTo(expected[i]!, 1))
  })
  it('matches transformers: constant, 4 warmup steps', () => {
    expect(curve({ kind: 'constant', peak: 10, warmupSteps: 4, totalSteps: 10 }, 10)).toEqual([0, 2.5, 5, 7.5, 10, 10, 10, 10, 10, 10])
  })

  it('cosine: exact values at known angles', () => {
    const schedule: LearningRateSchedule = { kind: 'cosine', peak: 2, warmupSteps: 10, totalSteps: 110 }
    expect(learningRateAt(5, schedule)).toBe(1)
    expect(learningRateAt(10, schedule)).toBe(2)
    // progress ¼: ½(1 + cos(π/4))
    expect(learningRateAt(35, schedule)).toBeCloseTo(1 + Math.SQRT1_2, 14)
    // progress ½: cos(π/2) ≈ 6e-17, so half the peak to rounding
    expect(learningRateAt(60, schedule)).toBeCloseTo(1, 14)
    expect(learningRateAt(110, schedule)).toBe(0)
  })
  it('cosine with a floor: transformers cosine_with_min_lr (min_lr_rate)', () => {
    const schedule: LearningRateSchedule = { kind: 'cosine', peak: 2, warmupSteps: 10, totalSteps: 110, minRatio: 0.1 }
    expect(learningRateAt(5, schedule)).toBe(1) // warmup is not lifted by the floor
    expect(learningRateAt(10, schedule)).toBe(2)
    expect(learningRateAt(60, schedule)).toBeCloseTo(2 * (0.5 * 0.9 + 0.1), 14)
    expect(learningRateAt(110, schedule)).toBeCloseTo(0.2, 14)
  })
  it('linear with a floor ends at minRatio·peak', () => {
    const schedule: LearningRateSchedule = { kind: 'linear', peak: 1, warmupSteps: 4, totalSteps: 14, minRatio: 0.25 }
    expect(learningRateAt(2, schedule)).toBe(0.5)
    expect(learningRateAt(9, schedule)).toBeCloseTo(0.5 * 0.75 + 0.25, 15)
    expect(learningRateAt(14, schedule)).toBe(0.25)
  })
  it('stays at the floor past totalSteps (cosine does not rise again)', () => {
    expect(learningRateAt(25, { kind: 'cosine', peak: 3, warmupSteps: 0, totalSteps: 10 })).toBe(0)
    expect(learningRateAt(25, { kind: 'linear', peak: 3, warmupSteps: 0, totalSteps: 10 })).toBe(0)
    expect(learningRateAt(25, { kind: 'cosine', peak: 3, warmupSteps: 0, totalSteps: 10, minRatio: 0.5 })).toBe(1.5)
  })
  it('without warmup starts at the peak; warmup as long as the run does not divide by zero', () => {
    expect(learningRateAt(0, { kind: 'cosine', peak: 3, warmupSteps: 0, totalSteps: 10 })).toBe(3)
    expect(learningRateAt(0, { kind: 'linear', peak: 3, warmupSteps: 0, totalSteps: 10 })).toBe(3)
    expect(learningRateAt(5, { kind: 'linear', peak: 3, warmupSteps: 5, totalSteps: 5 })).toBe(0)
    expect(learningRateAt(5, { kind: 'cosine', peak: 3, warmupSteps: 5, totalSteps: 5 })).toBe(3)
  })
  it('refuses steps and settings that are not schedules', () => {
    const schedule: LearningRateSchedule = { kind: 'cosine', peak: 1, warmupSteps: 2, totalSteps: 10 }
    expect(() => learningRateAt(-1, schedule)).toThrow(/step must be an integer ≥ 0, got -1/)
    expect(() => learningRateAt(1.5, schedule)).toThrow(/step must be an integer/)
    expect(() => learningRateAt(0, { ...schedule, warmupSteps: -2 })).toThrow(/warmupSteps/)
    expect(() => learningRateAt(0, { ...schedule, minRatio: 2 })).toThrow(/minRatio must be in \[0, 1\], got 2/)
    expect(() => learningRateAt(0, { ...schedule, peak: Number.NaN })).toThrow(/peak/)
  })
})
