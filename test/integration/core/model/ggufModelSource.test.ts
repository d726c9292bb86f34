import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileByteSink } from '../../../../src-main/core/io/fileBytes.js'
import { openModel } from '../../../../src-main/core/modelFiles/openModel.js'
import { writeModelGguf } from '../../../../src-main/core/model/convert/writeModelGguf.js'
import { convertModel } from '../../../../src-main/core/modelFiles/convertModel.js'
import { sourceQuantizeWorker } from '../../../../src-main/devbridge/sourceJobWorker.js'
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

  it('quantizes on a worker pool to the same bytes as on one thread', async () => {
    const dir = await tempDir()
    const model = await writeTinyGgufModel(dir, {
      architecture: 'qwen2',
      hyperparameters: { embeddingLength: 256, feedForwardLength: 512, headCount: 4, headCountKv: 2, headDim: 64 },
    })
    const single = join(dir, 'single.gguf')
    const pooled = join(dir, 'pooled.gguf')
    await convertModel(model.hfDir, single, { format: 'gguf', type: 'Q4_K_M' })
    await convertModel(model.hfDir, pooled, { format: 'gguf', type: 'Q4_K_M' }, { threads: 2, quantizeWorker: sourceQuantizeWorker() })
    expect((await readFile(pooled)).equals(await readFile(single))).toBe(true)
    // The pool really does the work: without a usable worker the conversion fails.
    await expect(
      convertModel(model.hfDir, join(dir, 'broken.gguf'), { format: 'gguf', type: 'Q4_K_M' }, { threads: 2, quantizeWorker: { workerScript: join(dir, 'missing.mjs') } }),
    ).rejects.toThrow()
  })
})
