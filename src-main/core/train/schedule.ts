import { LecternError } from '../../shared/errors.js'

/** A learning-rate schedule: linear warmup from 0 to `peak`, then a decay (or none) until `totalSteps`. */
export interface LearningRateSchedule {
  /**
   * What follows the warmup, as in Hugging Face transformers: `cosine` (get_cosine_schedule_with_warmup, half a
   * cosine down to 0), `linear` (get_linear_schedule_with_warmup, straight down to 0 at `totalSteps`) or
   * `constant` (get_constant_schedule_with_warmup, `peak` from the end of warmup on).
   */
  kind: 'cosine' | 'linear' | 'constant'
  /** The learning rate at the end of warmup (the optimizer's base lr in transformers). */
  peak: number
  /** Optimizer steps of linear warmup; 0 starts at `peak`. */
  warmupSteps: number
  /** Optimizer steps of the whole run (transformers' num_training_steps). Unused by `constant`. */
  totalSteps: number
  /**
   * The floor of the decay, as a fraction of `peak`: the decay runs from `peak` to `minRatio·peak`, as
   * transformers' `cosine_with_min_lr` does with `min_lr_rate` (factor·(1 − minRatio) + minRatio). `linear` uses
   * the same affine floor (transformers has no linear counterpart); `constant` ignores it. Defaults to `0`.
   */
  minRatio?: number
}

/**
 * The learning rate of the optimizer update that follows `step` earlier updates, i.e. transformers' LambdaLR
 * value `peak · lr_lambda(step)` where `step` is 0-based, as lr_lambda receives it: step 0 is the first update
 * (AdamW's t = 1), which warmup makes lr 0 in transformers too. Past `totalSteps` the decaying schedules stay at
 * their floor; there alone we differ from transformers, whose cosine would rise again (its Trainer never gets
 * there).
 */
export function learningRateAt(step: number, schedule: LearningRateSchedule): number {
  const { kind, peak, warmupSteps, totalSteps, minRatio = 0 } = schedule
  if (!Number.isInteger(step) || step < 0) throw new LecternError('invalid_argument', `learning-rate step must be an integer ≥ 0, got ${step}`)
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new LecternError('invalid_argument', `warmupSteps must be an integer ≥ 0, got ${warmupSteps}`)
  if (!Number.isInteger(totalSteps) || totalSteps < 0) throw new LecternError('invalid_argument', `totalSteps must be an integer ≥ 0, got ${totalSteps}`)
  if (!(peak >= 0) || !Number.isFinite(peak)) throw new LecternError('invalid_argument', `peak learning rate must be finite and ≥ 0, got ${peak}`)
  if (!(minRatio >= 0 && minRatio <= 1)) throw new LecternError('invalid_argument', `minRatio must be in [0, 1], got ${minRatio}`)
  return peak * factorAt(step, kind, warmupSteps, totalSteps, minRatio)
}

/** transformers' lr_lambda, with its max(1, …) guards against empty warmup or decay. */
function factorAt(step: number, kind: LearningRateSchedule['kind'], warmupSteps: number, totalSteps: number, minRatio: number): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps)
  const decaySteps = Math.max(1, totalSteps - warmupSteps)
  switch (kind) {
    case 'constant':
      return 1
    case 'linear':
      return Math.max(0, (totalSteps - step) / decaySteps) * (1 - minRatio) + minRatio
    case 'cosine': {
      // num_cycles = 0.5: half a period, from 1 at the end of warmup to 0 at totalSteps.
      const progress = Math.min(1, (step - warmupSteps) / decaySteps)
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * progress))) * (1 - minRatio) + minRatio
    }
  }
}
