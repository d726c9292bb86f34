import { describe, expect, it } from 'vitest'
import { MemoryByteSink, MemoryByteSource } from '../../../../../src-main/core/model/io/bytes.js'
import { readSafetensors, readTensorAsFloat32, readTensorBytes } from '../../../../../src-main/core/model/safetensors/readSafetensors.js'
import { SAFETENSORS_DTYPE_NAMES, safetensorsDtypeBytes, type SafetensorsDtype } from '../../../../../src-main/core/model/safetensors/safetensorsDtypes.js'
import {
  compareCodePoints,
  planSafetensors,
  writeSafetensors,
  type SafetensorsTensorToWrite,
} from '../../../../../src-main/core/model/safetensors/writeSafetensors.js'
import { expectFileError, f32Bytes, seededBytes } from './safetensorsTestFiles.js'

const OUT = 'out.safetensors'

/** Writes `tensors` with the given bytes per name and reads the file back. */
async function roundTrip(tensors: SafetensorsTensorToWrite[], data: Map<string, Uint8Array>, options: Parameters<typeof planSafetensors>[1] = {}) {
  const sink = new MemoryByteSink(OUT)
  const layout = await writeSafetensors(sink, tensors, { ...options, tensorData: async (tensor) => data.get(tensor.name)! })
  const bytes = sink.bytes()
  const source = new MemoryByteSource(bytes, OUT)
  return { layout, bytes, source, header: await readSafetensors(source) }
}

function randomTensors(dtypes: readonly SafetensorsDtype[], shapes: number[][], seed: number) {
  const tensors: SafetensorsTensorToWrite[] = []
  const data = new Map<string, Uint8Array>()
  for (const [d, dtype] of dtypes.entries()) {
    for (const [s, shape] of shapes.entries()) {
      const name = `layers.${s}.${dtype.toLowerCase()}.weight`
      tensors.push({ name, dtype, shape })
      data.set(name, seededBytes(shape.reduce((a, b) => a * b, 1) * safetensorsDtypeBytes(dtype), seed + 97 * d + s))
    }
  }
  return { tensors, data }
}

const SHAPES = [[3, 5], [], [0, 2], [7], [2, 1, 3]]

describe('writeSafetensors round trips', () => {
  it.each(SAFETENSORS_DTYPE_NAMES)('%s: every byte comes back, whatever the bit patterns (NaNs included)', async (dtype) => {
    const { tensors, data } = randomTensors([dtype], SHAPES, 7)
    const { header, source } = await roundTrip(tensors, data)
    expect(header.tensors).toHaveLength(SHAPES.length)
    for (const info of header.tensors) {
      expect(info.dtype).toBe(dtype)
      expect(info.shape).toEqual(tensors.find((t) => t.name === info.name)!.shape)
      expect(await readTensorBytes(source, info), info.name).toEqual(data.get(info.name))
    }
  })

  it('all dtypes in one file: bit-exact, each tensor aligned to its element size', async () => {
    const { tensors, data } = randomTensors(SAFETENSORS_DTYPE_NAMES, SHAPES, 11)
    const { header, source, layout } = await roundTrip(tensors, data)
    expect(header.tensors.map((t) => t.name)).toEqual(layout.tensors.map((t) => t.name))
    expect(header.dataStart % 8).toBe(0)
    for (const info of header.tensors) {
      expect(info.absoluteOffset % safetensorsDtypeBytes(info.dtype), info.name).toBe(0)
      expect(await readTensorBytes(source, info), info.name).toEqual(data.get(info.name))
    }
  })

  it('float32 values survive a write and readTensorAsFloat32', async () => {
    const values = [0, -0, 1.5, -2.25, 3.4028234663852886e38, 1.401298464324817e-45, Infinity]
    const { header, source } = await roundTrip([{ name: 'w', dtype: 'F32', shape: [values.length] }], new Map([['w', f32Bytes(values)]]))
    expect([...(await readTensorAsFloat32(source, header.tensors[0]!))]).toEqual(values)
  })
})

describe('writeSafetensors header', () => {
  const attn0 = { name: 'attn0', dtype: 'F32', shape: [1, 1, 2, 3] } as const
  const attn0Data = f32Bytes([0, 1, 2, 3, 4, 5])

  it('matches the reference layout byte for byte: compact JSON, space padding to 8, then the data', async () => {
    const sink = new MemoryByteSink(OUT)
    await writeSafetensors(sink, [attn0], { metadata: {}, tensorData: async () => attn0Data })
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}'
    expect(json.length).toBe(65)
    const expected = new Uint8Array([72, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode(json), ...' '.repeat(7).split('').map(() => 0x20), ...attn0Data])
    expect(sink.bytes()).toEqual(expected)
  })

  it('writes __metadata__ first, defaulting to {"format":"pt"} (transformers requires a format)', async () => {
    const layout = planSafetensors([attn0])
    const text = new TextDecoder().decode(layout.header.subarray(8))
    expect(text.startsWith('{"__metadata__":{"format":"pt"},"attn0":')).toBe(true)
    expect(text.length % 8).toBe(0)
    expect(text.trimEnd().length).toBeGreaterThan(text.length - 8)
    const custom = planSafetensors([attn0], { metadata: { format: 'pt', lectern: '0.1.0' } })
    const header = await readSafetensors(new MemoryByteSource(new Uint8Array([...custom.header, ...attn0Data]), OUT))
    expect(header.metadata).toEqual({ format: 'pt', lectern: '0.1.0' })
  })

  it('orders like the reference: widest element first, then by name', () => {
    const layout = planSafetensors([
      { name: 'b8', dtype: 'U8', shape: [3] },
      { name: 'a16', dtype: 'F16', shape: [1] },
      { name: 'z64', dtype: 'F64', shape: [1] },
      { name: 'bool', dtype: 'BOOL', shape: [1] },
      { name: 'm32', dtype: 'F32', shape: [1] },
      { name: 'a64', dtype: 'I64', shape: [1] },
    ])
    expect(layout.tensors.map((t) => t.name)).toEqual(['a64', 'z64', 'm32', 'a16', 'b8', 'bool'])
    expect(layout.tensors.map((t) => t.dataOffsets)).toEqual([[0, 8], [8, 16], [16, 20], [20, 22], [22, 25], [25, 26]])
    expect(layout.totalBytes).toBe(layout.dataStart + 26)
  })

  it("keeps the caller's order with order: 'given'", () => {
    const names = ['b8', 'a16', 'z64']
    const layout = planSafetensors(
      [
        { name: 'b8', dtype: 'U8', shape: [3] },
        { name: 'a16', dtype: 'F16', shape: [1] },
        { name: 'z64', dtype: 'F64', shape: [1] },
      ],
      { order: 'given' },
    )
    expect(layout.tensors.map((t) => t.name)).toEqual(names)
  })

  it('sorts names by code point, as Rust does, not by UTF-16 unit', () => {
    const layout = planSafetensors([
      { name: '\u{1F600}', dtype: 'U8', shape: [1] },
      { name: '\uFFFD', dtype: 'U8', shape: [1] },
    ])
    expect(layout.tensors.map((t) => t.name)).toEqual(['\uFFFD', '\u{1F600}'])
    expect(['\u{1F600}', '\uFFFD'].sort()).toEqual(['\u{1F600}', '\uFFFD'])
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0)
    expect(compareCodePoints('a', 'a')).toBe(0)
  })

  it('lists integer-like names in file order (a JS object would move them first)', async () => {
    const data = new Map([['a', f32Bytes([1])], ['10', f32Bytes([2])], ['2', f32Bytes([3])]])
    const { bytes, header, source } = await roundTrip(
      [...data.keys()].map((name) => ({ name, dtype: 'F32' as const, shape: [1] })),
      data,
    )
    const text = new TextDecoder().decode(bytes.subarray(8, header.dataStart))
    expect(text.indexOf('"10"')).toBeLessThan(text.indexOf('"2"'))
    expect(text.indexOf('"2"')).toBeLessThan(text.indexOf('"a"'))
    for (const info of header.tensors) expect(await readTensorBytes(source, info)).toEqual(data.get(info.name))
  })

  it('escapes names that need it and reads them back', async () => {
    const name = 'quote " backslash \\ newline \n é'
    const { header } = await roundTrip([{ name, dtype: 'U8', shape: [1] }], new Map([[name, new Uint8Array([9])]]))
    expect(header.tensors[0]!.name).toBe(name)
  })
})

describe('writeSafetensors streams', () => {
  it('asks for each tensor only after the previous one is written, accepting chunks', async () => {
    const events: string[] = []
    const sink = new MemoryByteSink(OUT)
    const logged = {
      name: sink.name,
      get position() {
        return sink.position
      },
      write: async (chunk: Uint8Array) => {
        events.push(`write ${chunk.length}`)
        await sink.write(chunk)
      },
      close: () => sink.close(),
    }
    const layout = await writeSafetensors(
      logged,
      [
        { name: 'a', dtype: 'F32', shape: [4] },
        { name: 'b', dtype: 'F32', shape: [2] },
      ],
      {
        tensorData: (tensor) => {
          events.push(`produce ${tensor.name}`)
          if (tensor.name === 'b') return Promise.resolve(f32Bytes([5, 6]))
          return (async function* () {
            yield f32Bytes([1, 2, 3])
            yield f32Bytes([4])
          })()
        },
      },
    )
    expect(events).toEqual([`write ${layout.dataStart}`, 'produce a', 'write 12', 'write 4', 'produce b', 'write 8'])
    const source = new MemoryByteSource(sink.bytes(), OUT)
    const { tensors } = await readSafetensors(source)
    expect([...(await readTensorAsFloat32(source, tensors[0]!))]).toEqual([1, 2, 3, 4])
  })

  it('reports progress after each tensor, ending at the file size', async () => {
    const progress: [number, number][] = []
    const sink = new MemoryByteSink(OUT)
    const layout = await writeSafetensors(
      sink,
      [
        { name: 'a', dtype: 'F32', shape: [4] },
        { name: 'b', dtype: 'U8', shape: [2] },
      ],
      { tensorData: async (t) => new Uint8Array(t.byteLength), onProgress: (done, total) => progress.push([done, total]) },
    )
    expect(progress).toEqual([
      [layout.dataStart + 16, layout.totalBytes],
      [layout.totalBytes, layout.totalBytes],
    ])
    expect(sink.position).toBe(layout.totalBytes)
  })

  it('refuses a chunk larger than the tensor before writing any of it', async () => {
    const sink = new MemoryByteSink(OUT)
    const tensors = [{ name: 'w', dtype: 'F32', shape: [4] }] as const
    await expectFileError(
      writeSafetensors(sink, tensors, { tensorData: async () => new Uint8Array(20) }),
      OUT,
      'tensor "w" produced at least 20 bytes, expected 16 (F32 [4])',
      'internal',
    )
    expect(sink.position).toBe(planSafetensors(tensors).dataStart)
  })

  it('refuses a later chunk that overruns the tensor', async () => {
    const sink = new MemoryByteSink(OUT)
    const tensors = [{ name: 'w', dtype: 'BF16', shape: [2, 4] }] as const
    const chunks = async function* () {
      yield new Uint8Array(10)
      yield new Uint8Array(10)
    }
    await expectFileError(writeSafetensors(sink, tensors, { tensorData: chunks }), OUT, 'tensor "w" produced at least 20 bytes, expected 16 (BF16 [2, 4])', 'internal')
    expect(sink.position).toBe(planSafetensors(tensors).dataStart + 10)
  })

  it('refuses a tensor that produces too few bytes', async () => {
    const sink = new MemoryByteSink(OUT)
    await expectFileError(
      writeSafetensors(sink, [{ name: 'w', dtype: 'F32', shape: [4] }], { tensorData: async () => new Uint8Array(12) }),
      OUT,
      'tensor "w" produced 12 bytes, expected 16 (F32 [4])',
      'internal',
    )
  })

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController()
    const produced: string[] = []
    const write = writeSafetensors(
      new MemoryByteSink(OUT),
      [
        { name: 'a', dtype: 'U8', shape: [1] },
        { name: 'b', dtype: 'U8', shape: [1] },
      ],
      {
        signal: controller.signal,
        tensorData: async (t) => {
          produced.push(t.name)
          controller.abort()
          return new Uint8Array(1)
        },
      },
    )
    await expect(write).rejects.toMatchObject({ name: 'AbortError' })
    expect(produced).toEqual(['a'])
  })
})

describe('writeSafetensors rejects bad tensor lists', () => {
  const reject = (tensors: SafetensorsTensorToWrite[], message: string, metadata?: Record<string, string>) =>
    expectFileError(
      writeSafetensors(new MemoryByteSink(OUT), tensors, { ...(metadata ? { metadata } : {}), tensorData: async () => new Uint8Array(0) }),
      OUT,
      `cannot write safetensors: ${message}`,
      'invalid_argument',
    )

  it('a name used twice', async () => {
    await reject(
      [
        { name: 'w', dtype: 'U8', shape: [1] },
        { name: 'w', dtype: 'F32', shape: [1] },
      ],
      'tensor "w" is listed twice',
    )
  })

  it('a tensor named __metadata__', async () => {
    await reject([{ name: '__metadata__', dtype: 'U8', shape: [1] }], '"__metadata__" is reserved and cannot name a tensor')
  })

  it('a negative or fractional dimension', async () => {
    await reject([{ name: 'w', dtype: 'U8', shape: [2, -1] }], 'tensor "w" shape [2, -1] must hold non-negative integers')
    await reject([{ name: 'w', dtype: 'U8', shape: [1.5] }], 'tensor "w" shape [1.5] must hold non-negative integers')
  })

  it('an unknown dtype', async () => {
    await reject([{ name: 'w', dtype: 'Q8_0' as SafetensorsDtype, shape: [32] }], 'tensor "w" has unknown dtype Q8_0 (known: F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2)')
  })

  it('metadata values that are not strings', async () => {
    await reject([], '__metadata__ value "step" must be a string', { step: 3 as unknown as string })
  })
})
