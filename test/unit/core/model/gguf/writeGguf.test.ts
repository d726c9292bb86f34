import { describe, expect, it } from 'vitest'
import { readGgufHeader } from '../../../../../src-main/core/model/gguf/readGgufHeader.js'
import { planGgufLayout, writeGguf, type GgufTensorToWrite } from '../../../../../src-main/core/model/gguf/writeGguf.js'
import { MemoryByteSink, MemoryByteSource } from '../../../../../src-main/core/model/io/bytes.js'
import { everyTypeMetadata } from './ggufFixtures.js'

const tensors: GgufTensorToWrite[] = [
  { name: 'token_embd.weight', shape: [8, 5], type: 'F32' },
  { name: 'blk.0.attn_norm.weight', shape: [8], type: 'F16' },
  { name: 'blk.0.ffn_up.weight', shape: [64, 3], type: 'Q8_0' },
]

/** Deterministic bytes for a tensor: its index in every byte position. */
function fill(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7) & 0xff)
}

async function written(metadata = everyTypeMetadata()): Promise<Uint8Array> {
  const sink = new MemoryByteSink('model.gguf')
  await writeGguf(sink, metadata, tensors, { tensorData: async (t, i) => fill(planGgufLayout(metadata, tensors).layout.tensors[i]!.byteLength, i) })
  return sink.bytes()
}

describe('writeGguf → readGgufHeader', () => {
  it('round-trips metadata of every type exactly, in order', async () => {
    const header = await readGgufHeader(new MemoryByteSource(await written(), 'model.gguf'))
    expect(header.version).toBe(3)
    expect([...header.metadata.entries()]).toEqual([...everyTypeMetadata().entries()])
  })

  it('places tensors at aligned offsets with their exact bytes', async () => {
    const bytes = await written()
    const header = await readGgufHeader(new MemoryByteSource(bytes, 'model.gguf'))
    expect(header.alignment).toBe(32)
    expect(header.dataOffset % 32).toBe(0)
    expect(header.tensors.map((t) => [t.name, t.shape, t.type.name, t.byteLength])).toEqual([
      ['token_embd.weight', [8, 5], 'F32', 160],
      ['blk.0.attn_norm.weight', [8], 'F16', 16],
      ['blk.0.ffn_up.weight', [64, 3], 'Q8_0', 6 * 34],
    ])
    for (const [i, t] of header.tensors.entries()) {
      expect(t.absoluteOffset % 32).toBe(0)
      expect(bytes.subarray(t.absoluteOffset, t.absoluteOffset + t.byteLength)).toEqual(fill(t.byteLength, i))
    }
    expect(bytes.length).toBe(header.tensors.at(-1)!.absoluteOffset + header.tensors.at(-1)!.byteLength)
  })

  it('honours general.alignment', async () => {
    const metadata = everyTypeMetadata()
    metadata.set('general.alignment', { type: 'u32', value: 64 })
    const header = await readGgufHeader(new MemoryByteSource(await written(metadata)))
    expect(header.alignment).toBe(64)
    for (const t of header.tensors) expect(t.absoluteOffset % 64).toBe(0)
  })

  it('writes the header byte by byte as the format defines', async () => {
    const metadata = new Map([['general.architecture', { type: 'string', value: 'llama' } as const]])
    const sink = new MemoryByteSink()
    await writeGguf(sink, metadata, [{ name: 'x', shape: [2], type: 'F32' }], { tensorData: async () => new Uint8Array(8).fill(0xab) })
    const b = sink.bytes()
    const view = new DataView(b.buffer)
    let at = 0
    const u32 = (): number => ((at += 4), view.getUint32(at - 4, true))
    const u64 = (): bigint => ((at += 8), view.getBigUint64(at - 8, true))
    const text = (n: number): string => new TextDecoder().decode(b.subarray(at, (at += n)))
    expect(text(4)).toBe('GGUF')
    expect([u32(), u64(), u64()]).toEqual([3, 1n, 1n]) // version, tensor count, metadata count
    expect([u64(), text(20), u32()]).toEqual([20n, 'general.architecture', 8]) // key, value type string
    expect([u64(), text(5)]).toEqual([5n, 'llama'])
    expect([u64(), text(1), u32(), u64(), u32(), u64()]).toEqual([1n, 'x', 1, 2n, 0, 0n]) // name, dims, ne0, F32, offset
    expect(at).toBe(102)
    expect(b.subarray(at, 128).every((x) => x === 0)).toBe(true)
    expect(b.length).toBe(128 + 8)
    expect(b.subarray(128).every((x) => x === 0xab)).toBe(true)
  })

  it('streams chunked tensor data and rejects a tensor of the wrong size', async () => {
    const metadata = new Map()
    const sink = new MemoryByteSink('out.gguf')
    async function* chunks(): AsyncIterable<Uint8Array> {
      yield new Uint8Array(3)
      yield new Uint8Array(5)
    }
    await writeGguf(sink, metadata, [{ name: 'x', shape: [2], type: 'F32' }], { tensorData: () => chunks() })
    expect((await readGgufHeader(new MemoryByteSource(sink.bytes()))).tensors[0]!.byteLength).toBe(8)
    await expect(
      writeGguf(new MemoryByteSink('out.gguf'), metadata, [{ name: 'x', shape: [2], type: 'F32' }], { tensorData: async () => new Uint8Array(7) }),
    ).rejects.toThrow('out.gguf: tensor x produced 7 bytes, expected 8')
  })

  it('refuses shapes a type cannot hold', () => {
    expect(() => planGgufLayout(new Map(), [{ name: 'w', shape: [100, 2], type: 'Q4_K' }])).toThrow(/rows of 100 do not fit Q4_K blocks of 256/)
    expect(() => planGgufLayout(new Map(), [{ name: 'w', shape: [1, 1, 1, 1, 1], type: 'F32' }])).toThrow(/invalid shape/)
  })
})
