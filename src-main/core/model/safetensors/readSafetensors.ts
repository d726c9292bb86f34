import { LecternError } from '../../../shared/errors.js'
import type { ByteSource } from '../io/bytes.js'
import { findDuplicateJsonKey } from './findDuplicateJsonKey.js'
import { halfToFloat32 } from './halfToFloat32.js'
import { SAFETENSORS_DTYPE_NAMES, isSafetensorsDtype, safetensorsDtypeBytes, type SafetensorsDtype } from './safetensorsDtypes.js'

/**
 * The reference implementation refuses headers over 100 MB (huggingface/safetensors `MAX_HEADER_SIZE`); the
 * largest real headers are a few MB.
 */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000

export const SAFETENSORS_METADATA_KEY = '__metadata__'

export interface SafetensorsTensorInfo {
  name: string
  dtype: SafetensorsDtype
  /** Row-major, outermost dimension first (PyTorch order, unlike GGUF). */
  shape: number[]
  /** [begin, end) in bytes, relative to the start of the data section, as stored. */
  dataOffsets: [number, number]
  /** Offset of the first byte from the start of the file. */
  absoluteOffset: number
  byteLength: number
  elementCount: number
}

export interface SafetensorsHeader {
  /** The `__metadata__` map; empty when the file has none. */
  metadata: Record<string, string>
  /** In file order (by data offset), whatever order the JSON lists them in. */
  tensors: SafetensorsTensorInfo[]
  /** File offset where the data section starts: 8 + the header length. */
  dataStart: number
}

/**
 * Reads and checks a safetensors header: u64 little-endian length N, N bytes of UTF-8 JSON, then the data
 * section. Reads only the first 8 + N bytes. Everything the format requires is checked (see
 * huggingface/safetensors README, "Format"): known dtypes, shapes of non-negative integers, offsets whose span
 * matches shape × dtype size, no duplicate keys, and tensors that tile the data section exactly, with no
 * overlap, hole or trailing bytes. Each problem is a LecternError `invalid_model_file` naming the file.
 */
export async function readSafetensors(source: ByteSource): Promise<SafetensorsHeader> {
  const fail = (message: string): never => {
    throw new LecternError('invalid_model_file', `${source.name}: ${message}`, { file: source.name })
  }
  const fileBytes = source.sizeBytes
  if (fileBytes < 8) fail(`file is ${fileBytes} bytes, too short for a safetensors header (at least 8)`)

  const prefix = await source.read(0, 8)
  const headerLength = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true)
  if (headerLength === 0n) fail('header length is 0 (a safetensors header is at least "{}")')
  if (headerLength > BigInt(fileBytes - 8)) fail(`header length ${headerLength} exceeds the file size (${fileBytes} bytes)`)
  if (headerLength > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    fail(`header length ${headerLength} is over the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit: the file is damaged or not safetensors`)
  }
  const dataStart = 8 + Number(headerLength)
  const dataBytes = fileBytes - dataStart

  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await source.read(8, dataStart - 8))
  } catch (error) {
    if (!(error instanceof TypeError)) throw error
    return fail('header is not valid UTF-8')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return fail(`header is not valid JSON (${oneLine(error)})`)
  }
  if (!isPlainObject(parsed)) return fail(`header is ${describeJson(parsed)}, not a JSON object`)
  const duplicate = findDuplicateJsonKey(text)
  if (duplicate !== undefined) fail(`header has the key "${duplicate}" twice`)

  const metadataEntries: [string, string][] = []
  const tensors: SafetensorsTensorInfo[] = []
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === SAFETENSORS_METADATA_KEY) {
      if (!isPlainObject(entry)) fail(`__metadata__ is ${describeJson(entry)}, not an object of strings`)
      for (const [key, value] of Object.entries(entry as object)) {
        if (typeof value !== 'string') fail(`__metadata__ value "${key}" is ${describeJson(value)}, not a string`)
        metadataEntries.push([key, value as string])
      }
      continue
    }
    tensors.push(tensorInfo(name, entry, dataStart, fail))
  }

  for (const tensor of tensors) {
    const [begin, end] = tensor.dataOffsets
    if (end > dataBytes) {
      fail(`tensor "${tensor.name}" data [${begin}, ${end}) runs past the end of the file (the data section is ${dataBytes} bytes)`)
    }
  }
  // The format requires the tensors to cover the data section exactly (huggingface/safetensors
  // `Metadata::validate`): sorted by offset, each must start where the previous one ended.
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1])
  let covered = 0
  let previous: SafetensorsTensorInfo | undefined
  for (const tensor of tensors) {
    const [begin, end] = tensor.dataOffsets
    if (begin < covered && previous) {
      fail(`tensors "${previous.name}" [${previous.dataOffsets.join(', ')}) and "${tensor.name}" [${begin}, ${end}) overlap`)
    }
    if (begin > covered) fail(`no tensor covers data bytes [${covered}, ${begin}): the data section must be contiguous`)
    covered = end
    previous = tensor
  }
  if (covered !== dataBytes) {
    fail(`${dataBytes - covered} bytes after the last tensor: the tensors cover ${covered} of the ${dataBytes}-byte data section`)
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays data.
  return { metadata: Object.fromEntries(metadataEntries), tensors, dataStart }
}

/** The tensor's bytes, exactly as stored (little-endian, row-major). */
export async function readTensorBytes(source: ByteSource, info: SafetensorsTensorInfo): Promise<Uint8Array> {
  return source.read(info.absoluteOffset, info.byteLength)
}

/** dtypes `readTensorAsFloat32` converts; F64 is rounded to the nearest float32. */
export const FLOAT32_READABLE_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64']

/**
 * The tensor as float32 values. F32 is returned bit-exactly, F16 and BF16 are widened exactly, F64 is rounded.
 * Other dtypes are an `unsupported_model` error: integer and F8 tensors are not weights we compute with.
 */
export async function readTensorAsFloat32(source: ByteSource, info: SafetensorsTensorInfo): Promise<Float32Array> {
  if (!FLOAT32_READABLE_DTYPES.includes(info.dtype)) {
    throw new LecternError(
      'unsupported_model',
      `${source.name}: tensor "${info.name}" is ${info.dtype}, which cannot be read as float32 (only ${FLOAT32_READABLE_DTYPES.join(', ')})`,
      { file: source.name },
    )
  }
  const bytes = await readTensorBytes(source, info)
  switch (info.dtype) {
    case 'F16':
    case 'BF16':
      return halfToFloat32(bytes, info.dtype)
    case 'F64': {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      const out = new Float32Array(info.elementCount)
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true)
      return out
    }
    default: {
      // Copy into a fresh, aligned buffer; read through DataView only on a big-endian host.
      if (LITTLE_ENDIAN_HOST) return new Float32Array(bytes.slice().buffer)
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      const out = new Float32Array(info.elementCount)
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true)
      return out
    }
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function tensorInfo(name: string, entry: unknown, dataStart: number, fail: (message: string) => never): SafetensorsTensorInfo {
  if (!isPlainObject(entry)) fail(`tensor "${name}" is ${describeJson(entry)}, not an object with dtype, shape and data_offsets`)
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>
  if (dtype === undefined) fail(`tensor "${name}" has no dtype`)
  if (!isSafetensorsDtype(dtype)) {
    const found = typeof dtype === 'string' ? `"${dtype}"` : describeJson(dtype)
    return fail(`tensor "${name}" has unknown dtype ${found} (known: ${SAFETENSORS_DTYPE_NAMES.join(', ')})`)
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    return fail(`tensor "${name}" shape must be an array of non-negative integers, found ${shortJson(shape)}`)
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    return fail(`tensor "${name}" data_offsets must be two non-negative integers [begin, end], found ${shortJson(offsets)}`)
  }
  const [begin, end] = offsets as [number, number]
  if (end < begin) fail(`tensor "${name}" data_offsets end ${end} is before begin ${begin}`)
  const elementCount = (shape as number[]).reduce((a, b) => a * b, 1)
  const byteLength = elementCount * safetensorsDtypeBytes(dtype)
  if (!Number.isSafeInteger(byteLength)) fail(`tensor "${name}" shape [${shape.join(', ')}] is impossibly large`)
  if (end - begin !== byteLength) {
    fail(`tensor "${name}" data_offsets [${begin}, ${end}) span ${end - begin} bytes, but ${dtype} [${shape.join(', ')}] needs ${byteLength}`)
  }
  return { name, dtype, shape: [...(shape as number[])], dataOffsets: [begin, end], absoluteOffset: dataStart + begin, byteLength, elementCount }
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** "an array", "null", "the number 3": what a JSON value is, for messages. */
function describeJson(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'missing'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return `the ${typeof value} ${shortJson(value)}`
}

function shortJson(value: unknown): string {
  if (value === undefined) return 'nothing'
  const text = JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ')
}
