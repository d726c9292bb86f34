import { ARCHITECTURES, hfNameForGguf, permuteQueryKeyRows } from '../architectures.js'
import { readGgufHeader } from '../gguf/readGgufHeader.js'
import type { GgufHeader, GgufMetadata, GgufTensorInfo } from '../gguf/ggufTypes.js'
import { hyperparametersFromGguf } from '../hyperparameters.js'
import type { ByteSource } from '../io/bytes.js'
import { dequantize } from '../quantize/dequantize.js'
import { LecternError } from '../../../shared/errors.js'
import { checkModelTensors } from './checkModelTensors.js'
import type { ModelSource, ModelTensor } from './ModelSource.js'

/** `general.*` keys that describe the file's layout rather than the model; a writer sets its own. */
const LAYOUT_KEYS = new Set(['general.alignment', 'general.file_type', 'general.quantization_version', 'general.architecture'])

/** A GGUF file as a ModelSource: validated header, tensors under HF names, q/k rows un-permuted on read. */
export async function openGgufModelSource(source: ByteSource): Promise<ModelSource & { header: GgufHeader }> {
  const header = await readGgufHeader(source)
  const h = hyperparametersFromGguf(header.metadata, source.name, header.tensors.map((t) => t.name))
  const arch = ARCHITECTURES[h.architecture]
  const tensors: ModelTensor[] = header.tensors.map((info) => {
    const mapping = hfNameForGguf(arch, info.name)
    if (!mapping) {
      throw new LecternError('unsupported_model', `${source.name}: tensor ${info.name} is not part of the ${arch.name} architecture as Lectern supports it`, {
        file: source.name,
      })
    }
    const permuteHeads = arch.permuteQueryKey && mapping.role !== null ? (mapping.role === 'query' ? h.headCount : h.headCountKv) : null
    return ggufTensor(source, info, mapping.hf, permuteHeads)
  })
  checkModelTensors(h, tensors, source.name)
  return {
    name: source.name,
    format: 'gguf',
    hyperparameters: h,
    tokenizer: pick(header.metadata, (key) => key.startsWith('tokenizer.')),
    general: pick(header.metadata, (key) => key.startsWith('general.') && !LAYOUT_KEYS.has(key)),
    tensors,
    header,
  }
}

export function pick(metadata: GgufMetadata, keep: (key: string) => boolean): GgufMetadata {
  return new Map([...metadata].filter(([key]) => keep(key)))
}

function ggufTensor(source: ByteSource, info: GgufTensorInfo, hfName: string, permuteHeads: number | null): ModelTensor {
  const shape = [...info.shape].reverse()
  const rowLength = info.shape[0]!
  const rowBytes = (rowLength / info.type.blockSize) * info.type.blockBytes
  const readPlainRows = async (firstRow: number, rowCount: number): Promise<Float32Array> => {
    const bytes = await source.read(info.absoluteOffset + firstRow * rowBytes, rowCount * rowBytes)
    return dequantize(info.type.name, bytes, rowCount * rowLength)
  }
  return {
    name: hfName,
    storedName: info.name,
    shape,
    sourceType: info.type.name,
    readRows: async (firstRow, rowCount) => {
      if (permuteHeads === null) return readPlainRows(firstRow, rowCount)
      // q/k rows are permuted within each head, so read the whole heads that cover the rows asked for.
      const headRows = info.elementCount / rowLength / permuteHeads
      const firstHead = Math.floor(firstRow / headRows)
      const endHead = Math.ceil((firstRow + rowCount) / headRows)
      const heads = permuteQueryKeyRows(await readPlainRows(firstHead * headRows, (endHead - firstHead) * headRows), endHead - firstHead, rowLength, true)
      const skip = firstRow - firstHead * headRows
      return heads.subarray(skip * rowLength, (skip + rowCount) * rowLength)
    },
  }
}

