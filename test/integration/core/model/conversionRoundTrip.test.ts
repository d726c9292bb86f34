import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileByteSource } from '../../../../src-main/core/io/fileBytes.js'
import { convertModel } from '../../../../src-main/core/modelFiles/convertModel.js'
import { readGgufHeader } from '../../../../src-main/core/model/gguf/readGgufHeader.js'
import type { GgufHeader } from '../../../../src-main/core/model/gguf/ggufTypes.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { expectHuggingFaceGgufAgrees } from '../../../support/huggingfaceGguf.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

async function readHeaderAndTensors(path: string): Promise<{ header: GgufHeader; data: Map<string, { type: string; bytes: Uint8Array }> }> {
  const source = await FileByteSource.open(path)
  try {
    const header = await readGgufHeader(source)
    const data = new Map<string, { type: string; bytes: Uint8Array }>()
    for (const t of header.tensors) data.set(t.name, { type: t.type.name, bytes: await source.read(t.absoluteOffset, t.byteLength) })
    return { header, data }
  } finally {
    await source.close()
  }
}

describe('GGUF → safetensors → GGUF', () => {
  it.each([
    ['F32', 'llama'],
    ['F16', 'llama'],
    ['BF16', 'qwen2'],
    ['F16', 'qwen3'],
  ] as const)('is bit-exact for %s (%s): every tensor, type and metadata value', async (fileType, architecture) => {
    const dir = await tempDir()
    const first = await writeTinyGgufModel(dir, { architecture }, fileType)
    const hfDir = join(dir, 'exported-hf')
    await convertModel(first.ggufPath, hfDir, { format: 'safetensors', type: 'source' })
    const secondPath = join(dir, 'again.gguf')
    await convertModel(hfDir, secondPath, { format: 'gguf', type: fileType })

    const a = await readHeaderAndTensors(first.ggufPath)
    const b = await readHeaderAndTensors(secondPath)
    expect([...b.header.metadata.entries()].sort()).toEqual([...a.header.metadata.entries()].sort())
    expect([...b.data.keys()].sort()).toEqual([...a.data.keys()].sort())
    for (const [name, tensor] of a.data) {
      const other = b.data.get(name)!
      expect(other.type, name).toBe(tensor.type)
      expect(Buffer.from(other.bytes).equals(Buffer.from(tensor.bytes)), `${name} bytes`).toBe(true)
    }
    await expectHuggingFaceGgufAgrees(first.ggufPath, a.header)
    await expectHuggingFaceGgufAgrees(secondPath, b.header)
  })
})
