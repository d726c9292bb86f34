import { createHash } from 'node:crypto'
import { planAdapters, type AdapterConfig, type AdapterPlan } from '../../../src-main/core/train/adapters.js'
import { DEFAULT_ADAMW } from '../../../src-main/core/train/optimizer.js'
import { seededRandom } from '../../../src-main/core/train/random.js'
import { learningRateAt, type LearningRateSchedule } from '../../../src-main/core/train/schedule.js'
import { TrainingEngine, type StepOutcome } from '../../../src-main/core/train/TrainingEngine.js'
import { nextBatch, type BatchCursor } from '../../../src-main/core/train/trainingData.js'
import type { MemorizationSetup } from './prepareMemorization.js'

/** An adapter to train: MoRA of type 1 or 6, or LoRA, at a rank (the trainable-parameter budget). */
export type AdapterChoice = { method: 'lora'; rank: number } | { method: 'mora'; moraType: 1 | 6; rank: number }

export interface MemorizationTrainerOptions {
  /** Pairs per optimizer step (one micro-batch). */
  batch: number
  /** Peak learning rate. */
  lr: number
  totalSteps: number
  /** After the warmup. Defaults to `cosine` (the app's default). */
  schedule?: LearningRateSchedule['kind']
  /** Share of `totalSteps` spent warming up. Defaults to `0.03` (the app's default). */
  warmupRatio?: number
  /** Adapter dropout. Defaults to `0`: the task is memorization, and dropout only slows it. */
  dropout?: number
  /** Seeds the adapter init (LoRA's A) and the batch order. Defaults to `42`. */
  seed?: number
  /** Defaults to `1`. */
  threads?: number
}

export function adapterLabel(choice: AdapterChoice): string {
  return choice.method === 'lora' ? 'LoRA' : `MoRA-${choice.moraType}`
}

/** The adapter config of a choice on all seven projections, LoRA with the app's alpha (2r, scale 2). */
export function adapterConfig(choice: AdapterChoice, dropout = 0): AdapterConfig {
  return {
    method: choice.method,
    rank: choice.rank,
    moraType: choice.method === 'mora' ? choice.moraType : 6,
    targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'],
    loraAlpha: 2 * choice.rank,
    rsLora: false,
    dropout,
  }
}

/**
 * The app's `TrainingEngine` on a memorization set: the same batches (`nextBatch`, seeded shuffle per epoch),
 * the same schedule (`learningRateAt`) and AdamW defaults (HF's, clipping at 1) as `runTraining`, one step at a
 * time so the caller can evaluate in between.
 */
export class MemorizationTrainer {
  readonly plan: AdapterPlan
  readonly config: AdapterConfig
  private cursor: BatchCursor = { epoch: 0, position: 0 }
  private stepsDone = 0

  private constructor(
    private readonly setup: MemorizationSetup,
    private readonly engine: TrainingEngine,
    private readonly options: Required<MemorizationTrainerOptions>,
    plan: AdapterPlan,
    config: AdapterConfig,
  ) {
    this.plan = plan
    this.config = config
  }

  static async create(setup: MemorizationSetup, choice: AdapterChoice, options: MemorizationTrainerOptions): Promise<MemorizationTrainer> {
    const resolved: Required<MemorizationTrainerOptions> = { schedule: 'cosine', warmupRatio: 0.03, dropout: 0, seed: 42, threads: 1, ...options }
    const config = adapterConfig(choice, resolved.dropout)
    const plan = planAdapters(setup.h, config)
    const engine = await TrainingEngine.create({
      hyperparameters: setup.h,
      plan,
      config,
      batch: resolved.batch,
      seqLen: setup.dataset.seqLen,
      seed: resolved.seed,
      adamw: { ...DEFAULT_ADAMW },
      provider: 'cpu',
      threads: resolved.threads,
      base: setup.base,
      graphFileName: `gradients-${createHash('sha256').update(JSON.stringify({ choice, resolved })).digest('hex').slice(0, 12)}.onnx`,
    })
    engine.initialize(seededRandom(resolved.seed).nextFloat)
    return new MemorizationTrainer(setup, engine, resolved, plan, config)
  }

  get trainableParameters(): number {
    return this.plan.trainableParameters
  }

  get params(): TrainingEngine['params'] {
    return this.engine.params
  }

  get step(): number {
    return this.stepsDone
  }

  /** One optimizer step; returns its mean token loss (value tokens and EOS) and the rest of the outcome. */
  async next(): Promise<StepOutcome & { loss: number; lr: number }> {
    const { lr: peak, totalSteps, warmupRatio, schedule, batch, seed } = this.options
    const lr = learningRateAt(this.stepsDone, { kind: schedule, peak, warmupSteps: Math.round(warmupRatio * totalSteps), totalSteps })
    const drawn = nextBatch(this.setup.dataset, this.cursor, batch, seed)
    this.cursor = drawn.cursor
    const outcome = await this.engine.step([drawn], lr, this.stepsDone)
    this.stepsDone++
    return { ...outcome, loss: outcome.lossSum / outcome.weight, lr }
  }

  async release(): Promise<void> {
    await this.engine.release()
  }
}
