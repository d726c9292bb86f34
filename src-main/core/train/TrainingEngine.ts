import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { LecternError } from '../../shared/errors.js'
import { flatTargetIndices } from '../autodiff/layers.js'
import { lowerToOnnx } from '../autodiff/toOnnx.js'
import type { ModelHyperparameters } from '../model/hyperparameters.js'
import { initialAdapterValues, type AdapterConfig, type AdapterParameter, type AdapterPlan } from './adapters.js'
import type { PreparedBaseWeights } from './baseWeights.js'
import type { ExecutionProviderName } from './executionProviders.js'
import { sessionThreadOptions } from './executionProviders.js'
import { biasCorrections, buildOptimizerGraph, OPTIMIZER_GRAPH, type AdamWSettings } from './optimizer.js'
import { fillDropoutMask } from './random.js'
import type { NamedTensor } from './tensorFiles.js'
import { buildGradientGraph, GRADIENT_GRAPH, type GradientGraph } from './trainGraphs.js'
import type { Batch } from './trainingData.js'

export interface TrainingEngineSetup {
  hyperparameters: ModelHyperparameters
  plan: AdapterPlan
  config: AdapterConfig
  batch: number
  seqLen: number
  /** Seeds the dropout masks, which are regenerated from (seed, step, micro-batch, site). */
  seed: number
  adamw: AdamWSettings
  provider: ExecutionProviderName
  threads: number
  base: PreparedBaseWeights
  /** File name of the gradient graph, written next to the base weights it references. */
  graphFileName: string
}

/** Where one optimizer step's time went, in milliseconds. */
export interface StepTimings {
  /** Building feeds: target indices, dropout masks, tensor wrappers. */
  feedMs: number
  /** The fused forward + backward runs, one per micro-batch (including ORT's copies of the outputs). */
  gradientMs: number
  /** Summing micro-batch gradients on the host. */
  accumulateMs: number
  optimizerMs: number
  /** Copying the updated parameters and moments out of ORT's outputs. */
  copyMs: number
}

export interface StepOutcome {
  /** Σ weight·NLL over the window's tokens. */
  lossSum: number
  /** Σ weights: the tokens that count. */
  weight: number
  gradNorm: number
  timings: StepTimings
}

/**
 * The adapter state (parameters and AdamW moments) and the two ORT sessions that update it: the fused
 * forward+backward graph, run once per micro-batch, and the AdamW graph, run once per step. Deterministic on
 * CPU for a given thread count: the same state and batches give the same numbers.
 */
export class TrainingEngine {
  readonly paramSpecs: AdapterParameter[]
  readonly params = new Map<string, NamedTensor>()
  readonly firstMoments = new Map<string, NamedTensor>()
  readonly secondMoments = new Map<string, NamedTensor>()
  private readonly gradSums: Map<string, Float32Array>
  /**
   * One dropout mask per adapter site, refilled for every micro-batch: `run()` has consumed its feeds when it
   * returns, and ~80 MB of fresh masks per step (the 135 M bench model) would cost a full GC each step.
   */
  private readonly dropoutMasks: Float32Array[]

  private constructor(
    private readonly setup: TrainingEngineSetup,
    private readonly gradientGraph: GradientGraph,
    private readonly gradientSession: ort.InferenceSession,
    private readonly optimizerSession: ort.InferenceSession,
  ) {
    this.paramSpecs = setup.plan.sites.flatMap((site) => site.params)
    this.gradSums = new Map(this.paramSpecs.map((spec) => [spec.name, new Float32Array(sizeOf(spec.shape))]))
    this.dropoutMasks = gradientGraph.dropoutMasks.map(({ shape }) => new Float32Array(sizeOf(shape)))
  }

  static async create(setup: TrainingEngineSetup): Promise<TrainingEngine> {
    const { hyperparameters: h, plan, config, base } = setup
    const gradientGraph = buildGradientGraph(h, plan, config, setup.batch, setup.seqLen)
    const gradientModelPath = join(base.dir, setup.graphFileName)
    await writeFile(gradientModelPath, lowerToOnnx(gradientGraph.graph, gradientGraph.outputs, { elementType: 'float32', externalInitializers: base.externalInitializers }))
    const optimizer = buildOptimizerGraph(plan.sites.flatMap((site) => site.params), setup.adamw)
    const options: ort.InferenceSession.SessionOptions = { ...sessionThreadOptions(setup.threads), executionProviders: [setup.provider], graphOptimizationLevel: 'all', enableMemPattern: false }
    let gradientSession: ort.InferenceSession | null = null
    try {
      gradientSession = await ort.InferenceSession.create(gradientModelPath, options)
      const optimizerSession = await ort.InferenceSession.create(lowerToOnnx(optimizer.graph, optimizer.outputs, { elementType: 'float32' }), options)
      return new TrainingEngine(setup, gradientGraph, gradientSession, optimizerSession)
    } catch (error) {
      await gradientSession?.release()
      await rm(gradientModelPath, { force: true })
      throw error
    }
  }

  /** Fresh adapters (MoRA zeros, LoRA Kaiming A and zero B) and zero moments. */
  initialize(random: () => number): void {
    const initial = initialAdapterValues(this.setup.plan, this.setup.config, random)
    for (const spec of this.paramSpecs) {
      this.params.set(spec.name, { shape: spec.shape, data: initial.get(spec.name)! })
      this.firstMoments.set(spec.name, { shape: spec.shape, data: new Float32Array(sizeOf(spec.shape)) })
      this.secondMoments.set(spec.name, { shape: spec.shape, data: new Float32Array(sizeOf(spec.shape)) })
    }
  }

  /** Adapter state from a checkpoint; every parameter must be there with its size. */
  restore(from: { params: Map<string, NamedTensor>; firstMoments: Map<string, NamedTensor>; secondMoments: Map<string, NamedTensor> }, what: string): void {
    for (const spec of this.paramSpecs) {
      for (const [source, target] of [
        [from.params, this.params],
        [from.firstMoments, this.firstMoments],
        [from.secondMoments, this.secondMoments],
      ] as const) {
        const t = source.get(spec.name)
        if (!t || t.data.length !== sizeOf(spec.shape)) throw new LecternError('invalid_argument', `${what} has no usable ${spec.name}`, { file: what })
        target.set(spec.name, { shape: spec.shape, data: t.data })
      }
    }
  }

  /**
   * One optimizer step over `batches` (the accumulation window): `lossScale` = 1 / the window's weighted
   * tokens, so the summed gradients are those of the window's mean token loss. `step` is 0-based.
   */
  async step(batches: readonly Batch[], lr: number, step: number): Promise<StepOutcome> {
    const { batch: B, seqLen: T, hyperparameters: h, config, seed } = this.setup
    const timings: StepTimings = { feedMs: 0, gradientMs: 0, accumulateMs: 0, optimizerMs: 0, copyMs: 0 }
    let mark = performance.now()
    const lap = (key: keyof StepTimings): void => {
      const now = performance.now()
      timings[key] += now - mark
      mark = now
    }
    const weight = batches.reduce((sum, b) => sum + b.weights.reduce((s, w) => s + w, 0), 0)
    for (const sum of this.gradSums.values()) sum.fill(0)
    let lossSum = 0
    for (const [micro, batch] of batches.entries()) {
      const feeds: Record<string, ort.Tensor> = {
        [GRADIENT_GRAPH.tokenIds]: new ort.Tensor('int64', batch.tokenIds, [B, T]),
        [GRADIENT_GRAPH.flatTargets]: new ort.Tensor('int64', flatTargetIndices(batch.targets, h.vocabSize), [B * T]),
        [GRADIENT_GRAPH.tokenWeights]: new ort.Tensor('float32', batch.weights, [B * T]),
        [GRADIENT_GRAPH.lossScale]: scalar(weight > 0 ? 1 / weight : 0),
      }
      for (const [name, t] of this.params) feeds[GRADIENT_GRAPH.param(name)] = new ort.Tensor('float32', t.data, [...t.shape])
      this.gradientGraph.dropoutMasks.forEach(({ weightName, shape }, site) => {
        const mask = fillDropoutMask(this.dropoutMasks[site]!, config.dropout, seed, 'dropout', step, micro, site)
        feeds[GRADIENT_GRAPH.dropout(weightName)] = new ort.Tensor('float32', mask, shape)
      })
      lap('feedMs')
      const out = await this.gradientSession.run(feeds)
      lap('gradientMs')
      lossSum += (out[GRADIENT_GRAPH.lossSum]!.data as Float32Array)[0]!
      for (const [name, sum] of this.gradSums) {
        const grad = out[GRADIENT_GRAPH.grad(name)]!.data as Float32Array
        for (let i = 0; i < sum.length; i++) sum[i]! += grad[i]!
      }
      lap('accumulateMs')
    }
    const { biasCorrection1, biasCorrection2 } = biasCorrections(step + 1, this.setup.adamw.beta1, this.setup.adamw.beta2)
    const feeds: Record<string, ort.Tensor> = {
      [OPTIMIZER_GRAPH.lr]: scalar(lr),
      [OPTIMIZER_GRAPH.biasCorrection1]: scalar(biasCorrection1),
      [OPTIMIZER_GRAPH.biasCorrection2]: scalar(biasCorrection2),
      [OPTIMIZER_GRAPH.gradScale]: scalar(1),
    }
    for (const spec of this.paramSpecs) {
      const shape = [...spec.shape]
      feeds[OPTIMIZER_GRAPH.param(spec.name)] = new ort.Tensor('float32', this.params.get(spec.name)!.data, shape)
      feeds[OPTIMIZER_GRAPH.firstMoment(spec.name)] = new ort.Tensor('float32', this.firstMoments.get(spec.name)!.data, shape)
      feeds[OPTIMIZER_GRAPH.secondMoment(spec.name)] = new ort.Tensor('float32', this.secondMoments.get(spec.name)!.data, shape)
      feeds[OPTIMIZER_GRAPH.grad(spec.name)] = new ort.Tensor('float32', this.gradSums.get(spec.name)!, shape)
    }
    lap('feedMs')
    const updated = await this.optimizerSession.run(feeds)
    lap('optimizerMs')
    const copy = (name: string): Float32Array => Float32Array.from(updated[name]!.data as Float32Array)
    for (const spec of this.paramSpecs) {
      this.params.set(spec.name, { shape: spec.shape, data: copy(OPTIMIZER_GRAPH.newParam(spec.name)) })
      this.firstMoments.set(spec.name, { shape: spec.shape, data: copy(OPTIMIZER_GRAPH.newFirstMoment(spec.name)) })
      this.secondMoments.set(spec.name, { shape: spec.shape, data: copy(OPTIMIZER_GRAPH.newSecondMoment(spec.name)) })
    }
    const gradNorm = (updated[OPTIMIZER_GRAPH.gradNorm]!.data as Float32Array)[0]!
    lap('copyMs')
    return { lossSum, weight, gradNorm, timings }
  }

  /** Releases both sessions and removes the gradient graph's file (the base weights stay cached). */
  async release(): Promise<void> {
    await this.gradientSession.release()
    await this.optimizerSession.release()
    await rm(join(this.setup.base.dir, this.setup.graphFileName), { force: true })
  }
}

function scalar(value: number): ort.Tensor {
  return new ort.Tensor('float32', Float32Array.of(value), [])
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}
