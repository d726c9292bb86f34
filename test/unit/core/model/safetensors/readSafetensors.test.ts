import { describe, expect, it } from 'vitest'
import { MemoryByteSource, type ByteSource } from '../../../../../src-main/core/model/io/bytes.js'
import {
  SAFETENSORS_MAX_HEADER_BYTES,
  readSafetensors,
  readTensorAsFloat32,
  readTensorBytes,
  type SafetensorsTensorInfo,
} from '../../../../../src-main/core/model/safetensors/readSafetensors.js'
import { RecordingSource, expectFileError, handBuiltFile } from './safetensorsTestFiles.js'

const F32_ONE = [0x00, 0x00, 0x80, 0x3f]
const F16_ONE = [0x00, 0x3c]
const F16_MINUS_TWO = [0x00, 0xc0]

describe('readSafetensors on hand-built files', () => {
  it('reads a header built byte by byte: length, padded JSON, metadata, out-of-order entries', async () => {
    const json = '{"b":{"dtype":"F16","shape":[2],"data_offsets":[4,8]},"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    expect(json.length).toBe(138)
    const bytes = new Uint8Array([
      0x90, 0, 0, 0, 0, 0, 0, 0, // 144 = 138 bytes of JSON + 6 spaces
      ...new TextEncoder().encode(json),
      0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
      ...F32_ONE, // a
      ...F16_ONE, ...F16_MINUS_TWO, // b
    ])
    const source = new MemoryByteSource(bytes, 'hand.safetensors')
    const header = await readSafetensors(source)
    expect(header.dataStart).toBe(152)
    expect(header.metadata).toEqual({ format: 'pt' })
    expect(header.tensors).toEqual<SafetensorsTensorInfo[]>([
      { name: 'a', dtype: 'F32', shape: [1], dataOffsets: [0, 4], absoluteOffset: 152, byteLength: 4, elementCount: 1 },
      { name: 'b', dtype: 'F16', shape: [2], dataOffsets: [4, 8], absoluteOffset: 156, byteLength: 4, elementCount: 2 },
    ])
    const [a, b] = header.tensors as [SafetensorsTensorInfo, SafetensorsTensorInfo]
    expect([...(await readTensorBytes(source, b))]).toEqual([...F16_ONE, ...F16_MINUS_TWO])
    expect([...(await readTensorAsFloat32(source, a))]).toEqual([1])
    expect([...(await readTensorAsFloat32(source, b))]).toEqual([1, -2])
  })

  it('reads the example from the format README: a 60-byte unpadded header and an I32 [2, 2] tensor', async () => {
    const source = handBuiltFile('{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}', 16, { name: 'model.safetensors' })
    expect(new Uint8Array(await source.read(0, 8))).toEqual(new Uint8Array([60, 0, 0, 0, 0, 0, 0, 0]))
    const header = await readSafetensors(source)
    expect(header.dataStart).toBe(68)
    expect(header.metadata).toEqual({})
    expect(header.tensors.map((t) => [t.name, t.dtype, t.shape, t.byteLength])).toEqual([['test', 'I32', [2, 2], 16]])
  })

  it('accepts an empty file ({} and no data), scalars and zero-element tensors', async () => {
    expect((await readSafetensors(handBuiltFile('{}        '))).tensors).toEqual([])
    const header = await readSafetensors(
      handBuiltFile(
        '{"empty":{"dtype":"F32","shape":[0,4],"data_offsets":[4,4]},"scalar":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"last":{"dtype":"BOOL","shape":[0],"data_offsets":[4,4]}}',
        4,
      ),
    )
    expect(header.tensors.map((t) => [t.name, t.elementCount, t.byteLength])).toEqual([
      ['scalar', 1, 4],
      ['empty', 0, 0],
      ['last', 0, 0],
    ])
  })

  it('reads only the 8 + N header bytes, never the tensor data', async () => {
    const source = new RecordingSource(handBuiltFile('{"w":{"dtype":"U8","shape":[1000],"data_offsets":[0,1000]}}', 1000))
    const header = await readSafetensors(source)
    for (const read of source.reads) expect(read.offset + read.length).toBeLessThanOrEqual(header.dataStart)
  })

  it('keeps a metadata key named __proto__ as plain data', async () => {
    const header = await readSafetensors(handBuiltFile('{"__metadata__":{"__proto__":"x","format":"pt"}}'))
    expect(Object.getPrototypeOf(header.metadata)).toBe(Object.prototype)
    expect(Object.entries(header.metadata)).toEqual([
      ['__proto__', 'x'],
      ['format', 'pt'],
    ])
  })
})

describe('readSafetensors rejects bad files with one clear line', () => {
  const bad = (header: string, data: number | Uint8Array = 0) => readSafetensors(handBuiltFile(header, data))
  const F = 'bad.safetensors'

  it('a file shorter than 8 bytes', async () => {
    await expectFileError(readSafetensors(new MemoryByteSource(new Uint8Array(5), F)), F, 'file is 5 bytes, too short for a safetensors header (at least 8)')
  })

  it('header length 0', async () => {
    await expectFileError(bad('', 16), F, 'header length is 0 (a safetensors header is at least "{}")')
  })

  it('a header length larger than the file', async () => {
    const source = handBuiltFile('{}', 1014, { name: 'model.safetensors', headerLength: 9_000_000_000_000_000n })
    expect(source.sizeBytes).toBe(1024)
    await expectFileError(readSafetensors(source), 'model.safetensors', 'header length 9000000000000000 exceeds the file size (1024 bytes)')
  })

  it('a header length that does not fit in a double (2^64 - 1)', async () => {
    await expectFileError(readSafetensors(handBuiltFile('{}', 0, { headerLength: 2n ** 64n - 1n })), F, 'header length 18446744073709551615 exceeds the file size (10 bytes)')
  })

  it('an absurd header length (over 100 MB) in a file big enough to hold it, without reading it', async () => {
    const prefix = handBuiltFile('', 0, { headerLength: 150_000_000n })
    const huge = new RecordingSource({ name: F, sizeBytes: 200_000_000, read: (offset, length) => prefix.read(offset, length) })
    await expectFileError(readSafetensors(huge), F, `header length 150000000 is over the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit: the file is damaged or not safetensors`)
    expect(huge.reads).toEqual([{ offset: 0, length: 8 }])
  })

  it('a header that is not UTF-8', async () => {
    await expectFileError(readSafetensors(handBuiltFile(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))), F, 'header is not valid UTF-8')
  })

  it('a header that is not JSON', async () => {
    await expectFileError(bad('{"w": {"dtype": "F32",'), F, /^bad\.safetensors: header is not valid JSON \(.+\)$/)
  })

  it('NUL padding instead of spaces', async () => {
    await expectFileError(readSafetensors(handBuiltFile(new Uint8Array([0x7b, 0x7d, 0, 0, 0, 0, 0, 0]))), F, /header is not valid JSON/)
  })

  it('a header that is JSON but not an object', async () => {
    await expectFileError(bad('[1, 2]'), F, 'header is an array, not a JSON object')
    await expectFileError(bad('null'), F, 'header is null, not a JSON object')
    await expectFileError(bad('"weights"'), F, 'header is the string "weights", not a JSON object')
  })

  it('a key twice (two readers would see two different tensors)', async () => {
    const header = '{"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    await expectFileError(bad(header, 4), F, 'header has the key "w" twice')
  })

  it('a key twice inside a tensor entry', async () => {
    await expectFileError(bad('{"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4), F, 'header has the key "dtype" twice')
  })

  it('__metadata__ that is not an object', async () => {
    await expectFileError(bad('{"__metadata__":"pt"}'), F, '__metadata__ is the string "pt", not an object of strings')
    await expectFileError(bad('{"__metadata__":["pt"]}'), F, '__metadata__ is an array, not an object of strings')
  })

  it('__metadata__ with a value that is not a string', async () => {
    await expectFileError(bad('{"__metadata__":{"format":"pt","step":3}}'), F, '__metadata__ value "step" is the number 3, not a string')
    await expectFileError(bad('{"__metadata__":{"nested":{"a":"b"}}}'), F, '__metadata__ value "nested" is an object, not a string')
  })

  it('a tensor entry that is not an object', async () => {
    await expectFileError(bad('{"w":[0,4]}'), F, 'tensor "w" is an array, not an object with dtype, shape and data_offsets')
  })

  it('an unknown or missing dtype', async () => {
    await expectFileError(bad('{"w":{"dtype":"Q4_0","shape":[32],"data_offsets":[0,18]}}', 18), F, /^bad\.safetensors: tensor "w" has unknown dtype "Q4_0" \(known: F64, F32, F16, BF16, .*F8_E4M3, F8_E5M2\)$/)
    await expectFileError(bad('{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}', 4), F, /tensor "w" has unknown dtype "f32"/)
    await expectFileError(bad('{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', 4), F, /tensor "w" has unknown dtype the number 4/)
    await expectFileError(bad('{"w":{"shape":[1],"data_offsets":[0,4]}}', 4), F, 'tensor "w" has no dtype')
  })

  it('a shape that is not an array of non-negative integers', async () => {
    const withShape = (shape: string) => bad(`{"w":{"dtype":"U8","shape":${shape},"data_offsets":[0,4]}}`, 4)
    await expectFileError(withShape('[2,-2]'), F, 'tensor "w" shape must be an array of non-negative integers, found [2,-2]')
    await expectFileError(withShape('[1.5]'), F, /found \[1\.5\]$/)
    await expectFileError(withShape('["4"]'), F, /found \["4"\]$/)
    await expectFileError(withShape('4'), F, /found 4$/)
    await expectFileError(bad('{"w":{"dtype":"U8","data_offsets":[0,4]}}', 4), F, /found nothing$/)
  })

  it('a shape whose size overflows', async () => {
    await expectFileError(bad('{"w":{"dtype":"F64","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}}', 8), F, 'tensor "w" shape [1099511627776, 1099511627776] is impossibly large')
  })

  it('offsets that are not two non-negative integers', async () => {
    const withOffsets = (offsets: string) => bad(`{"w":{"dtype":"U8","shape":[4],"data_offsets":${offsets}}}`, 4)
    await expectFileError(withOffsets('[0,4.5]'), F, 'tensor "w" data_offsets must be two non-negative integers [begin, end], found [0,4.5]')
    await expectFileError(withOffsets('[0]'), F, /found \[0\]$/)
    await expectFileError(withOffsets('[-4,0]'), F, /found \[-4,0\]$/)
    await expectFileError(withOffsets('["0","4"]'), F, /found \["0","4"\]$/)
    await expectFileError(withOffsets('[0,4,8]'), F, /found \[0,4,8\]$/)
    await expectFileError(withOffsets('[0,18014398509481984]'), F, /found \[0,18014398509481984\]$/)
  })

  it('an end offset before the begin offset', async () => {
    await expectFileError(bad('{"w":{"dtype":"U8","shape":[4],"data_offsets":[8,4]}}', 8), F, 'tensor "w" data_offsets end 4 is before begin 8')
  })

  it('a byte span that differs from shape × dtype size', async () => {
    await expectFileError(bad('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', 4), F, 'tensor "w" data_offsets [0, 4) span 4 bytes, but F32 [2] needs 8')
    await expectFileError(bad('{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}', 8), F, 'tensor "w" data_offsets [0, 8) span 8 bytes, but F16 [2] needs 4')
  })

  it('tensor data running past the end of the file (a truncated file)', async () => {
    await expectFileError(
      bad('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 8),
      F,
      'tensor "w" data [0, 16) runs past the end of the file (the data section is 8 bytes)',
    )
  })

  it('overlapping tensors', async () => {
    await expectFileError(
      bad('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', 12),
      F,
      'tensors "a" [0, 8) and "b" [4, 12) overlap',
    )
  })

  it('a zero-size tensor placed inside another one', async () => {
    await expectFileError(
      bad('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}', 8),
      F,
      'tensors "a" [0, 8) and "z" [4, 4) overlap',
    )
  })

  it('a hole between tensors (the data must be contiguous)', async () => {
    await expectFileError(
      bad('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', 12),
      F,
      'no tensor covers data bytes [4, 8): the data section must be contiguous',
    )
  })

  it('a hole before the first tensor', async () => {
    await expectFileError(bad('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8), F, 'no tensor covers data bytes [0, 4): the data section must be contiguous')
  })

  it('bytes after the last tensor', async () => {
    await expectFileError(bad('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 6), F, '2 bytes after the last tensor: the tensors cover 4 of the 6-byte data section')
    await expectFileError(bad('{}', 3), F, '3 bytes after the last tensor: the tensors cover 0 of the 3-byte data section')
  })
})

describe('readTensorAsFloat32', () => {
  const oneTensor = async (dtype: string, count: number, data: Uint8Array): Promise<{ source: ByteSource; info: SafetensorsTensorInfo }> => {
    const source = handBuiltFile(`{"t":{"dtype":"${dtype}","shape":[${count}],"data_offsets":[0,${data.length}]}}`, data, { name: 't.safetensors' })
    const { tensors } = await readSafetensors(source)
    return { source, info: tensors[0]! }
  }
  const u16Bytes = (values: number[]) => new Uint8Array(new Uint16Array(values).buffer)
  const bitsOf = (values: Float32Array) => [...new Uint32Array(values.buffer, values.byteOffset, values.length)]

  it('widens every one of the 65536 F16 bit patterns exactly', async () => {
    const all = Array.from({ length: 1 << 16 }, (_, h) => h)
    const { source, info } = await oneTensor('F16', all.length, u16Bytes(all))
    const values = await readTensorAsFloat32(source, info)
    const bits = bitsOf(values)
    const wrong: string[] = []
    for (const h of all) {
      const sign = h & 0x8000 ? -1 : 1
      const exponent = (h >> 10) & 0x1f
      const mantissa = h & 0x3ff
      if (exponent === 0x1f && mantissa !== 0) {
        // NaN: the payload moves to the top of the float32 mantissa.
        const expectedBits = (((h & 0x8000) << 16) | 0x7f800000 | (mantissa << 13)) >>> 0
        if (bits[h] !== expectedBits) wrong.push(`0x${h.toString(16)}: bits 0x${bits[h]!.toString(16)}, expected 0x${expectedBits.toString(16)}`)
        continue
      }
      const expected =
        exponent === 0x1f ? sign * Infinity : exponent === 0 ? sign * mantissa * 2 ** -24 : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
      if (!Object.is(values[h], expected)) wrong.push(`0x${h.toString(16)}: ${values[h]}, expected ${expected}`)
    }
    expect(wrong.slice(0, 5)).toEqual([])
  })

  it('widens BF16 to the float32 with the same top 16 bits', async () => {
    const patterns = [0x3f80, 0xc040, 0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc1, 0x0001, 0x4049]
    const { source, info } = await oneTensor('BF16', patterns.length, u16Bytes(patterns))
    const values = await readTensorAsFloat32(source, info)
    expect(bitsOf(values)).toEqual(patterns.map((p) => (p << 16) >>> 0))
    expect([values[0], values[1], values[4], values[8]]).toEqual([1, -3, Infinity, 3.140625])
  })

  it('returns F32 bit-exactly, including NaN payloads, from an unaligned offset', async () => {
    const raw = new Uint8Array([0x01, 0x00, 0xc0, 0x7f, ...F32_ONE, 0x00, 0x00, 0x00, 0x80])
    const source = handBuiltFile('{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}', raw)
    expect(((await readSafetensors(source)).dataStart) % 4).not.toBe(0)
    const values = await readTensorAsFloat32(source, (await readSafetensors(source)).tensors[0]!)
    expect(bitsOf(values)).toEqual([0x7fc00001, 0x3f800000, 0x80000000])
  })

  it('rounds F64 to the nearest float32', async () => {
    const data = new Uint8Array(16)
    new DataView(data.buffer).setFloat64(0, 0.1, true)
    new DataView(data.buffer).setFloat64(8, -1e300, true)
    const { source, info } = await oneTensor('F64', 2, data)
    expect([...(await readTensorAsFloat32(source, info))]).toEqual([Math.fround(0.1), -Infinity])
  })

  it('refuses integer tensors with unsupported_model', async () => {
    const { source, info } = await oneTensor('I32', 1, new Uint8Array(4))
    await expectFileError(readTensorAsFloat32(source, info), 't.safetensors', 'tensor "t" is I32, which cannot be read as float32 (only F32, F16, BF16, F64)', 'unsupported_model')
  })
})
