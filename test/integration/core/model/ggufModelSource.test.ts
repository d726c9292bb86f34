import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileByteSink } from '../../../../src-main/core/io/fileBytes.js'
import { openModel } from '../../../../src-main/core/modelFiles/openModel.js'
import { writeModelGguf } from '../../../../src-main/core/model/convert/writeModelGguf.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

describe('streaming over q/k projections', () => {
  it('reads any row range of a permuted q/k tensor back in HF layout', async () => {
    const model = await writeTinyGgufModel(await tempDir(), { architecture: 'llama' })
    const opened = await openModel(model.ggufPath)
    try {
      const projections = opened.source.tensors.filter((t) => /\.(q|k)_proj\.weight$/.test(t.name))
      expect(projections).toHaveLength(4)
      for (const tensor of projections) {
        const [rows, rowLength] = tensor.shape as [number, number]
        const expected = model.weights.get(tensor.name)!
        for (const [first, count] of [[0, rows], [3, 5], [15, 2], [rows - 1, 1]] as const) {
          expect([...(await tensor.readRows(first, count))], `${tensor.name} rows ${first}+${count}`).toEqual([
            ...expected.subarray(first * rowLength, (first + count) * rowLength),
          ])
        }
      }
    } finally {
      await opened.close()
    }
  })

  it('writes the same bytes whatever the chunk size', async () => {
    const dir = await tempDir()
    const model = await writeTinyGgufModel(dir, { architecture: 'llama' }, 'Q8_0')
    const opened = await openModel(model.hfDir)
    const smallChunks = join(dir, 'small-chunks.gguf')
    const sink = await FileByteSink.create(smallChunks)
    await writeModelGguf(opened.source, sink, { fileType: 'Q8_0', chunkValues: 100 })
    await sink.commit()
    await opened.close()
    expect((await readFile(smallChunks)).equals(await readFile(model.ggufPath))).toBe(true)
  })
})
