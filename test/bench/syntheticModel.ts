import type { ModelSource, ModelTensor } from '../../src-main/core/model/convert/ModelSource.js'
import { rowsOf } from '../../src-main/core/model/convert/ModelSource.js'
import { expectedHfTensorShapes, type ModelHyperparameters } from '../../src-main/core/model/hyperparameters.js'

/**
 * A model whose weights are generated row by row on demand (a cheap deterministic pattern), so a benchmark can
 * write a file of any size without first holding or reading the weights.
 */
export function syntheticModelSource(h: ModelHyperparameters, tokenizer: ModelSource['tokenizer']): ModelSource {
  const tensors: ModelTensor[] = [...expectedHfTensorShapes(h)].map(([name, shape], index) => ({
    name,
    shape,
    sourceType: 'F32',
    readRows: async (firstRow, rowCount) => {
      const { rowLength } = rowsOf(shape)
      const out = new Float32Array(rowCount * rowLength)
      let state = (index * 2654435761 + firstRow * 40503) >>> 0
      const isNorm = name.endsWith('norm.weight')
      for (let i = 0; i < out.length; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0
        out[i] = (isNorm ? 1 : 0) + (state / 4294967296 - 0.5) * 0.08
      }
      return out
    },
  }))
  return { name: 'synthetic', format: 'safetensors', hyperparameters: h, tokenizer, general: new Map(), tensors }
}
