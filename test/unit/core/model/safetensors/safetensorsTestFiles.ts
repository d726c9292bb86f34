import { expect } from 'vitest'
import { LecternError } from '../../../../../src-main/shared/errors.js'
import { MemoryByteSource, type ByteSource } from '../../../../../src-main/core/model/io/bytes.js'

/**
 * A safetensors file assembled byte by byte, without our writer: the u64 little-endian `headerLength` (the JSON's
 * UTF-8 length unless given), the header bytes, then `data` (bytes, or that many zero bytes).
 */
export function handBuiltFile(header: string | Uint8Array, data: Uint8Array | number = 0, options: { name?: string; headerLength?: bigint } = {}): MemoryByteSource {
  const headerBytes = typeof header === 'string' ? new TextEncoder().encode(header) : header
  const dataBytes = typeof data === 'number' ? new Uint8Array(data) : data
  let length = options.headerLength ?? BigInt(headerBytes.length)
  const bytes = new Uint8Array(8 + headerBytes.length + dataBytes.length)
  for (let i = 0; i < 8; i++) {
    bytes[i] = Number(length & 0xffn)
    length >>= 8n
  }
  bytes.set(headerBytes, 8)
  bytes.set(dataBytes, 8 + headerBytes.length)
  return new MemoryByteSource(bytes, options.name ?? 'bad.safetensors')
}

/** Asserts `promise` rejects with a one-line LecternError of `code` naming `file`, whose message matches. */
export async function expectFileError(promise: Promise<unknown>, file: string, message: string | RegExp, code = 'invalid_model_file'): Promise<LecternError> {
  const error = await promise.then(
    () => expect.fail(`expected an error matching ${String(message)}`),
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(LecternError)
  const lectern = error as LecternError
  expect({ code: lectern.code, file: lectern.file }).toEqual({ code, file })
  expect(lectern.message.startsWith(`${file}: `)).toBe(true)
  expect(lectern.message).not.toContain('\n')
  if (typeof message === 'string') expect(lectern.message).toBe(`${file}: ${message}`)
  else expect(lectern.message).toMatch(message)
  return lectern
}

/** Wraps a source and records every range read from it. */
export class RecordingSource implements ByteSource {
  readonly reads: { offset: number; length: number }[] = []
  closed = 0
  constructor(private readonly inner: ByteSource) {}
  get name(): string {
    return this.inner.name
  }
  get sizeBytes(): number {
    return this.inner.sizeBytes
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    this.reads.push({ offset, length })
    return this.inner.read(offset, length)
  }
  async close(): Promise<void> {
    this.closed++
  }
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function seededBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

/** Little-endian bytes of float32 values. */
export function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length)
  const view = new DataView(out.buffer)
  values.forEach((v, i) => view.setFloat32(4 * i, v, true))
  return out
}
