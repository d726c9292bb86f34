import { gradients } from '../autodiff/gradient.js'
import { Graph } from '../autodiff/Graph.js'
import { targetNll } from '../autodiff/layers.js'
import type { TensorRef } from '../autodiff/types.js'
import type { ModelHyperparameters } from '../model/hyperparameters.js'
import { adapterProjection, type AdapterConfig, type AdapterPlan } from './adapters.js'
import { baseWeightInputs } from './baseWeights.js'
import { baseProjection, decoderLogits } from './decoder.js'

/** Names of the gradient graph's fed inputs and outputs; the trainer uses these, never string literals. */
export const GRADIENT_GRAPH = {
  tokenIds: 'tokenIds',
  flatTargets: 'flatTargets',
  tokenWeights: 'tokenWeights',
  lossScale: 'lossScale',
  lossSum: 'lossSum',
  param: (name: string): string => `param/${name}`,
  dropout: (weightName: string): string => `dropout/${weightName}`,
  grad: (name: string): string => `grad/${name}`,
} as const

export interface GradientGraph {
  graph: Graph
  outputs: Record<string, TensorRef>
  /** The adapter sites whose input gets a dropout mask, with the mask's shape; empty without dropout. */
  dropoutMasks: { weightName: string; shape: number[] }[]
}

/**
 * Forward + backward of one micro-batch: token ids (B, T) → logits → per-token NLL of the targets, weighted
 * by the per-token mask. Outputs the unscaled weighted NLL sum (for reporting) and the gradients of
 * `lossScale · sum` with respect to every adapter parameter. The trainer feeds `lossScale` = 1 / (weighted
 * tokens of the whole accumulation window), so summed micro-batch gradients are those of the window's mean
 * token loss, however the tokens fall across micro-batches. Base weights are graph inputs named by
 * `baseWeightInputName`, to be lowered as external initializers. Without gradients it is the forward pass
 * alone (evaluation loss, and the forward share of a step in benchmarks).
 */
export function buildGradientGraph(
  h: ModelHyperparameters,
  plan: AdapterPlan,
  config: AdapterConfig,
  batch: number,
  seqLen: number,
  { withGradients = true }: { withGradients?: boolean } = {},
): GradientGraph {
  const g = new Graph()
  const names = GRADIENT_GRAPH
  const tokenIds = g.input(names.tokenIds, [batch, seqLen], 'int64')
  const flatTargets = g.input(names.flatTargets, [batch * seqLen], 'int64')
  const tokenWeights = g.input(names.tokenWeights, [batch * seqLen])
  const lossScale = g.input(names.lossScale, [])
  const params = new Map<string, TensorRef>()
  for (const site of plan.sites) for (const p of site.params) params.set(p.name, g.input(names.param(p.name), p.shape))
  const dropoutMasks: GradientGraph['dropoutMasks'] = []
  const maskTensors = new Map<string, TensorRef>()
  if (config.dropout > 0) {
    for (const site of plan.sites) {
      const shape = [batch, seqLen, site.inFeatures]
      dropoutMasks.push({ weightName: site.weightName, shape })
      maskTensors.set(site.weightName, g.input(names.dropout(site.weightName), shape))
    }
  }
  const weights = baseWeightInputs(g, h)
  const project = adapterProjection(g, plan, config, params, baseProjection(h, weights), maskTensors)
  const logits = decoderLogits(g, h, weights, tokenIds, project)
  const nll = targetNll(g, g.reshape(logits, [batch * seqLen, h.vocabSize]), flatTargets)
  const lossSum = g.reduceSum(g.mul(nll, tokenWeights), [0])
  const outputs: Record<string, TensorRef> = { [names.lossSum]: lossSum }
  if (!withGradients) return { graph: g, outputs, dropoutMasks }
  const paramEntries = [...params]
  const grads = gradients(g, g.mul(lossSum, lossScale), paramEntries.map(([, tensor]) => tensor))
  paramEntries.forEach(([name], i) => (outputs[names.grad(name)] = grads[i]!))
  return { graph: g, outputs, dropoutMasks }
}

/**
 * Logits of the adapted decoder, (B, T, V), without dropout: for evaluation and generation. Adapter parameters
 * are inputs named as in the gradient graph, so the same values feed both.
 */
export function buildLogitsGraph(h: ModelHyperparameters, plan: AdapterPlan, config: AdapterConfig, batch: number, seqLen: number): { graph: Graph; outputs: Record<string, TensorRef> } {
  const g = new Graph()
  const tokenIds = g.input(GRADIENT_GRAPH.tokenIds, [batch, seqLen], 'int64')
  const params = new Map<string, TensorRef>()
  for (const site of plan.sites) for (const p of site.params) params.set(p.name, g.input(GRADIENT_GRAPH.param(p.name), p.shape))
  const weights = baseWeightInputs(g, h)
  const logits = decoderLogits(g, h, weights, tokenIds, adapterProjection(g, plan, config, params, baseProjection(h, weights)))
  return { graph: g, outputs: { logits } }
}
