import type { ModelSource, ModelTensor } from '../model/convert/ModelSource.js'
import { planAdapters, type AdapterConfig } from './adapters.js'
import { addDeltaRows } from './mergeAdapters.js'

/**
 * The base model with the adapters merged in: every adapted weight reads as W0 + ΔW (summed in float64, rounded
 * once to float32), everything else as the base stores it. The model-file writers (GGUF at any quantization,
 * safetensors) take it like any source. ΔW is computed for the rows read only, so memory stays at a chunk.
 */
export function mergedModelSource(source: ModelSource, config: AdapterConfig, values: ReadonlyMap<string, Float32Array>): ModelSource {
  const plan = planAdapters(source.hyperparameters, config)
  const sites = new Map(plan.sites.map((site) => [site.weightName, site]))
  const tensors = source.tensors.map((tensor): ModelTensor => {
    const site = sites.get(tensor.name)
    if (!site) return tensor
    return {
      ...tensor,
      sourceType: 'F32',
      async readRows(firstRow, rowCount) {
        const sum = new Float64Array(rowCount * site.inFeatures)
        sum.set(await tensor.readRows(firstRow, rowCount))
        addDeltaRows(site, config, values, firstRow, rowCount, sum)
        const merged = new Float32Array(sum.length)
        merged.set(sum)
        return merged
      },
    }
  })
  return { ...source, name: `${source.name} + ${config.method === 'mora' ? 'MoRA' : 'LoRA'} r${config.rank}`, tensors }
}
