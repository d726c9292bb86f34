import type { GgufMetadata } from '../gguf/ggufTypes.js'
import type { ModelHyperparameters } from '../hyperparameters.js'

/**
 * A model as the converters see it, whatever file it came from: hyper-parameters, tokenizer metadata in GGUF
 * form (`tokenizer.*` keys), other descriptive metadata, and tensors under their Hugging Face names in HF
 * layout (q/k rows un-permuted), readable row by row so that no tensor has to be held whole.
 */
export interface ModelSource {
  /** The file or folder, for messages. */
  name: string
  format: 'gguf' | 'safetensors'
  hyperparameters: ModelHyperparameters
  tokenizer: GgufMetadata
  /** `general.*` keys worth carrying over (name, license, …), without layout keys such as alignment. */
  general: GgufMetadata
  tensors: ModelTensor[]
}

export interface ModelTensor {
  /** Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string
  /** The name in the source file (`blk.0.attn_q.weight` in a GGUF). */
  storedName: string
  /** PyTorch order: [rows, rowLength] for matrices, [length] for vectors. */
  shape: number[]
  /** How the source stores it: a GGML type name (F16, Q4_K, …) or a safetensors dtype. */
  sourceType: string
  /** `rowCount` rows from `firstRow`, as float32 in HF layout. A vector is one row. */
  readRows(firstRow: number, rowCount: number): Promise<Float32Array>
}

/**
 * A tensor's rows, about `chunkValues` values at a time, each chunk a whole multiple of `rowMultiple` rows
 * (q/k chunks must hold whole heads). Bounds memory however large the tensor is.
 */
export async function* rowChunks(tensor: ModelTensor, chunkValues: number, rowMultiple = 1): AsyncIterable<Float32Array> {
  const { rowCount, rowLength } = rowsOf(tensor.shape)
  const rowsPerChunk = Math.max(1, Math.floor(chunkValues / rowLength / rowMultiple)) * rowMultiple
  for (let row = 0; row < rowCount; row += rowsPerChunk) yield tensor.readRows(row, Math.min(rowsPerChunk, rowCount - row))
}

export function rowsOf(shape: readonly number[]): { rowCount: number; rowLength: number } {
  const rowLength = shape.at(-1) ?? 1
  return { rowCount: shape.slice(0, -1).reduce((a, b) => a * b, 1), rowLength }
}
