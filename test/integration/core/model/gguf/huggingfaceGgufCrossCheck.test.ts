import { join } from 'node:path'
import { gguf } from '@huggingface/gguf'
import { expect, it } from 'vitest'
import { FileByteSink } from '../../../../../src-main/core/io/fileBytes.js'
import { GGUF_VALUE_TYPES, type GgufValue } from '../../../../../src-main/core/model/gguf/ggufTypes.js'
import { writeGguf } from '../../../../../src-main/core/model/gguf/writeGguf.js'
import { ggmlType } from '../../../../../src-main/core/model/tensorTypes.js'
import { useTempDirs } from '../../../../support/tempDir.js'
import { everyTypeMetadata } from '../../../../unit/core/model/gguf/ggufFixtures.js'

const tempDir = useTempDirs()

/** How @huggingface/gguf represents a value: bigints for 64-bit integers, plain arrays for arrays. */
function asHuggingFace(value: GgufValue): unknown {
  if (value.type !== 'array') return value.value
  return value.elementType === 'array' ? value.value.map(asHuggingFace) : value.value
}

it('@huggingface/gguf parses a file we wrote with the same metadata and tensor infos', async () => {
  const path = join(await tempDir(), 'model.gguf')
  const metadata = everyTypeMetadata()
  const tensors = [
    { name: 'token_embd.weight', shape: [64, 7], type: 'Q8_0' as const },
    { name: 'output_norm.weight', shape: [64], type: 'F32' as const },
    { name: 'blk.0.ffn_down.weight', shape: [256, 2], type: 'Q4_K' as const },
  ]
  const sink = await FileByteSink.create(path)
  const layout = await writeGguf(sink, metadata, tensors, { tensorData: async (_t, i) => new Uint8Array(tensorsBytes(tensors[i]!)) })
  await sink.commit()

  const parsed = await gguf(path, { allowLocalFile: true, typedMetadata: true })
  expect(parsed.typedMetadata.version.value).toBe(3)
  expect(parsed.typedMetadata.tensor_count.value).toBe(3n)
  for (const [key, value] of metadata) {
    const theirs = parsed.typedMetadata[key]
    expect(theirs, key).toBeDefined()
    expect(theirs!.type, key).toBe(GGUF_VALUE_TYPES.indexOf(value.type))
    if (value.type === 'f32') expect(theirs!.value).toBeCloseTo(value.value, 6)
    else expect(theirs!.value, key).toEqual(asHuggingFace(value))
  }
  expect(parsed.tensorInfos.map((t) => ({ name: t.name, shape: t.shape.map(Number), type: t.dtype, offset: Number(t.offset) }))).toEqual(
    layout.tensors.map((t) => ({ name: t.name, shape: t.shape, type: ggmlType(t.type).id, offset: t.offset })),
  )
  expect(parsed.tensorDataOffset).toBe(BigInt(layout.dataOffset))
})

function tensorsBytes(t: { shape: number[]; type: Parameters<typeof ggmlType>[0] }): number {
  const info = ggmlType(t.type)
  return (t.shape.reduce((a, b) => a * b, 1) / info.blockSize) * info.blockBytes
}
