import { LecternError } from '../../../shared/errors.js'
import type { ByteSink } from '../io/bytes.js'
import { SAFETENSORS_METADATA_KEY, type SafetensorsTensorInfo } from './readSafetensors.js'
import { SAFETENSORS_DTYPE_NAMES, isSafetensorsDtype, safetensorsDtypeBytes, type SafetensorsDtype } from './safetensorsDtypes.js'

export interface SafetensorsTensorToWrite {
  name: string
  dtype: SafetensorsDtype
  /** Row-major, outermost dimension first. */
  shape: readonly number[]
}

export interface PlanSafetensorsOptions {
  /**
   * The `__metadata__` map. transformers refuses to load a safetensors checkpoint whose `format` is not one
   * of pt, tf, flax or mlx, so keep `format` when passing your own. An empty map writes no `__metadata__`.
   * Defaults to `{ format: 'pt' }`.
   */
  metadata?: Record<string, string>
  /**
   * Order of the tensors in the file. `'alignment'` is what the reference writer does (huggingface/safetensors
   * `prepare`): widest element first, then by name in code-point order. With the header padded to a multiple
   * of 8, every tensor then starts at a multiple of its element size, which zero-copy readers rely on.
   * `'given'` keeps the caller's order; tensors may then be misaligned (the format allows no padding between
   * tensors). Readers do not care about the order: they sort by offset. Defaults to `'alignment'`.
   */
  order?: 'alignment' | 'given'
}

export interface SafetensorsLayout {
  /** Everything before the data: the u64 length, the JSON and its space padding. */
  header: Uint8Array
  /** In file order; `tensorData` is called in this order. */
  tensors: SafetensorsTensorInfo[]
  dataStart: number
  totalBytes: number
}

export interface WriteSafetensorsOptions extends PlanSafetensorsOptions {
  /**
   * The bytes of one tensor (little-endian, row-major), as one array or as chunks that add up to exactly its
   * size. Called once per tensor, in file order (`layout.tensors`), only after the previous tensor is written,
   * so a model larger than memory can be streamed.
   */
  tensorData(tensor: SafetensorsTensorInfo, index: number): Promise<Uint8Array> | AsyncIterable<Uint8Array>
  signal?: AbortSignal
  /** Called after each tensor with the bytes written so far and the file's total size. */
  onProgress?: (writtenBytes: number, totalBytes: number) => void
}

/** Where every tensor of a safetensors file will go, and its header, before any data is produced. */
export function planSafetensors(tensors: readonly SafetensorsTensorToWrite[], options: PlanSafetensorsOptions = {}): SafetensorsLayout {
  const { metadata = { format: 'pt' }, order = 'alignment' } = options
  const names = new Set<string>()
  for (const tensor of tensors) {
    if (tensor.name === SAFETENSORS_METADATA_KEY) invalid(`"${SAFETENSORS_METADATA_KEY}" is reserved and cannot name a tensor`)
    if (names.has(tensor.name)) invalid(`tensor "${tensor.name}" is listed twice`)
    names.add(tensor.name)
    if (!isSafetensorsDtype(tensor.dtype)) invalid(`tensor "${tensor.name}" has unknown dtype ${String(tensor.dtype)} (known: ${SAFETENSORS_DTYPE_NAMES.join(', ')})`)
    if (!tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      invalid(`tensor "${tensor.name}" shape [${tensor.shape.join(', ')}] must hold non-negative integers`)
    }
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') invalid(`__metadata__ value "${key}" must be a string`)
  }

  const ordered = order === 'given' ? [...tensors] : [...tensors].sort(byAlignmentThenName)
  let offset = 0
  const headerEntries: string[] = []
  if (Object.keys(metadata).length > 0) headerEntries.push(`${JSON.stringify(SAFETENSORS_METADATA_KEY)}:${JSON.stringify(metadata)}`)
  const planned = ordered.map((tensor): Omit<SafetensorsTensorInfo, 'absoluteOffset'> => {
    const elementCount = tensor.shape.reduce((a, b) => a * b, 1)
    const byteLength = elementCount * safetensorsDtypeBytes(tensor.dtype)
    if (!Number.isSafeInteger(offset + byteLength)) invalid(`tensor "${tensor.name}" takes the file past ${Number.MAX_SAFE_INTEGER} bytes`)
    const dataOffsets: [number, number] = [offset, offset + byteLength]
    offset += byteLength
    // Built by hand, not from one object: JS objects put integer-like keys ("0") first, and the header
    // lists the tensors in file order, as the reference does.
    headerEntries.push(`${JSON.stringify(tensor.name)}:${JSON.stringify({ dtype: tensor.dtype, shape: tensor.shape, data_offsets: dataOffsets })}`)
    return { name: tensor.name, dtype: tensor.dtype, shape: [...tensor.shape], dataOffsets, byteLength, elementCount }
  })

  const json = new TextEncoder().encode(`{${headerEntries.join(',')}}`)
  // The reference pads the JSON with spaces to a multiple of 8 so the data starts 8-aligned.
  const paddedLength = Math.ceil(json.length / 8) * 8
  const header = new Uint8Array(8 + paddedLength).fill(0x20, 8 + json.length)
  new DataView(header.buffer).setBigUint64(0, BigInt(paddedLength), true)
  header.set(json, 8)
  const dataStart = header.length
  return {
    header,
    tensors: planned.map((tensor) => ({ ...tensor, absoluteOffset: dataStart + tensor.dataOffsets[0] })),
    dataStart,
    totalBytes: dataStart + offset,
  }
}

/**
 * Streams a safetensors file to `sink`: the header (computed up front from names, dtypes and shapes), then each
 * tensor's data as `tensorData` produces it. A tensor that produces more or fewer bytes than its dtype and shape
 * need is an `internal` error; an oversized chunk is refused before any of it reaches the sink. The sink is the
 * caller's: it is not closed, and on error it holds a partial file the caller should discard.
 */
export async function writeSafetensors(
  sink: ByteSink,
  tensors: readonly SafetensorsTensorToWrite[],
  options: WriteSafetensorsOptions,
): Promise<SafetensorsLayout> {
  const { signal, onProgress, tensorData } = options
  let layout: SafetensorsLayout
  try {
    layout = planSafetensors(tensors, options)
  } catch (error) {
    if (error instanceof LecternError) throw new LecternError(error.code, `${sink.name}: ${error.message}`, { file: sink.name })
    throw error
  }
  signal?.throwIfAborted()
  const start = sink.position
  await sink.write(layout.header)
  for (const [index, tensor] of layout.tensors.entries()) {
    signal?.throwIfAborted()
    const wrongSize = (produced: string): never => {
      throw new LecternError(
        'internal',
        `${sink.name}: tensor "${tensor.name}" produced ${produced} bytes, expected ${tensor.byteLength} (${tensor.dtype} [${tensor.shape.join(', ')}])`,
        { file: sink.name },
      )
    }
    const produced = tensorData(tensor, index)
    let written = 0
    for await (const chunk of isAsyncIterable(produced) ? produced : [await produced]) {
      signal?.throwIfAborted()
      if (written + chunk.length > tensor.byteLength) wrongSize(`at least ${written + chunk.length}`)
      await sink.write(chunk)
      written += chunk.length
    }
    if (written !== tensor.byteLength) wrongSize(String(written))
    onProgress?.(sink.position - start, layout.totalBytes)
  }
  return layout
}

/** Code-point order, which is also the UTF-8 byte order the reference (Rust `String` ordering) uses. */
export function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]()
  const right = b[Symbol.iterator]()
  for (;;) {
    const l = left.next()
    const r = right.next()
    if (l.done || r.done) return (l.done ? 0 : 1) - (r.done ? 0 : 1)
    const difference = l.value.codePointAt(0)! - r.value.codePointAt(0)!
    if (difference !== 0) return difference
  }
}

function byAlignmentThenName(a: SafetensorsTensorToWrite, b: SafetensorsTensorToWrite): number {
  return safetensorsDtypeBytes(b.dtype) - safetensorsDtypeBytes(a.dtype) || compareCodePoints(a.name, b.name)
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value
}

function invalid(message: string): never {
  throw new LecternError('invalid_argument', `cannot write safetensors: ${message}`)
}
