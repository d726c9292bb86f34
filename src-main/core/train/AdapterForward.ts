import { createHash } from 'node:crypto'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { LecternError } from '../../shared/errors.js'
import { lowerToOnnx } from '../autodiff/toOnnx.js'
import type { ModelSource } from '../model/convert/ModelSource.js'
import type { ModelHyperparameters } from '../model/hyperparameters.js'
import { planAdapters, type AdapterConfig, type AdapterPlan } from './adapters.js'
import { decoderWeightRequests, prepareBaseWeights, type PrepareBaseWeightsOptions } from './baseWeights.js'
import { sessionThreadOptions } from './executionProviders.js'
import { buildLogitsGraph, GRADIENT_GRAPH } from './trainGraphs.js'

export interface AdapterForwardSetup {
  /** The opened base model, and its path (the base-weights cache is keyed by it). */
  source: ModelSource
  modelPath: string
  config: AdapterConfig
  /** Where prepared base weights live; the training runs' cache, so a trained model's weights are reused. */
  cacheDir: string
  /** Tokens per call. */
  seqLen: number
  threads: number
  prepare?: PrepareBaseWeightsOptions
}

/**
 * The training engine's adapted decoder without dropout, float32 on an ORT CPU session: the reference an
 * exported model is checked against. Adapter values are fed per call, so zeros give the base model itself (a
 * MoRA square or a LoRA B of zeros adds nothing).
 */
export class AdapterForward {
  private constructor(
    readonly hyperparameters: ModelHyperparameters,
    readonly plan: AdapterPlan,
    readonly seqLen: number,
    private readonly session: ort.InferenceSession,
    private readonly graphPath: string,
  ) {}

  static async create(setup: AdapterForwardSetup): Promise<AdapterForward> {
    const h = setup.source.hyperparameters
    const plan = planAdapters(h, setup.config)
    const base = await prepareBaseWeights(setup.source, setup.modelPath, decoderWeightRequests(h), setup.cacheDir, setup.prepare)
    const { graph, outputs } = buildLogitsGraph(h, plan, setup.config, 1, setup.seqLen)
    const tag = createHash('sha256').update(JSON.stringify([setup.config, setup.seqLen, process.pid, Date.now()])).digest('hex').slice(0, 12)
    const graphPath = join(base.dir, `logits-${tag}.onnx`)
    await writeFile(graphPath, lowerToOnnx(graph, outputs, { elementType: 'float32', externalInitializers: base.externalInitializers }))
    try {
      const session = await ort.InferenceSession.create(graphPath, { ...sessionThreadOptions(setup.threads), executionProviders: ['cpu'], graphOptimizationLevel: 'all' })
      return new AdapterForward(h, plan, setup.seqLen, session, graphPath)
    } catch (error) {
      await rm(graphPath, { force: true })
      throw error
    }
  }

  /** Zero values for every adapter parameter: the base model's forward. */
  zeroValues(): Map<string, Float32Array> {
    return new Map(this.plan.sites.flatMap((site) => site.params.map((p) => [p.name, new Float32Array(p.shape[0] * p.shape[1])] as const)))
  }

  /** Logits (seqLen × vocab, row-major) of `tokens` (exactly seqLen ids) with the adapter `values`. */
  async logits(tokens: readonly number[], values: ReadonlyMap<string, Float32Array>): Promise<Float32Array> {
    if (tokens.length !== this.seqLen) throw new LecternError('internal', `the adapter forward takes ${this.seqLen} tokens per call, got ${tokens.length}`)
    const feeds: Record<string, ort.Tensor> = { [GRADIENT_GRAPH.tokenIds]: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, tokens.length]) }
    for (const site of this.plan.sites) {
      for (const p of site.params) {
        const data = values.get(p.name)
        if (!data) throw new LecternError('invalid_argument', `no values for adapter parameter ${p.name}`)
        feeds[GRADIENT_GRAPH.param(p.name)] = new ort.Tensor('float32', data, p.shape)
      }
    }
    const output = (await this.session.run(feeds))['logits']
    if (!output) throw new LecternError('internal', 'the adapter forward returned no logits')
    return output.data as Float32Array
  }

  async release(): Promise<void> {
    await this.session.release()
    await rm(this.graphPath, { force: true })
  }
}
