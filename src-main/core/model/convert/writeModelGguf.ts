import { ARCHITECTURES, ggufNameForHf, permuteQueryKeyRows } from '../architectures.js'
import type { GgufMetadata, GgufValue } from '../gguf/ggufTypes.js'
import { writeGguf, type GgufLayout, type GgufTensorToWrite } from '../gguf/writeGguf.js'
import { ggufHyperparameterMetadata } from '../hyperparameters.js'
import type { ByteSink } from '../io/bytes.js'
import { quantize } from '../quantize/quantize.js'
import { chooseTensorType, ggufFileTypeNumber, type GgufFileType } from '../quantize/quantMixture.js'
import type { GgmlTypeName } from '../tensorTypes.js'
import { rowChunks, rowsOf, type ModelSource, type ModelTensor } from './ModelSource.js'

export interface WriteModelGgufOptions {
  fileType: GgufFileType
  signal?: AbortSignal
  onProgress?: (writtenBytes: number, totalBytes: number) => void
  /** Rows converted per step; bounds memory for large tensors. Defaults to about 1 Mi values (4 MiB of float32), which keeps garbage between collections small. */
  chunkValues?: number
  /**
   * Quantizes one chunk; a worker pool can be passed here to use several cores. Must give exactly what
   * `quantize` gives. Defaults to `quantize` on this thread.
   */
  quantizeChunk?: (type: GgmlTypeName, values: Float32Array) => Promise<Uint8Array>
  /** Chunks in flight at once when `quantizeChunk` is asynchronous. Defaults to `1`. */
  chunksInFlight?: number
}

/**
 * Writes a ModelSource as a GGUF file llama.cpp can load: `general` + hyper-parameter + tokenizer metadata,
 * tensors renamed to GGUF, q/k rows permuted for `llama`, each tensor in the type llama.cpp's mixture for
 * `fileType` gives it. Streams a few MiB at a time.
 */
export async function writeModelGguf(source: ModelSource, sink: ByteSink, options: WriteModelGgufOptions): Promise<GgufLayout> {
  const { metadata, planned } = planModelGguf(source, options.fileType)
  const chunkValues = options.chunkValues ?? 1024 * 1024
  const quantizeChunk = options.quantizeChunk ?? ((type: GgmlTypeName, values: Float32Array) => Promise.resolve(quantize(type, values)))
  return writeGguf(
    sink,
    metadata,
    planned.map((p) => p.toWrite),
    {
      tensorData: (_t, index) => {
        const { tensor, toWrite, permuteHeads } = planned[index]!
        return inOrder(tensorChunks(tensor, toWrite.type, permuteHeads, chunkValues, quantizeChunk), options.chunksInFlight ?? 1)
      },
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  )
}

/** Metadata and tensors (GGUF names, shapes, types) of `source` written as `fileType`. */
export function planModelGguf(source: ModelSource, fileType: GgufFileType) {
  const h = source.hyperparameters
  const arch = ARCHITECTURES[h.architecture]
  const planned = source.tensors.map((tensor) => {
    const mapping = ggufNameForHf(arch, tensor.name)
    if (!mapping) throw new Error(`${source.name}: no GGUF name for ${tensor.name}`)
    const shape = [...tensor.shape].reverse()
    const type = chooseTensorType({ fileType, tensorName: mapping.gguf, shape, layerCount: h.blockCount, tiedEmbeddings: h.tiedEmbeddings })
    const permuteHeads = arch.permuteQueryKey && mapping.role !== null ? (mapping.role === 'query' ? h.headCount : h.headCountKv) : null
    return { tensor, permuteHeads, toWrite: { name: mapping.gguf, shape, type } satisfies GgufTensorToWrite }
  })
  const layoutKeys = new Set(['general.architecture', 'general.file_type', 'general.quantization_version'])
  const carried = [...source.general].filter(([key]) => !layoutKeys.has(key))
  const metadata: GgufMetadata = new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: h.architecture }],
    ...carried,
    ['general.file_type', { type: 'u32', value: ggufFileTypeNumber(fileType) }],
    ...(isQuantized(fileType) ? [['general.quantization_version', { type: 'u32', value: 2 }] as [string, GgufValue]] : []),
    ...[...ggufHyperparameterMetadata(h)].filter(([key]) => key !== 'general.architecture'),
    ...source.tokenizer,
  ])
  return { metadata, planned }
}

function isQuantized(fileType: GgufFileType): boolean {
  return fileType !== 'F32' && fileType !== 'F16' && fileType !== 'BF16'
}

/**
 * The tensor in `type`, a chunk of rows at a time, as promises (so several chunks can be quantized at once); q/k
 * chunks hold whole heads, which the permutation needs.
 */
async function* tensorChunks(
  tensor: ModelTensor,
  type: GgmlTypeName,
  permuteHeads: number | null,
  chunkValues: number,
  quantizeChunk: NonNullable<WriteModelGgufOptions['quantizeChunk']>,
): AsyncIterable<{ pending: Promise<Uint8Array> }> {
  const { rowCount, rowLength } = rowsOf(tensor.shape)
  const headRows = permuteHeads === null ? 1 : rowCount / permuteHeads
  for await (const rows of rowChunks(tensor, chunkValues, headRows)) {
    // Wrapped, because an async generator would await a promise it yields and so serialise the chunks.
    yield { pending: quantizeChunk(type, permuteHeads === null ? rows : permuteQueryKeyRows(rows, rows.length / rowLength / headRows, rowLength)) }
  }
}

/** Awaits pending chunks in their original order while keeping up to `inFlight` of them running. */
async function* inOrder(chunks: AsyncIterable<{ pending: Promise<Uint8Array> }>, inFlight: number): AsyncIterable<Uint8Array> {
  const window: Promise<Uint8Array>[] = []
  for await (const { pending } of chunks) {
    // Attach a handler now so a failure while waiting in the window is not reported as unhandled.
    pending.catch(() => undefined)
    window.push(pending)
    if (window.length >= inFlight) yield await window.shift()!
  }
  while (window.length > 0) yield await window.shift()!
}
