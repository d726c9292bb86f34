import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FileByteSink } from '../io/fileBytes.js'
import type { ModelSource } from '../model/convert/ModelSource.js'
import { writeModelGguf } from '../model/convert/writeModelGguf.js'
import type { ByteSink } from '../model/io/bytes.js'
import { hfFolderJsonFiles, writeModelSafetensors, type SafetensorsExportType } from '../model/convert/writeModelSafetensors.js'
import type { GgufFileType } from '../model/quantize/quantMixture.js'
import { readAdapterFile } from '../train/adapterFile.js'
import { mergedModelSource } from '../train/mergedModelSource.js'
import { openModel } from './openModel.js'
import { QuantizePool, type QuantizePoolOptions } from './QuantizePool.js'

export type ConvertTarget = { format: 'gguf'; type: GgufFileType } | { format: 'safetensors'; type: SafetensorsExportType }

export interface ConvertModelOptions {
  signal?: AbortSignal
  onProgress?: (writtenBytes: number, totalBytes: number) => void
  /** Quantize on this many worker threads (with `quantizeWorker`). Defaults to `1`: this thread only. */
  threads?: number
  quantizeWorker?: QuantizePoolOptions['worker']
  /** A Lectern adapter file (a training run's adapter.safetensors) to merge into the weights on the way. */
  adapter?: string
}

/** Writes `source` as a GGUF of `fileType` to `sink`, quantizing on a worker pool when threads and a worker are given. */
export async function writeGgufOnThreads(source: ModelSource, sink: ByteSink, fileType: GgufFileType, options: Omit<ConvertModelOptions, 'adapter'> = {}): Promise<void> {
  const { threads = 1, quantizeWorker, ...progress } = options
  const quantized = !['F32', 'F16', 'BF16'].includes(fileType)
  const pool = quantized && threads > 1 && quantizeWorker ? new QuantizePool({ worker: quantizeWorker, size: threads }) : null
  try {
    await writeModelGguf(source, sink, {
      fileType,
      ...progress,
      // Smaller chunks give every worker something to do even on tensors of a few million values.
      ...(pool ? { quantizeChunk: (type, values) => pool.quantize(type, values), chunksInFlight: 2 * pool.size, chunkValues: 256 * 1024 } : {}),
    })
  } finally {
    await pool?.dispose()
  }
}

/**
 * Converts `sourcePath` (GGUF file or HF folder) to `outPath`: a GGUF file, or an HF folder (created; files in
 * it are replaced only once complete). The result is reopened and checked before this resolves.
 */
export async function convertModel(sourcePath: string, outPath: string, target: ConvertTarget, options: ConvertModelOptions = {}): Promise<void> {
  const opened = await openModel(sourcePath)
  try {
    if (options.adapter) {
      const { config, values } = await readAdapterFile(options.adapter)
      opened.source = mergedModelSource(opened.source, config, values)
    }
    if (target.format === 'gguf') {
      const { adapter: _merged, ...writeOptions } = options
      const sink = await FileByteSink.create(outPath)
      try {
        await writeGgufOnThreads(opened.source, sink, target.type, writeOptions)
        await sink.commit()
      } catch (error) {
        await sink.abort()
        throw error
      }
    } else {
      await mkdir(outPath, { recursive: true })
      const sinks: FileByteSink[] = []
      try {
        const { signal, onProgress } = options
        await writeModelSafetensors(
          opened.source,
          async (name) => {
            const sink = await FileByteSink.create(join(outPath, name))
            sinks.push(sink)
            return sink
          },
          { type: target.type, ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) },
        )
        for (const sink of sinks) await sink.commit()
      } catch (error) {
        await Promise.all(sinks.map((sink) => sink.abort()))
        throw error
      }
      for (const [name, text] of Object.entries(hfFolderJsonFiles(opened.source))) {
        await writeFile(join(outPath, `${name}.partial`), text)
        await rename(join(outPath, `${name}.partial`), join(outPath, name))
      }
    }
  } finally {
    await opened.close()
  }
  const check = await openModel(outPath)
  await check.close()
}
