import { ARCHITECTURES, mapHfTensorNames } from '../architectures.js'
import type { GgufMetadata } from '../gguf/ggufTypes.js'
import { hyperparametersFromHfConfig } from '../hyperparameters.js'
import { readTensorAsFloat32 } from '../safetensors/readSafetensors.js'
import type { ShardedSafetensors } from '../safetensors/shardedSafetensors.js'
import { checkModelTensors } from './checkModelTensors.js'
import { rowsOf, type ModelSource, type ModelTensor } from './ModelSource.js'

export interface SafetensorsModelParts {
  /** The model folder, for messages. */
  name: string
  /** Parsed config.json and its path. */
  config: Record<string, unknown>
  configFile: string
  /** Tokenizer metadata in GGUF form, converted from tokenizer.json / tokenizer_config.json. */
  tokenizer: GgufMetadata
  general: GgufMetadata
  checkpoint: ShardedSafetensors
}

/** A Hugging Face checkpoint as a ModelSource; tensors are read a range of rows at a time. */
export function safetensorsModelSource(parts: SafetensorsModelParts): ModelSource {
  const h = hyperparametersFromHfConfig(parts.config, parts.configFile)
  const arch = ARCHITECTURES[h.architecture]
  const checkpoint = parts.checkpoint
  const mapped = new Set(mapHfTensorNames(arch, checkpoint.tensors.map((t) => t.name), parts.name).map((m) => m.hf))
  // Tied checkpoints sometimes still store lm_head.weight as a copy of the embedding; it is not needed.
  const tensors: ModelTensor[] = checkpoint.tensors
    .filter((info) => mapped.has(info.name) && !(h.tiedEmbeddings && info.name === 'lm_head.weight'))
    .map((info) => {
      const { rowLength } = rowsOf(info.shape)
      const elementBytes = info.elementCount === 0 ? 0 : info.byteLength / info.elementCount
      return {
        name: info.name,
        storedName: info.name,
        shape: info.shape,
        sourceType: info.dtype,
        readRows: (firstRow, rowCount) =>
          readTensorAsFloat32(checkpoint.sourceOf(info), {
            ...info,
            shape: [rowCount, rowLength],
            absoluteOffset: info.absoluteOffset + firstRow * rowLength * elementBytes,
            byteLength: rowCount * rowLength * elementBytes,
            elementCount: rowCount * rowLength,
          }),
      }
    })
  checkModelTensors(h, tensors, parts.name)
  return { name: parts.name, format: 'safetensors', hyperparameters: h, tokenizer: parts.tokenizer, general: parts.general, tensors }
}
