import { join } from 'node:path'
import { expect, it } from 'vitest'
import { FileByteSink, FileByteSource } from '../../../../../src-main/core/io/fileBytes.js'
import { readGgufHeader } from '../../../../../src-main/core/model/gguf/readGgufHeader.js'
import { writeGguf } from '../../../../../src-main/core/model/gguf/writeGguf.js'
import { ggmlType, type GgmlTypeName } from '../../../../../src-main/core/model/tensorTypes.js'
import { expectHuggingFaceGgufAgrees } from '../../../../support/huggingfaceGguf.js'
import { useTempDirs } from '../../../../support/tempDir.js'
import { everyTypeMetadata } from '../../../../unit/core/model/gguf/ggufFixtures.js'

const tempDir = useTempDirs()

it('@huggingface/gguf parses a file we wrote with the same metadata (every value type) and tensor infos', async () => {
  const path = join(await tempDir(), 'model.gguf')
  const tensors: { name: string; shape: number[]; type: GgmlTypeName }[] = [
    { name: 'token_embd.weight', shape: [64, 7], type: 'Q8_0' },
    { name: 'output_norm.weight', shape: [64], type: 'F32' },
    { name: 'blk.0.ffn_down.weight', shape: [256, 2], type: 'Q4_K' },
  ]
  const sink = await FileByteSink.create(path)
  await writeGguf(sink, everyTypeMetadata(), tensors, { tensorData: async (t) => new Uint8Array(byteLength(t)) })
  await sink.commit()
  const source = await FileByteSource.open(path)
  const header = await readGgufHeader(source)
  await source.close()
  expect([...header.metadata]).toEqual([...everyTypeMetadata()])
  await expectHuggingFaceGgufAgrees(path, header)
})

function byteLength(t: { shape: number[]; type: GgmlTypeName }): number {
  const info = ggmlType(t.type)
  return (t.shape.reduce((a, b) => a * b, 1) / info.blockSize) * info.blockBytes
}
