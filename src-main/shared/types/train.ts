import { z } from 'zod'

export const ADAPTER_TARGET_NAMES = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const
export type AdapterTargetName = (typeof ADAPTER_TARGET_NAMES)[number]

export const TRAIN_DEVICES = ['auto', 'cpu', 'webgpu', 'cuda'] as const
export type TrainDevice = (typeof TRAIN_DEVICES)[number]

/**
 * Everything a training run is started with. Defaults follow the MoRA reference (rank 8, type 6 for small
 * ranks, lr 3e-4, dropout 0.05, cosine with 3% warmup) and HF Trainer (AdamW β 0.9/0.999, ε 1e-8, no weight
 * decay, gradient clipping at 1.0). `null` means "chosen from the other settings" (see `resolveTrainSettings`).
 */
export const trainParamsSchema = z
  .object({
    /** A .gguf file or a Hugging Face model folder. */
    base: z.string().min(1),
    /** JSONL of {"text"}, {"prompt","response"} or {"messages"}; null trains on the project's built dataset. */
    data: z.string().min(1).nullable().default(null),
    method: z.enum(['mora', 'lora']).default('mora'),
    rank: z.number().int().min(1).max(65536).default(8),
    /** MoRA only: 1 (sharing) or 6 (rotation); null picks 6 for rank ≤ 32 and 1 above, as the MoRA README advises. */
    moraType: z.union([z.literal(1), z.literal(6)]).nullable().default(null),
    targets: z.array(z.enum(ADAPTER_TARGET_NAMES)).min(1).default([...ADAPTER_TARGET_NAMES]),
    /** LoRA only; null means 2 × rank. */
    loraAlpha: z.number().positive().nullable().default(null),
    rsLora: z.boolean().default(false),
    dropout: z.number().min(0).max(0.9).default(0.05),
    seqLen: z.number().int().min(8).max(32768).default(256),
    batch: z.number().int().min(1).max(1024).default(1),
    gradAccum: z.number().int().min(1).max(4096).default(1),
    /** null: 3e-4 for MoRA, 2e-4 for LoRA. */
    lr: z.number().positive().max(1).nullable().default(null),
    /** Optimizer steps; null trains for `epochs`. */
    steps: z.number().int().min(1).max(10_000_000).nullable().default(null),
    epochs: z.number().positive().max(1000).default(1),
    schedule: z.enum(['cosine', 'linear', 'constant']).default('cosine'),
    warmupRatio: z.number().min(0).max(0.5).default(0.03),
    weightDecay: z.number().min(0).max(1).default(0),
    maxGradNorm: z.number().min(0).default(1),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(42),
    /** Checkpoint every N optimizer steps (and always on cancel and at the end). */
    checkpointEvery: z.number().int().min(1).default(50),
    device: z.enum(TRAIN_DEVICES).default('cpu'),
    /** Compute threads of the ORT sessions; null uses the job's thread setting. */
    threads: z.number().int().min(1).max(512).nullable().default(null),
  })
  .strict()

export type TrainParams = z.output<typeof trainParamsSchema>
export type TrainParamsInput = z.input<typeof trainParamsSchema>

/** One optimizer step, as the trainer reports it and `metrics.jsonl` stores it. */
export interface TrainStepMetrics {
  step: number
  totalSteps: number
  /** Mean loss over the step's weighted tokens. */
  loss: number
  lr: number
  /** Global gradient norm before clipping. */
  gradNorm: number
  tokensPerSecond: number
  /** Weighted (counted) tokens in the step. */
  tokens: number
  epoch: number
  elapsedMs: number
}
