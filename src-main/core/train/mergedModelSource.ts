import type { ModelSource, ModelTensor } from '../model/convert/ModelSource.js'
import { planAdapters, type AdapterConfig } from './adapters.js'
import { adapterDeltaWeight } from './mergeAdapters.js'

/**
 * The base model with the adapters merged in: every adapted weight reads as W0 + ΔW (float32), everything else
 * as the base stores it. The model-file writers (GGUF at any quantization, safetensors) take it like any
 * source. ΔW is computed per weight when its first rows are read, and only the most recent one is kept.
 */
export function mergedModelSource(source: ModelSource, config: AdapterConfig, values: ReadonlyMap<string, Float32Array>): ModelSource {
  const plan = planAdapters(source.hyperparameters, config)
  const sites = new Map(plan.sites.map((site) => [site.weightName, site]))
  let cached: { name: string; delta: Float64Array } | null = null
  const deltaOf = (name: string): Float64Array => {
    if (cached?.name !== name) cached = { name, delta: adapterDeltaWeight(sites.get(name)!, config, values) }
    return cached.delta
  }
  const tensors = source.tensors.map((tensor): ModelTensor => {
    const site = sites.get(tensor.name)
    if (!site) return tensor
    const rowLength = site.inFeatures
    return {
      ...tensor,
      sourceType: 'F32',
      async readRows(firstRow, rowCount) {
        const rows = await tensor.readRows(firstRow, rowCount)
        const delta = deltaOf(tensor.name)
        const offset = firstRow * rowLength
        return Float32Array.from(rows, (w, i) => w + delta[offset + i]!)
      },
    }
  })
  return { ...source, name: `${source.name} + ${config.method === 'mora' ? 'MoRA' : 'LoRA'} r${config.rank}`, tensors }
}
