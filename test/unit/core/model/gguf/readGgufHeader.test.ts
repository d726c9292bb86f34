import { describe, expect, it } from 'vitest'
import { readGgufHeader } from '../../../../../src-main/core/model/gguf/readGgufHeader.js'
import { writeGguf } from '../../../../../src-main/core/model/gguf/writeGguf.js'
import { MemoryByteSink, MemoryByteSource } from '../../../../../src-main/core/model/io/bytes.js'

async function validFile(): Promise<Uint8Array> {
  const sink = new MemoryByteSink()
  const metadata = new Map([['general.architecture', { type: 'string', value: 'llama' } as const]])
  await writeGguf(sink, metadata, [
    { name: 'a', shape: [4], type: 'F32' },
    { name: 'b', shape: [4], type: 'F32' },
  ], { tensorData: async () => new Uint8Array(16) })
  return sink.bytes()
}

async function expectBad(bytes: Uint8Array, message: RegExp): Promise<void> {
  const error = await readGgufHeader(new MemoryByteSource(bytes, '/models/bad.gguf')).catch((e: unknown) => e)
  expect(error).toMatchObject({ code: 'invalid_model_file', file: '/models/bad.gguf' })
  expect((error as Error).message).toMatch(/^\/models\/bad\.gguf: /)
  expect((error as Error).message).toMatch(message)
  expect((error as Error).message).not.toContain('\n')
}

/** Offset of the first tensor-info record's type field (after name "a"). */
function tensorInfoAt(bytes: Uint8Array): number {
  const text = new TextDecoder('latin1').decode(bytes)
  return text.indexOf('\x01\x00\x00\x00\x00\x00\x00\x00a') + 9
}

describe('readGgufHeader on bad files', () => {
  it('rejects a wrong magic, showing what it found', async () => {
    await expectBad(new TextEncoder().encode('PK\x03\x04 this is a zip file, not a model'), /not a GGUF file \(starts with 50 4b 03 04/)
  })

  it('rejects an empty file and truncated headers', async () => {
    await expectBad(new Uint8Array(0), /truncated/)
    const bytes = await validFile()
    for (const cut of [6, 20, 40, 70]) await expectBad(bytes.subarray(0, cut), /truncated or damaged/)
  })

  it('rejects a file whose tensor data is cut off', async () => {
    const bytes = await validFile()
    await expectBad(bytes.subarray(0, bytes.length - 4), /tensor b data \(16 bytes at \d+\) runs past the end of the file/)
  })

  it('reads version 2 files, whose layout is that of version 3', async () => {
    const v2 = (await validFile()).slice()
    new DataView(v2.buffer).setUint32(4, 2, true)
    const header = await readGgufHeader(new MemoryByteSource(v2))
    expect(header.version).toBe(2)
    expect(header.tensors.map((t) => t.name)).toEqual(['a', 'b'])
  })

  it('rejects version 1, unknown versions and big-endian files', async () => {
    const bytes = await validFile()
    const v1 = bytes.slice()
    new DataView(v1.buffer).setUint32(4, 1, true)
    await expectBad(v1, /version 1 is too old/)
    const v9 = bytes.slice()
    new DataView(v9.buffer).setUint32(4, 9, true)
    await expectBad(v9, /unsupported GGUF version 9/)
    const big = bytes.slice()
    new DataView(big.buffer).setUint32(4, 3, false)
    await expectBad(big, /big-endian/)
  })

  it('rejects an unknown tensor type and an implausible count', async () => {
    const bytes = await validFile()
    const unknownType = bytes.slice()
    const at = tensorInfoAt(unknownType) + 4 + 8
    new DataView(unknownType.buffer).setUint32(at, 99, true)
    await expectBad(unknownType, /tensor a has unknown type id 99/)
    const hugeCount = bytes.slice()
    new DataView(hugeCount.buffer).setBigUint64(8, 1n << 40n, true)
    await expectBad(hugeCount, /tensor count \d+ is implausible/)
  })

  it('rejects overlapping tensors and misaligned offsets', async () => {
    const bytes = await validFile()
    const view = (b: Uint8Array): DataView => new DataView(b.buffer)
    const secondOffsetAt = new TextDecoder('latin1').decode(bytes).indexOf('\x01\x00\x00\x00\x00\x00\x00\x00b') + 9 + 4 + 8 + 4
    const overlap = bytes.slice()
    view(overlap).setBigUint64(secondOffsetAt, 0n, true)
    await expectBad(overlap, /tensors a and b overlap/)
    const misaligned = bytes.slice()
    view(misaligned).setBigUint64(secondOffsetAt, 8n, true)
    await expectBad(misaligned, /offset 8 is not aligned to 32/)
  })
})
