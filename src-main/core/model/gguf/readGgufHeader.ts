import { LecternError } from '../../../shared/errors.js'
import type { ByteSource } from '../io/bytes.js'
import { ggmlTypeById, tensorBytes } from '../tensorTypes.js'
import {
  GGML_MAX_DIMS,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_VALUE_TYPES,
  type GgufArray,
  type GgufHeader,
  type GgufMetadata,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueTypeName,
} from './ggufTypes.js'

const MAX_COUNT = 10_000_000
const CHUNK_BYTES = 1 << 20

/**
 * Reads the part of a GGUF (v2 or v3) file before the tensor data: metadata and tensor infos. Reads the
 * file in 1 MiB pieces and never touches tensor data. Every inconsistency (bad magic, truncation, an
 * unknown tensor type, data out of bounds, overlapping tensors) becomes a LecternError naming the file.
 */
export async function readGgufHeader(source: ByteSource): Promise<GgufHeader> {
  const cursor: HeaderCursor = new HeaderCursor(source)
  const magic = await cursor.bytes(4)
  if (String.fromCharCode(...magic) !== 'GGUF') {
    cursor.fail(`not a GGUF file (starts with ${[...magic].map((b) => b.toString(16).padStart(2, '0')).join(' ')}, expected "GGUF")`)
  }
  const version = await cursor.u32()
  if (version === 1) cursor.fail('GGUF version 1 is too old to read; convert the model again with a current llama.cpp')
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24)
    if (swapped === 2 || swapped === 3) cursor.fail('big-endian GGUF files are not supported')
    cursor.fail(`unsupported GGUF version ${version} (this Lectern reads versions 2 and 3)`)
  }
  const tensorCount = await cursor.count('tensor count')
  const kvCount = await cursor.count('metadata key count')

  const metadata: GgufMetadata = new Map()
  for (let i = 0; i < kvCount; i++) {
    const key = await cursor.string(`metadata key ${i}`)
    if (metadata.has(key)) cursor.fail(`metadata key ${key} appears twice`)
    const type = await cursor.valueType(`metadata ${key}`)
    metadata.set(key, await cursor.value(type, key))
  }

  const alignmentValue = metadata.get('general.alignment')
  let alignment = GGUF_DEFAULT_ALIGNMENT
  if (alignmentValue !== undefined) {
    if (alignmentValue.type !== 'u32' || alignmentValue.value === 0 || (alignmentValue.value & (alignmentValue.value - 1)) !== 0) {
      cursor.fail('general.alignment must be a power of two stored as u32')
    }
    alignment = alignmentValue.value
  }

  const raw: { name: string; shape: number[]; typeId: number; offset: number }[] = []
  const names = new Set<string>()
  for (let i = 0; i < tensorCount; i++) {
    const name = await cursor.string(`tensor ${i} name`)
    if (names.has(name)) cursor.fail(`tensor ${name} appears twice`)
    names.add(name)
    const dims = await cursor.u32()
    if (dims < 1 || dims > GGML_MAX_DIMS) cursor.fail(`tensor ${name} has ${dims} dimensions (1 to ${GGML_MAX_DIMS} allowed)`)
    const shape: number[] = []
    for (let d = 0; d < dims; d++) shape.push(await cursor.safeU64(`tensor ${name} dimension ${d}`))
    const typeId = await cursor.u32()
    const offset = await cursor.safeU64(`tensor ${name} offset`)
    raw.push({ name, shape, typeId, offset })
  }

  const dataOffset = alignUp(cursor.position, alignment)
  const tensors: GgufTensorInfo[] = raw.map(({ name, shape, typeId, offset }) => {
    const type = ggmlTypeById(typeId)
    if (!type) cursor.fail(`tensor ${name} has unknown type id ${typeId}`)
    if (shape.some((d) => d <= 0)) cursor.fail(`tensor ${name} has an empty dimension [${shape.join(', ')}]`)
    const elementCount = shape.reduce((a, b) => a * b, 1)
    const byteLength = tensorBytes(type, elementCount, shape[0] ?? 0)
    if (byteLength === null) cursor.fail(`tensor ${name}: rows of ${shape[0]} elements do not fit ${type.name} blocks of ${type.blockSize}`)
    if (offset % alignment !== 0) cursor.fail(`tensor ${name} data offset ${offset} is not aligned to ${alignment}`)
    const absoluteOffset = dataOffset + offset
    if (absoluteOffset + byteLength > source.sizeBytes) {
      cursor.fail(
        `tensor ${name} data (${byteLength} bytes at ${absoluteOffset}) runs past the end of the file (${source.sizeBytes} bytes): the file is truncated or damaged`,
      )
    }
    return { name, shape, type, offset, absoluteOffset, byteLength, elementCount }
  })
  const byOffset = [...tensors].sort((a, b) => a.offset - b.offset)
  for (let i = 1; i < byOffset.length; i++) {
    const previous = byOffset[i - 1]!
    const current = byOffset[i]!
    if (previous.offset + previous.byteLength > current.offset) cursor.fail(`tensors ${previous.name} and ${current.name} overlap`)
  }
  return { version, metadata, tensors, alignment, dataOffset }
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment
}

/** Sequential little-endian reads over a ByteSource, fetched in chunks. */
class HeaderCursor {
  private readonly source: ByteSource
  private buffer: Uint8Array = new Uint8Array(0)
  private bufferStart = 0
  private view = new DataView(this.buffer.buffer)
  position = 0
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })

  constructor(source: ByteSource) {
    this.source = source
  }

  fail(message: string): never {
    throw new LecternError('invalid_model_file', `${this.source.name}: ${message}`, { file: this.source.name })
  }

  async bytes(length: number): Promise<Uint8Array> {
    await this.ensure(length)
    const start = this.position - this.bufferStart
    this.position += length
    return this.buffer.subarray(start, start + length)
  }

  async u32(): Promise<number> {
    await this.ensure(4)
    const value = this.view.getUint32(this.position - this.bufferStart, true)
    this.position += 4
    return value
  }

  async safeU64(what: string): Promise<number> {
    await this.ensure(8)
    const value = this.view.getBigUint64(this.position - this.bufferStart, true)
    this.position += 8
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is impossibly large (${value})`)
    return Number(value)
  }

  async count(what: string): Promise<number> {
    const value = await this.safeU64(what)
    if (value > MAX_COUNT) this.fail(`${what} ${value} is implausible: the header is damaged`)
    return value
  }

  async string(what: string): Promise<string> {
    const length = await this.safeU64(`${what} length`)
    if (this.position + length > this.source.sizeBytes) this.fail(`${what} (${length} bytes) runs past the end of the file: the file is truncated or damaged`)
    const bytes = await this.bytes(length)
    try {
      return this.decoder.decode(bytes)
    } catch {
      return this.fail(`${what} is not valid UTF-8`)
    }
  }

  async valueType(what: string): Promise<GgufValueTypeName> {
    const id = await this.u32()
    const type = GGUF_VALUE_TYPES[id]
    if (type === undefined) this.fail(`${what} has unknown value type ${id}`)
    return type
  }

  async value(type: GgufValueTypeName, key: string): Promise<GgufValue> {
    if (type === 'array') return this.array(key)
    if (type === 'string') return { type, value: await this.string(`metadata ${key}`) }
    if (type === 'bool') {
      const byte = (await this.bytes(1))[0]!
      if (byte > 1) this.fail(`metadata ${key} is a bool with value ${byte}`)
      return { type, value: byte === 1 }
    }
    if (type === 'u64' || type === 'i64') return { type, value: await this.bigint(type) }
    return { type, value: await this.number(type) }
  }

  private async array(key: string): Promise<GgufArray> {
    const elementType = await this.valueType(`metadata ${key} elements`)
    const length = await this.count(`metadata ${key} array length`)
    switch (elementType) {
      case 'string': {
        const value: string[] = new Array(length)
        for (let i = 0; i < length; i++) value[i] = await this.string(`metadata ${key}[${i}]`)
        return { type: 'array', elementType, value }
      }
      case 'array': {
        const value: GgufArray[] = []
        for (let i = 0; i < length; i++) value.push(await this.array(`${key}[${i}]`))
        return { type: 'array', elementType, value }
      }
      case 'bool': {
        const bytes = await this.bytes(length)
        return { type: 'array', elementType, value: Array.from(bytes, (b) => b === 1) }
      }
      case 'u64':
      case 'i64': {
        const value: bigint[] = new Array(length)
        for (let i = 0; i < length; i++) value[i] = await this.bigint(elementType)
        return { type: 'array', elementType, value }
      }
      default: {
        const size = NUMBER_SIZES[elementType]
        if (this.position + size * length > this.source.sizeBytes) this.fail(`metadata ${key} array runs past the end of the file`)
        await this.ensure(size * length)
        const value: number[] = new Array(length)
        for (let i = 0; i < length; i++) value[i] = this.readNumberAt(elementType, this.position - this.bufferStart + i * size)
        this.position += size * length
        return { type: 'array', elementType, value }
      }
    }
  }

  private async number(type: keyof typeof NUMBER_SIZES): Promise<number> {
    const size = NUMBER_SIZES[type]
    await this.ensure(size)
    const value = this.readNumberAt(type, this.position - this.bufferStart)
    this.position += size
    return value
  }

  private readNumberAt(type: keyof typeof NUMBER_SIZES, at: number): number {
    const view = this.view
    switch (type) {
      case 'u8':
        return view.getUint8(at)
      case 'i8':
        return view.getInt8(at)
      case 'u16':
        return view.getUint16(at, true)
      case 'i16':
        return view.getInt16(at, true)
      case 'u32':
        return view.getUint32(at, true)
      case 'i32':
        return view.getInt32(at, true)
      case 'f32':
        return view.getFloat32(at, true)
      case 'f64':
        return view.getFloat64(at, true)
    }
  }

  private async bigint(type: 'u64' | 'i64'): Promise<bigint> {
    await this.ensure(8)
    const at = this.position - this.bufferStart
    this.position += 8
    return type === 'u64' ? this.view.getBigUint64(at, true) : this.view.getBigInt64(at, true)
  }

  /** Makes `length` bytes from the current position available in the buffer. */
  private async ensure(length: number): Promise<void> {
    const bufferEnd = this.bufferStart + this.buffer.length
    if (this.position + length <= bufferEnd) return
    if (this.position + length > this.source.sizeBytes) {
      this.fail(`the header runs past the end of the file (${this.source.sizeBytes} bytes): the file is truncated or damaged`)
    }
    const fetchLength = Math.min(Math.max(length, CHUNK_BYTES), this.source.sizeBytes - this.position)
    this.buffer = await this.source.read(this.position, fetchLength)
    this.bufferStart = this.position
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength)
  }
}

const NUMBER_SIZES = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, f64: 8 } as const
