import { access, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileByteSink } from '../../../src-main/core/io/fileBytes.js'
import { writeModelGguf } from '../../../src-main/core/model/convert/writeModelGguf.js'
import type { ModelHyperparameters } from '../../../src-main/core/model/hyperparameters.js'
import { writeAdapterFile } from '../../../src-main/core/train/adapterFile.js'
import { planAdapters, type AdapterConfig } from '../../../src-main/core/train/adapters.js'
import { seededRandom } from '../../../src-main/core/train/random.js'
import type { NamedTensor } from '../../../src-main/core/train/tensorFiles.js'
import { syntheticModelSource } from '../syntheticModel.js'
import { syntheticTokenizerMetadata } from '../syntheticTokenizerMetadata.js'

/**
 * Where `bench:export` keeps its inputs between runs: the base model takes a minute to write and never changes,
 * so only the outputs are written (and removed) each run. Delete the folder to rebuild them.
 */
export const EXPORT_BENCH_CACHE_DIR = join(tmpdir(), 'lectern-bench-export-cache')

/** Bump when the way the inputs are made changes, so an old cache is not reused. */
const INPUTS_VERSION = 1

/** Half-width of the uniform values in MoRA's M: ΔW entries then come out near the base weights' ±0.04. */
const ADAPTER_VALUE_RANGE = 0.01

export interface ExportInputs {
  /** The synthetic base model as an F16 GGUF file (what a user brings to "export merged"). */
  basePath: string
  /** A Lectern adapter file for it, every value random and non-zero, so the merge does real work. */
  adapterPath: string
  /** True when either file was written by this call rather than found in the cache. */
  built: boolean
}

const stem = (h: ModelHyperparameters): string =>
  `v${INPUTS_VERSION}-${h.architecture}-${h.embeddingLength}x${h.feedForwardLength}x${h.blockCount}-h${h.headCount}kv${h.headCountKv}-vocab${h.vocabSize}`

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  )

/**
 * The base model and adapter of `h` from the cache, written there first when missing. The base's weights are
 * `syntheticModelSource`'s (deterministic), stored as F16 with the synthetic SentencePiece vocabulary, so that
 * `openModel` accepts it like a llama.cpp model; both files are written atomically (temporary name, renamed).
 */
export async function exportInputs(h: ModelHyperparameters, adapter: Omit<AdapterConfig, 'dropout'>, log: (line: string) => void): Promise<ExportInputs> {
  await mkdir(EXPORT_BENCH_CACHE_DIR, { recursive: true })
  const basePath = join(EXPORT_BENCH_CACHE_DIR, `${stem(h)}-F16.gguf`)
  const adapterPath = join(EXPORT_BENCH_CACHE_DIR, `${stem(h)}-${adapter.method}${adapter.moraType}-r${adapter.rank}-${adapter.targets.join('')}.safetensors`)
  let built = false
  if (!(await exists(basePath))) {
    log(`writing the synthetic base model to the cache: ${basePath}`)
    const sink = await FileByteSink.create(basePath)
    try {
      await writeModelGguf(syntheticModelSource(h, syntheticTokenizerMetadata(h.vocabSize)), sink, { fileType: 'F16' })
      await sink.commit()
    } catch (error) {
      await sink.abort()
      throw error
    }
    built = true
  }
  if (!(await exists(adapterPath))) {
    log(`writing the adapter to the cache: ${adapterPath}`)
    const config: AdapterConfig = { ...adapter, dropout: 0 }
    const random = seededRandom(11)
    const params = new Map<string, NamedTensor>()
    for (const site of planAdapters(h, config).sites) {
      for (const param of site.params) {
        const data = new Float32Array(param.shape[0] * param.shape[1])
        // Never exactly zero: (0.5 + u/2)·±range.
        for (let i = 0; i < data.length; i++) data[i] = (random.nextFloat() < 0.5 ? -1 : 1) * ADAPTER_VALUE_RANGE * (0.5 + random.nextFloat() / 2)
        params.set(param.name, { shape: param.shape, data })
      }
    }
    await writeAdapterFile(adapterPath, config, params)
    built = true
  }
  return { basePath, adapterPath, built }
}
