/** What the Train wizard shows before a run starts and while it runs; plain data, no zod (the renderer imports it). */

/** Bytes per term of the fit planner's estimate (see src-main/core/train/fitPlanner.ts). */
export interface TrainMemoryBreakdown {
  baseWeights: number
  adapterAndOptimizer: number
  activations: number
  logits: number
  workspace: number
}

/** The fit planner's answer for a set of train parameters, without tokenizing the data again for each edit. */
export interface TrainPlanInfo {
  fits: boolean
  estimateBytes: number
  breakdown: TrainMemoryBreakdown
  /** Memory the step may use (RAM on the CPU, capped by LECTERN_MEMORY_LIMIT). */
  availableBytes: number
  /** False on a GPU device, whose memory cannot be read: the estimate is checked against this machine's RAM. */
  availableKnown: boolean
  /** What the step needs and what is available, in words. */
  message: string
  /** What to change when it does not fit; null when it fits or nothing smaller fits. */
  suggestion: string | null
  suggestedShape: { batch: number; seqLen: number } | null
  trainableParameters: number
  /** Adapted projections in the whole model. */
  adapterSites: number
  /** The base model's architecture and name, as read from its header. */
  architecture: string
  modelName: string
  /** Packed training sequences of `seqLen` tokens; null when the data cannot be read (see `dataProblem`). */
  sequences: number | null
  stepsPerEpoch: number | null
  /** Optimizer steps the run will take; null when it depends on data that cannot be read. */
  totalSteps: number | null
  /** Why the data could not be counted (no built dataset yet, an unreadable file); null when it was. */
  dataProblem: string | null
  /** The MoRA type and learning rate the run will use when the form leaves them to the defaults. */
  moraType: 1 | 6
  lr: number
}

/** One complete checkpoint of a run (`runs/<run>/checkpoints/step-NNNNNNN`). */
export interface TrainCheckpointInfo {
  step: number
  dir: string
  /** When it was written (the folder's modification time). */
  writtenAtMs: number
}
