import type { ModelSource, ModelTensor } from '../../src-main/core/model/convert/ModelSource.js'
import { rowsOf } from '../../src-main/core/model/convert/ModelSource.js'
import { expectedHfTensorShapes, type ModelHyperparameters } from '../../src-main/core/model/hyperparameters.js'

/** A prime number of values, so that rows (multiples of 256 long) never line up with the pool's period. */
const POOL_LENGTH = 1_048_573
let pool: Float32Array | undefined

/** Uniform noise in ±0.04 (a linear congruential generator), made once: 4 MB. */
function noisePool(): Float32Array {
  if (pool) return pool
  pool = new Float32Array(POOL_LENGTH)
  let state = 2654435761
  for (let i = 0; i < POOL_LENGTH; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    pool[i] = (state / 4294967296 - 0.5) * 0.08
  }
  return pool
}

/**
 * A model whose weights are generated row by row on demand, so a benchmark can write a file of any size without
 * first holding or reading the weights. Element p of tensor i is `noise[(7919·i + p) mod POOL_LENGTH]` (+1 for
 * norms): deterministic whatever the chunking, and a copy from a 4 MB pool, so the source costs the benchmark
 * little next to the converter it measures.
 */
export function syntheticModelSource(h: ModelHyperparameters, tokenizer: ModelSource['tokenizer']): ModelSource {
  const tensors: ModelTensor[] = [...expectedHfTensorShapes(h)].map(([name, shape], index) => ({
    name,
    // An HF-layout source, as a safetensors file would store it.
    storedName: name,
    shape,
    sourceType: 'F32',
    readRows: async (firstRow, rowCount) => {
      const { rowLength } = rowsOf(shape)
      const noise = noisePool()
      const out = new Float32Array(rowCount * rowLength)
      let at = (7919 * index + firstRow * rowLength) % POOL_LENGTH
      for (let filled = 0; filled < out.length; at = 0) {
        const n = Math.min(out.length - filled, POOL_LENGTH - at)
        out.set(noise.subarray(at, at + n), filled)
        filled += n
      }
      if (name.endsWith('norm.weight')) for (let i = 0; i < out.length; i++) out[i] = out[i]! + 1
      return out
    },
  }))
  return { name: 'synthetic', format: 'safetensors', hyperparameters: h, tokenizer, general: new Map(), tensors }
}
