// The cases and values the adapter tests share: which methods, their configs, parameter values, decoder weights.
import type { Graph } from '../../src-main/core/autodiff/Graph.js'
import type { TensorRef } from '../../src-main/core/autodiff/types.js'
import { expectedHfTensorShapes, type ModelHyperparameters } from '../../src-main/core/model/hyperparameters.js'
import { ADAPTER_TARGETS, adapterParameterCount, type AdapterConfig, type AdapterPlan, type AdapterSite } from '../../src-main/core/train/adapters.js'
import type { DecoderWeights } from '../../src-main/core/train/decoder.js'
import { tinyWeights } from '../fixtures/tinyWeights.js'
import { transposed, uniform } from './float64Checks.js'

export type AdapterMethod = Pick<AdapterConfig, 'method' | 'moraType'>

/** Every adapter method, labelled: both MoRA compressions and LoRA. */
export const ADAPTER_METHODS: [string, AdapterMethod][] = [
  ['MoRA type 1', { method: 'mora', moraType: 1 }],
  ['MoRA type 6', { method: 'mora', moraType: 6 }],
  ['LoRA', { method: 'lora', moraType: 1 }],
]

export interface AdapterConfigOptions {
  /** Defaults to `2 * rank + 1`. */
  loraAlpha?: number
  /** Defaults to `false`. */
  rsLora?: boolean
  /** Defaults to `0`. */
  dropout?: number
}

/** `method` at `rank` on all seven targets. */
export function adapterConfig(method: AdapterMethod, rank: number, { loraAlpha = 2 * rank + 1, rsLora = false, dropout = 0 }: AdapterConfigOptions = {}): AdapterConfig {
  return { ...method, rank, targets: [...ADAPTER_TARGETS], loraAlpha, rsLora, dropout }
}

/** The plan of one site alone. */
export const singleSitePlan = (site: AdapterSite): AdapterPlan => ({ sites: [site], trainableParameters: adapterParameterCount([site]) })

/** Random values in [-scale, scale) for every parameter of the plan, in plan order: M, A and B all non-zero. */
export function randomAdapterValues(plan: AdapterPlan, random: () => number, scale: number): Map<string, Float64Array> {
  return new Map(plan.sites.flatMap((site) => site.params.map((p) => [p.name, uniform(p.shape[0] * p.shape[1], random, scale)] as const)))
}

/** tinyWeights' values by HF name, without their shapes. */
export const tinyWeightData = (h: ModelHyperparameters, seed: number): Map<string, Float32Array> => new Map([...tinyWeights(h, seed)].map(([name, w]) => [name, w.data]))

/**
 * The decoder's weights as graph constants, HF names, from `source` (HF layout, row-major); each name and layout
 * becomes one constant, made on first use.
 */
export function constantWeights(g: Graph, h: ModelHyperparameters, source: ReadonlyMap<string, ArrayLike<number>>): DecoderWeights {
  const shapes = expectedHfTensorShapes(h)
  const cache = new Map<string, TensorRef>()
  return (name, layout) => {
    const key = `${name}:${layout}`
    if (!cache.has(key)) {
      const data = source.get(name)!
      const shape = shapes.get(name)!
      const [rows, cols] = shape as [number, number]
      cache.set(key, layout === 'stored' ? g.constant(data, shape) : g.constant(transposed(data, rows, cols), [cols, rows]))
    }
    return cache.get(key)!
  }
}
