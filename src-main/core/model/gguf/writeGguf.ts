import { LecternError } from '../../../shared/errors.js'
import type { ByteSink } from '../io/bytes.js'
import { ggmlType, tensorBytes, type GgmlTypeName } from '../tensorTypes.js'
import { GGML_MAX_DIMS, GGUF_DEFAULT_ALIGNMENT, GGUF_VALUE_TYPES, type GgufArray, type GgufMetadata, type GgufValue, type GgufValueTypeName } from './ggufTypes.js'
import { alignUp } from './readGgufHeader.js'

export interface GgufTensorToWrite {
  name: string
  /** ne0 (the contiguous dimension) first. */
  shape: number[]
  type: GgmlTypeName
}

export interface WriteGgufOptions {
  /**
   * The bytes of one tensor, in the tensor's type, as one array or as chunks; they must add up to exactly the
   * tensor's size. Called once per tensor, in order, so a large model never sits in memory whole.
   */
  tensorData(tensor: GgufTensorToWrite, index: number): Promise<Uint8Array> | AsyncIterable<Uint8Array>
  signal?: AbortSignal
  /** Called after each tensor with bytes written so far and the file's total size. */
  onProgress?: (writtenBytes: number, totalBytes: number) => void
}

export interface GgufLayoutEntry extends GgufTensorToWrite {
  offset: number
  byteLength: number
}

export interface GgufLayout {
  tensors: GgufLayoutEntry[]
  dataOffset: number
  totalBytes: number
  alignment: number
}

/** Sizes and offsets of a GGUF file before any of it is written. */
export function planGgufLayout(metadata: GgufMetadata, tensors: GgufTensorToWrite[]): { header: Uint8Array; layout: GgufLayout } {
  const alignmentValue = metadata.get('general.alignment')
  const alignment = alignmentValue?.type === 'u32' ? alignmentValue.value : GGUF_DEFAULT_ALIGNMENT
  let offset = 0
  const entries: GgufLayoutEntry[] = tensors.map((tensor) => {
    if (tensor.shape.length < 1 || tensor.shape.length > GGML_MAX_DIMS || tensor.shape.some((d) => !Number.isSafeInteger(d) || d <= 0)) {
      throw new Error(`tensor ${tensor.name}: invalid shape [${tensor.shape.join(', ')}]`)
    }
    const type = ggmlType(tensor.type)
    const byteLength = tensorBytes(type, tensor.shape.reduce((a, b) => a * b, 1), tensor.shape[0]!)
    if (byteLength === null) throw new Error(`tensor ${tensor.name}: rows of ${tensor.shape[0]} do not fit ${tensor.type} blocks of ${type.blockSize}`)
    const entry = { ...tensor, offset, byteLength }
    offset = alignUp(offset + byteLength, alignment)
    return entry
  })

  const out = new GrowableBytes()
  out.bytes(new TextEncoder().encode('GGUF'))
  out.u32(3)
  out.u64(BigInt(entries.length))
  out.u64(BigInt(metadata.size))
  for (const [key, value] of metadata) {
    out.string(key)
    out.u32(GGUF_VALUE_TYPES.indexOf(value.type))
    writeValue(out, value)
  }
  for (const entry of entries) {
    out.string(entry.name)
    out.u32(entry.shape.length)
    for (const d of entry.shape) out.u64(BigInt(d))
    out.u32(ggmlType(entry.type).id)
    out.u64(BigInt(entry.offset))
  }
  const dataOffset = alignUp(out.length, alignment)
  out.bytes(new Uint8Array(dataOffset - out.length))
  const last = entries.at(-1)
  const totalBytes = dataOffset + (last ? last.offset + last.byteLength : 0)
  return { header: out.finish(), layout: { tensors: entries, dataOffset, totalBytes, alignment } }
}

/**
 * Streams a GGUF v3 file to `sink`: header, metadata in the given order, tensor infos, then each tensor's data
 * at its aligned offset. Checks that every tensor produces exactly its declared size.
 */
export async function writeGguf(sink: ByteSink, metadata: GgufMetadata, tensors: GgufTensorToWrite[], options: WriteGgufOptions): Promise<GgufLayout> {
  const { header, layout } = planGgufLayout(metadata, tensors)
  const start = sink.position
  await sink.write(header)
  for (const [index, entry] of layout.tensors.entries()) {
    options.signal?.throwIfAborted()
    const padding = layout.dataOffset + entry.offset - (sink.position - start)
    if (padding > 0) await sink.write(new Uint8Array(padding))
    let written = 0
    const produced = options.tensorData(entry, index)
    const chunks = produced instanceof Promise ? [await produced] : produced
    for await (const chunk of chunks) {
      written += chunk.length
      if (written > entry.byteLength) break
      await sink.write(chunk)
    }
    if (written !== entry.byteLength) {
      throw new LecternError('internal', `${sink.name}: tensor ${entry.name} produced ${written} bytes, expected ${entry.byteLength} (${entry.type} [${entry.shape.join(', ')}])`, {
        file: sink.name,
      })
    }
    options.onProgress?.(sink.position - start, layout.totalBytes)
  }
  return layout
}

function writeValue(out: GrowableBytes, value: GgufValue): void {
  switch (value.type) {
    case 'array':
      writeArray(out, value)
      return
    case 'string':
      out.string(value.value)
      return
    case 'bool':
      out.u8(value.value ? 1 : 0)
      return
    case 'u64':
    case 'i64':
      out.bigint(value.type, value.value)
      return
    default:
      out.number(value.type, value.value)
  }
}

function writeArray(out: GrowableBytes, array: GgufArray): void {
  out.u32(GGUF_VALUE_TYPES.indexOf(array.elementType))
  out.u64(BigInt(array.value.length))
  switch (array.elementType) {
    case 'string':
      for (const s of array.value) out.string(s)
      return
    case 'array':
      for (const inner of array.value) writeArray(out, inner)
      return
    case 'bool':
      for (const b of array.value) out.u8(b ? 1 : 0)
      return
    case 'u64':
    case 'i64':
      for (const n of array.value) out.bigint(array.elementType, n)
      return
    default:
      for (const n of array.value) out.number(array.elementType, n)
  }
}

/** A little-endian byte builder that doubles its buffer as it grows. */
class GrowableBytes {
  private buffer = new Uint8Array(1 << 16)
  private view = new DataView(this.buffer.buffer)
  private readonly encoder = new TextEncoder()
  length = 0

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }

  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length)
    this.buffer.set(bytes, this.length)
    this.length += bytes.length
  }

  u8(value: number): void {
    this.reserve(1)
    this.view.setUint8(this.length, value)
    this.length += 1
  }

  u32(value: number): void {
    this.reserve(4)
    this.view.setUint32(this.length, value, true)
    this.length += 4
  }

  u64(value: bigint): void {
    this.bigint('u64', value)
  }

  bigint(type: 'u64' | 'i64', value: bigint): void {
    this.reserve(8)
    if (type === 'u64') this.view.setBigUint64(this.length, value, true)
    else this.view.setBigInt64(this.length, value, true)
    this.length += 8
  }

  number(type: Exclude<GgufValueTypeName, 'array' | 'string' | 'bool' | 'u64' | 'i64'>, value: number): void {
    const size = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, f64: 8 }[type]
    this.reserve(size)
    const at = this.length
    const v = this.view
    if (type === 'u8') v.setUint8(at, value)
    else if (type === 'i8') v.setInt8(at, value)
    else if (type === 'u16') v.setUint16(at, value, true)
    else if (type === 'i16') v.setInt16(at, value, true)
    else if (type === 'u32') v.setUint32(at, value, true)
    else if (type === 'i32') v.setInt32(at, value, true)
    else if (type === 'f32') v.setFloat32(at, value, true)
    else v.setFloat64(at, value, true)
    this.length += size
  }

  string(value: string): void {
    const encoded = this.encoder.encode(value)
    this.u64(BigInt(encoded.length))
    this.bytes(encoded)
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return
    let size = this.buffer.length * 2
    while (size < this.length + extra) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buffer.subarray(0, this.length))
    this.buffer = next
    this.view = new DataView(next.buffer)
  }
}
