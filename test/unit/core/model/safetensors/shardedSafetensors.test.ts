import { describe, expect, it } from 'vitest'
import { LecternError } from '../../../../../src-main/shared/errors.js'
import { MemoryByteSink, MemoryByteSource, type ByteSink } from '../../../../../src-main/core/model/io/bytes.js'
import {
  SAFETENSORS_INDEX_FILE,
  ShardedSafetensors,
  formatSafetensorsIndex,
  parseSafetensorsIndex,
  planSafetensorsShards,
  writeShardedSafetensors,
} from '../../../../../src-main/core/model/safetensors/shardedSafetensors.js'
import { safetensorsDtypeBytes } from '../../../../../src-main/core/model/safetensors/safetensorsDtypes.js'
import { writeSafetensors, type SafetensorsTensorToWrite } from '../../../../../src-main/core/model/safetensors/writeSafetensors.js'
import { RecordingSource, expectFileError, seededBytes } from './safetensorsTestFiles.js'

/** A model folder in memory: sinks to write files, sources (recording reads and closes) to read them. */
class MemoryFolder {
  readonly files = new Map<string, MemoryByteSink>()
  readonly opened: RecordingSource[] = []
  closedSinks = 0

  createSink = async (name: string): Promise<ByteSink> => {
    const sink = new MemoryByteSink(`model/${name}`)
    this.files.set(name, sink)
    return {
      name: sink.name,
      get position() {
        return sink.position
      },
      write: (chunk) => sink.write(chunk),
      close: async () => void this.closedSinks++,
    }
  }

  open = async (name: string): Promise<RecordingSource> => {
    const sink = this.files.get(name)
    if (!sink) throw new LecternError('not_found', `model/${name}: file not found`, { file: `model/${name}` })
    const source = new RecordingSource(new MemoryByteSource(sink.bytes(), `model/${name}`))
    this.opened.push(source)
    return source
  }

  async writeText(name: string, text: string): Promise<void> {
    const sink = new MemoryByteSink(`model/${name}`)
    await sink.write(new TextEncoder().encode(text))
    this.files.set(name, sink)
  }

  async writeShard(name: string, tensors: SafetensorsTensorToWrite[]): Promise<void> {
    const sink = new MemoryByteSink(`model/${name}`)
    await writeSafetensors(sink, tensors, { tensorData: async (t) => new Uint8Array(t.byteLength) })
    this.files.set(name, sink)
  }

  index(): MemoryByteSource {
    return new MemoryByteSource(this.files.get(SAFETENSORS_INDEX_FILE)!.bytes(), `model/${SAFETENSORS_INDEX_FILE}`)
  }
}

const INDEX = `model/${SAFETENSORS_INDEX_FILE}`

/** Six llama-ish tensors: 64 + 64 + 48 + 64 + 32 + 16 = 288 bytes of data. */
const TENSORS: SafetensorsTensorToWrite[] = [
  { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [4, 4] },
  { name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'F32', shape: [4, 4] },
  { name: 'model.layers.0.input_layernorm.weight', dtype: 'BF16', shape: [24] },
  { name: 'model.layers.1.self_attn.q_proj.weight', dtype: 'F16', shape: [4, 8] },
  { name: 'model.norm.weight', dtype: 'F32', shape: [8] },
  { name: 'lm_head.weight', dtype: 'I8', shape: [2, 8] },
]
/** Distinct, reproducible bytes for each of TENSORS. */
function dataOf(name: string): Uint8Array {
  const { shape, dtype } = TENSORS.find((t) => t.name === name)!
  return seededBytes(shape.reduce((a, b) => a * b, 1) * safetensorsDtypeBytes(dtype), TENSORS.findIndex((t) => t.name === name) + 1)
}

describe('sharded safetensors round trip', () => {
  it('writes 3 shards and an index, and reads every tensor back bit-exactly as one checkpoint', async () => {
    const folder = new MemoryFolder()
    const progress: number[] = []
    const { plan, index } = await writeShardedSafetensors(folder.createSink, TENSORS, {
      maxShardBytes: 130,
      tensorData: async (t) => dataOf(t.name),
      onProgress: (done, total) => {
        expect(total).toBe(288)
        progress.push(done)
      },
    })
    const names = ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']
    expect(plan.shards.map((s) => [s.fileName, s.tensors.length, s.dataBytes])).toEqual([
      [names[0], 2, 128],
      [names[1], 2, 112],
      [names[2], 2, 48],
    ])
    expect([...folder.files.keys()].sort()).toEqual([...names, SAFETENSORS_INDEX_FILE].sort())
    expect(folder.closedSinks).toBe(4)
    expect(progress.at(-1)).toBe(288)
    expect(progress).toEqual([...progress].sort((a, b) => a - b))
    expect(new TextDecoder().decode(folder.files.get(SAFETENSORS_INDEX_FILE)!.bytes())).toBe(index)

    const checkpoint = await ShardedSafetensors.open(folder.index(), folder.open)
    expect(checkpoint.index.totalSizeBytes).toBe(288)
    expect(checkpoint.index.shardFiles).toEqual(names)
    expect(checkpoint.tensors.map((t) => t.name).sort()).toEqual(TENSORS.map((t) => t.name).sort())
    for (const tensor of TENSORS) {
      const info = checkpoint.tensor(tensor.name)!
      expect(info.shard).toBe(plan.weightMap.get(tensor.name))
      expect(info.dtype).toBe(tensor.dtype)
      expect(info.shape).toEqual(tensor.shape)
      expect(await checkpoint.readTensorBytes(info), tensor.name).toEqual(dataOf(tensor.name))
    }
    expect(checkpoint.shardMetadata(names[1]!)).toEqual({ format: 'pt' })
    expect(await checkpoint.readTensorAsFloat32(checkpoint.tensor('model.norm.weight')!)).toHaveLength(8)
    await checkpoint.dispose()
    await checkpoint.dispose()
    expect(folder.opened.map((s) => s.closed)).toEqual([1, 1, 1])
  })

  it('writes the index the way transformers does: sorted keys, two-space indent, trailing newline', async () => {
    const plan = planSafetensorsShards(TENSORS, { maxShardBytes: 130 })
    const text = formatSafetensorsIndex(plan, { total_parameters: 100 })
    expect(text.endsWith('}\n')).toBe(true)
    const sortedNames = TENSORS.map((t) => t.name).sort()
    expect(JSON.parse(text)).toEqual({
      metadata: { total_parameters: 100, total_size: 288 },
      weight_map: Object.fromEntries(sortedNames.map((n) => [n, plan.weightMap.get(n)])),
    })
    expect(text.split('\n').slice(0, 5)).toEqual([
      '{',
      '  "metadata": {',
      '    "total_parameters": 100,',
      '    "total_size": 288',
      '  },',
    ])
    expect(text).toContain('\n  "weight_map": {\n    "lm_head.weight": "model-00003-of-00003.safetensors",\n')
    expect(parseSafetensorsIndex(text, 'x').weightMap).toEqual(plan.weightMap)
  })

  it('writes a single model.safetensors and no index when everything fits in one shard', async () => {
    const folder = new MemoryFolder()
    const { plan, index } = await writeShardedSafetensors(folder.createSink, TENSORS, { tensorData: async (t) => dataOf(t.name) })
    expect(plan.shards.map((s) => s.fileName)).toEqual(['model.safetensors'])
    expect(index).toBeUndefined()
    expect([...folder.files.keys()]).toEqual(['model.safetensors'])
  })

  it('presents a single-file checkpoint through the same interface', async () => {
    const folder = new MemoryFolder()
    await writeShardedSafetensors(folder.createSink, TENSORS, { tensorData: async (t) => dataOf(t.name) })
    const source = await folder.open('model.safetensors')
    const checkpoint = await ShardedSafetensors.openSingle(source)
    expect(checkpoint.index.totalSizeBytes).toBe(288)
    expect(checkpoint.index.shardFiles).toEqual(['model.safetensors'])
    for (const tensor of TENSORS) expect(await checkpoint.readTensorBytes(checkpoint.tensor(tensor.name)!)).toEqual(dataOf(tensor.name))
    await checkpoint.dispose()
    expect(source.closed).toBe(1)
  })

  it('closes a single file that fails to parse', async () => {
    const source = new RecordingSource(new MemoryByteSource(new Uint8Array(4), 'model/model.safetensors'))
    await expectFileError(ShardedSafetensors.openSingle(source), 'model/model.safetensors', /too short/)
    expect(source.closed).toBe(1)
  })

  it('gives a tensor over the limit a shard of its own, keeping shards in tensor order', () => {
    const plan = planSafetensorsShards(
      [
        { name: 'a', dtype: 'U8', shape: [6] },
        { name: 'big', dtype: 'U8', shape: [25] },
        { name: 'b', dtype: 'U8', shape: [6] },
        { name: 'c', dtype: 'U8', shape: [6] },
      ],
      { maxShardBytes: 10, fileStem: 'adapter' },
    )
    expect(plan.shards.map((s) => [s.fileName, s.tensors.map((t) => t.name)])).toEqual([
      ['adapter-00001-of-00004.safetensors', ['a']],
      ['adapter-00002-of-00004.safetensors', ['big']],
      ['adapter-00003-of-00004.safetensors', ['b']],
      ['adapter-00004-of-00004.safetensors', ['c']],
    ])
    expect(plan.totalSizeBytes).toBe(43)
  })

  it('rejects a bad shard size or a stem that is a path', () => {
    expect(() => planSafetensorsShards(TENSORS, { maxShardBytes: 0 })).toThrow(/maxShardBytes must be a positive integer/)
    expect(() => planSafetensorsShards(TENSORS, { fileStem: '../model' })).toThrow(/escapes the model folder/)
  })

  it('closes every sink it opened when a tensor fails', async () => {
    const folder = new MemoryFolder()
    const write = writeShardedSafetensors(folder.createSink, TENSORS, {
      maxShardBytes: 130,
      tensorData: async (t) => (t.name === 'model.norm.weight' ? new Uint8Array(1) : dataOf(t.name)),
    })
    await expect(write).rejects.toMatchObject({ code: 'internal' })
    expect(folder.closedSinks).toBe(folder.files.size)
    expect(folder.files.has(SAFETENSORS_INDEX_FILE)).toBe(false)
  })
})

describe('parseSafetensorsIndex rejects bad indexes', () => {
  const F = 'model/model.safetensors.index.json'
  const parse = async (text: string) => parseSafetensorsIndex(text, F)
  const withShard = (shard: string) => parse(JSON.stringify({ metadata: { total_size: 4 }, weight_map: { w: shard } }))

  it('text that is not JSON', async () => {
    await expectFileError(parse('{"weight_map": '), F, /^model\/model\.safetensors\.index\.json: not valid JSON \(.+\)$/)
  })

  it('a missing or malformed weight_map', async () => {
    await expectFileError(parse('{"metadata": {}}'), F, '"weight_map" is missing or not an object of tensor name to shard file')
    await expectFileError(parse('{"weight_map": ["a"]}'), F, '"weight_map" is missing or not an object of tensor name to shard file')
    await expectFileError(parse('[]'), F, 'not a JSON object with "weight_map"')
    await expectFileError(parse('{"weight_map": {}}'), F, 'weight_map lists no tensors')
  })

  it('a shard that is not a string', async () => {
    await expectFileError(parse('{"weight_map": {"w": 1}}'), F, 'weight_map["w"] is 1, not a shard file name')
  })

  it('shard names that escape the folder or are paths', async () => {
    await expectFileError(withShard('../secrets.safetensors'), F, 'weight_map["w"] shard "../secrets.safetensors" escapes the model folder (contains "..")')
    await expectFileError(withShard('sub\\..\\..\\x.safetensors'), F, /escapes the model folder/)
    await expectFileError(withShard('..'), F, /escapes the model folder/)
    await expectFileError(withShard('/etc/passwd'), F, 'weight_map["w"] shard "/etc/passwd" is a path, not a file name in the model folder')
    await expectFileError(withShard('C:model.safetensors'), F, /is a path, not a file name/)
    await expectFileError(withShard('sub/model.safetensors'), F, /is a path, not a file name/)
    await expectFileError(withShard(''), F, 'weight_map["w"] shard "" is not a file name')
    await expectFileError(withShard('a\u0000b'), F, /contains control characters/)
  })

  it('a total_size that is not a non-negative integer', async () => {
    await expectFileError(parse('{"metadata":{"total_size":-1},"weight_map":{"w":"a.safetensors"}}'), F, 'metadata.total_size must be a non-negative integer, found -1')
    await expectFileError(parse('{"metadata":{"total_size":"12"},"weight_map":{"w":"a.safetensors"}}'), F, 'metadata.total_size must be a non-negative integer, found "12"')
    await expectFileError(parse('{"metadata":[],"weight_map":{"w":"a.safetensors"}}'), F, '"metadata" is not an object')
  })

  it('a tensor listed twice in weight_map', async () => {
    await expectFileError(parse('{"weight_map":{"w":"a.safetensors","w":"b.safetensors"}}'), F, 'the key "w" appears twice')
  })

  it('accepts an index without metadata', async () => {
    const index = await parse('{"weight_map":{"w":"b.safetensors","v":"a.safetensors"}}')
    expect(index.totalSizeBytes).toBeUndefined()
    expect(index.shardFiles).toEqual(['a.safetensors', 'b.safetensors'])
  })
})

describe('ShardedSafetensors.open rejects shards that disagree with the index', () => {
  const tensor = (name: string): SafetensorsTensorToWrite => ({ name, dtype: 'F32', shape: [2] })
  const index = (weightMap: Record<string, string>) => JSON.stringify({ metadata: { total_size: 8 * Object.keys(weightMap).length }, weight_map: weightMap })

  it('a tensor in the index that its shard lacks', async () => {
    const folder = new MemoryFolder()
    await folder.writeShard('a.safetensors', [tensor('x')])
    await folder.writeText(SAFETENSORS_INDEX_FILE, index({ x: 'a.safetensors', y: 'a.safetensors' }))
    await expectFileError(ShardedSafetensors.open(folder.index(), folder.open), INDEX, 'tensor "y" is listed in shard a.safetensors, but that shard does not contain it')
    expect(folder.opened.map((s) => s.closed)).toEqual([1])
  })

  it('a tensor in two shards', async () => {
    const folder = new MemoryFolder()
    await folder.writeShard('a.safetensors', [tensor('x')])
    await folder.writeShard('b.safetensors', [tensor('x'), tensor('y')])
    await folder.writeText(SAFETENSORS_INDEX_FILE, index({ x: 'a.safetensors', y: 'b.safetensors' }))
    await expectFileError(
      ShardedSafetensors.open(folder.index(), folder.open),
      'model/b.safetensors',
      'tensor "x" is also in shard a.safetensors; a tensor must be in one shard only',
    )
    expect(folder.opened.map((s) => s.closed)).toEqual([1, 1])
  })

  it('a tensor in a shard other than the one the index names', async () => {
    const folder = new MemoryFolder()
    await folder.writeShard('a.safetensors', [tensor('x')])
    await folder.writeShard('b.safetensors', [tensor('y')])
    await folder.writeText(SAFETENSORS_INDEX_FILE, index({ x: 'b.safetensors', y: 'a.safetensors' }))
    await expectFileError(ShardedSafetensors.open(folder.index(), folder.open), 'model/a.safetensors', `tensor "x" is here, but the index ${INDEX} puts it in b.safetensors`)
  })

  it('a tensor in a shard but not in the index', async () => {
    const folder = new MemoryFolder()
    await folder.writeShard('a.safetensors', [tensor('x'), tensor('extra')])
    await folder.writeText(SAFETENSORS_INDEX_FILE, index({ x: 'a.safetensors' }))
    await expectFileError(ShardedSafetensors.open(folder.index(), folder.open), 'model/a.safetensors', `tensor "extra" is not in the index ${INDEX}`)
  })

  it("a damaged shard: the shard's own error, and the shards opened so far are closed", async () => {
    const folder = new MemoryFolder()
    await folder.writeShard('a.safetensors', [tensor('x')])
    await folder.writeText('b.safetensors', 'not safetensors at all')
    await folder.writeText(SAFETENSORS_INDEX_FILE, index({ x: 'a.safetensors', y: 'b.safetensors' }))
    await expectFileError(ShardedSafetensors.open(folder.index(), folder.open), 'model/b.safetensors', /^model\/b\.safetensors: header length \d+ exceeds the file size \(22 bytes\)$/)
    expect(folder.opened.map((s) => s.closed)).toEqual([1, 1])
  })

  it('a missing shard: the opener’s error, and the shards opened so far are closed', async () => {
    const folder = new MemoryFolder()
    await folder.writeShard('a.safetensors', [tensor('x')])
    await folder.writeText(SAFETENSORS_INDEX_FILE, index({ x: 'a.safetensors', y: 'b.safetensors' }))
    await expectFileError(ShardedSafetensors.open(folder.index(), folder.open), 'model/b.safetensors', 'file not found', 'not_found')
    expect(folder.opened.map((s) => s.closed)).toEqual([1])
  })

  it('an index that is not UTF-8', async () => {
    const source = new MemoryByteSource(new Uint8Array([0x7b, 0xff, 0x7d]), INDEX)
    await expectFileError(ShardedSafetensors.open(source, async () => expect.fail('no shard should open')), INDEX, 'not valid UTF-8')
  })
})
