import type { ByteSink } from '../io/bytes.js'
import { hfConfigFromHyperparameters } from '../hyperparameters.js'
import { quantize } from '../quantize/quantize.js'
import { writeShardedSafetensors, type SafetensorsShardPlan } from '../safetensors/shardedSafetensors.js'
import type { SafetensorsDtype } from '../safetensors/safetensorsDtypes.js'
import { tokenizerFromGguf } from '../tokenizers/tokenizerFromGguf.js'
import { rowChunks, type ModelSource, type ModelTensor } from './ModelSource.js'

/** Target float type of a safetensors export; `source` keeps each tensor's own float type (quantized → F32). */
export type SafetensorsExportType = 'source' | 'F32' | 'F16' | 'BF16'

export interface WriteModelSafetensorsOptions {
  type: SafetensorsExportType
  /** Defaults to 5 GB, as transformers shards. */
  maxShardBytes?: number
  signal?: AbortSignal
  onProgress?: (writtenBytes: number, totalBytes: number) => void
  /** Rows converted per step. Defaults to about 1 Mi values. */
  chunkValues?: number
}

/** The JSON files of a Hugging Face model folder, as text, keyed by file name. */
export function hfFolderJsonFiles(source: ModelSource): Record<string, string> {
  const id = (key: string): number | null => {
    const value = source.tokenizer.get(key)
    return value && typeof value.value === 'number' ? value.value : null
  }
  const tokens = { bos: id('tokenizer.ggml.bos_token_id'), eos: id('tokenizer.ggml.eos_token_id') }
  const nameValue = source.general.get('general.name')
  const name = nameValue?.type === 'string' ? nameValue.value : undefined
  const tokenizer = tokenizerFromGguf(source.tokenizer, source.name)
  const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n'
  return {
    'config.json': json({ ...(name === undefined ? {} : { _name_or_path: name }), ...hfConfigFromHyperparameters(source.hyperparameters, tokens) }),
    'generation_config.json': json({ ...(tokens.bos === null ? {} : { bos_token_id: tokens.bos }), ...(tokens.eos === null ? {} : { eos_token_id: tokens.eos }) }),
    'tokenizer.json': json(tokenizer.tokenizerJson),
    'tokenizer_config.json': json(tokenizer.tokenizerConfig),
  }
}

/**
 * Writes the model's tensors as safetensors shards (HF names and layout). `createSink` receives each file name
 * relative to the output folder; with more than one shard the index file is written too.
 */
export async function writeModelSafetensors(
  source: ModelSource,
  createSink: (relativeName: string) => Promise<ByteSink>,
  options: WriteModelSafetensorsOptions,
): Promise<SafetensorsShardPlan> {
  const byName = new Map(source.tensors.map((t) => [t.name, t]))
  const dtypeOf = (tensor: ModelTensor): SafetensorsDtype => {
    if (options.type !== 'source') return options.type
    return tensor.sourceType === 'F16' || tensor.sourceType === 'BF16' ? tensor.sourceType : 'F32'
  }
  const chunkValues = options.chunkValues ?? 1024 * 1024
  const { plan } = await writeShardedSafetensors(
    createSink,
    source.tensors.map((t) => ({ name: t.name, dtype: dtypeOf(t), shape: t.shape })),
    {
      maxShardBytes: options.maxShardBytes ?? 5_000_000_000,
      tensorData: (info) => tensorChunks(byName.get(info.name)!, info.dtype as 'F32' | 'F16' | 'BF16', chunkValues),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  )
  return plan
}

async function* tensorChunks(tensor: ModelTensor, dtype: 'F32' | 'F16' | 'BF16', chunkValues: number): AsyncIterable<Uint8Array> {
  for await (const rows of rowChunks(tensor, chunkValues)) yield quantize(dtype, rows)
}
