import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, stat, statfs, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { LecternError } from '../../shared/errors.js'
import { formatBytes } from '../../shared/format.js'
import { FileByteSink } from '../io/fileBytes.js'
import { HashingSink } from '../io/HashingSink.js'
import type { ModelSource } from '../model/convert/ModelSource.js'
import { hfFolderJsonFiles, writeModelSafetensors } from '../model/convert/writeModelSafetensors.js'
import { planSafetensorsShards, SAFETENSORS_INDEX_FILE } from '../model/safetensors/shardedSafetensors.js'
import { openModel } from '../modelFiles/openModel.js'
import { readAdapterFile } from '../train/adapterFile.js'
import { mergedModelSource } from '../train/mergedModelSource.js'

/** Float type of every tensor in an exported folder. */
export type HfExportDtype = 'F16' | 'BF16' | 'F32'

export interface ExportHfFolderOptions {
  /** Most tensor data bytes per shard (headers not counted). Defaults to 2 GiB. */
  maxShardBytes?: number
  /** Defaults to `BF16`, which keeps float32's range (F16 can overflow on large activations' weights). */
  dtype?: HfExportDtype
  signal?: AbortSignal
  /** Tensor data bytes written so far and their total (the index's `total_size`). */
  onProgress?: (writtenBytes: number, totalBytes: number) => void
  /** Checks the finished folder before it takes its final name; a throw leaves nothing behind. */
  verify?: (tempDir: string, source: ModelSource) => Promise<void>
}

export interface ExportedHfFile {
  /** File name inside the exported folder. */
  name: string
  bytes: number
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string
}

export interface ExportHfFolderResult {
  /** The finished folder (absolute). */
  dir: string
  /** Every file in it, sorted by name. */
  files: ExportedHfFile[]
}

export const DEFAULT_HF_EXPORT_SHARD_BYTES = 2 * 1024 ** 3

const TORCH_DTYPES: Readonly<Record<HfExportDtype, string>> = { F16: 'float16', BF16: 'bfloat16', F32: 'float32' }

/** Per-shard allowance for the safetensors header (JSON of names, shapes and offsets) when checking free space. */
const HEADER_ALLOWANCE_BYTES = 1024 * 1024
/** Room left on the disk after the export, so it does not fill the volume to the last byte. */
const FREE_SPACE_MARGIN_BYTES = 64 * 1024 * 1024

/**
 * Writes `base` (a GGUF file or an HF folder), with `adapterFile` merged in when given, as a Hugging Face model
 * folder at `outDir` that transformers' `from_pretrained` and vLLM load: safetensors weights (one
 * `model.safetensors`, or `model-0000i-of-0000n.safetensors` shards with `model.safetensors.index.json`),
 * config.json, generation_config.json, tokenizer.json, tokenizer_config.json (with the chat template) and
 * special_tokens_map.json.
 *
 * Tensors are streamed a chunk of rows at a time, so the model is never held whole. Everything is written into a
 * hidden folder beside `outDir`, checked by reopening it, and renamed to `outDir` only when complete: a failed or
 * cancelled export leaves nothing under that name. Free space is checked before anything is written.
 */
export async function exportHfFolder(
  base: string,
  adapterFile: string | null,
  outDir: string,
  options: ExportHfFolderOptions = {},
): Promise<ExportHfFolderResult> {
  const { maxShardBytes = DEFAULT_HF_EXPORT_SHARD_BYTES, dtype = 'BF16', signal, onProgress } = options
  if (!Object.hasOwn(TORCH_DTYPES, dtype)) throw new LecternError('invalid_argument', `export type must be F16, BF16 or F32, got ${String(dtype)}`)
  const target = resolve(outDir)
  await checkTargetFree(target)
  await mkdir(dirname(target), { recursive: true }).catch((error: Error) => {
    throw new LecternError('io', `${dirname(target)}: cannot create the folder (${error.message})`, { file: target })
  })
  signal?.throwIfAborted()

  const opened = await openModel(base)
  let tempDir: string | null = null
  try {
    let source = opened.source
    if (adapterFile !== null) {
      const { config, values } = await readAdapterFile(adapterFile)
      source = mergedModelSource(source, config, values)
    }
    const jsonFiles = hfExportJsonFiles(source, dtype)
    const plan = planSafetensorsShards(
      source.tensors.map((t) => ({ name: t.name, dtype, shape: t.shape })),
      { maxShardBytes },
    )
    const jsonBytes = Object.values(jsonFiles).reduce((sum, text) => sum + Buffer.byteLength(text), 0)
    const indexAllowance = plan.shards.length > 1 ? 100 * plan.weightMap.size + 1024 : 0
    await checkExportFreeSpace(dirname(target), plan.totalSizeBytes + plan.shards.length * HEADER_ALLOWANCE_BYTES + jsonBytes + indexAllowance)
    signal?.throwIfAborted()

    tempDir = await mkdtemp(join(dirname(target), `.${basename(target)}.export-`)).catch((error: Error) => {
      throw new LecternError('io', `${dirname(target)}: cannot create a folder for the export (${error.message})`, { file: target })
    })
    const files = await writeFolder(source, tempDir, jsonFiles, { maxShardBytes, dtype, ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) })

    // The folder must open as a model before it takes the final name (headers and JSON only; cheap).
    const check = await openModel(tempDir)
    await check.close()
    await options.verify?.(tempDir, source)
    signal?.throwIfAborted()

    await checkTargetFree(target)
    // An empty folder left at the target (a save dialog may create one) gives way; anything else was refused above.
    await rmdir(target).catch(() => undefined)
    await rename(tempDir, target).catch((error: Error) => {
      throw new LecternError('io', `${target}: cannot move the finished export into place (${error.message})`, { file: target })
    })
    tempDir = null
    return { dir: target, files }
  } finally {
    await opened.close()
    if (tempDir !== null) await rm(tempDir, { recursive: true, force: true })
  }
}

/**
 * The JSON files of the exported folder, keyed by name: the converter's config, generation config and tokenizer
 * files, with `torch_dtype` set to the export type, sampling defaults in generation_config.json, the context
 * length as the tokenizer's `model_max_length`, and a special_tokens_map.json for older loaders.
 */
export function hfExportJsonFiles(source: ModelSource, dtype: HfExportDtype): Record<string, string> {
  const base = hfFolderJsonFiles(source)
  const parse = (name: string): Record<string, unknown> => JSON.parse(base[name]!) as Record<string, unknown>
  const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n'

  const config = { ...parse('config.json'), torch_dtype: TORCH_DTYPES[dtype] }

  const tokenId = (key: string): number | undefined => {
    const value = source.tokenizer.get(key)
    return value && typeof value.value === 'number' ? value.value : undefined
  }
  const eos = tokenId('tokenizer.ggml.eos_token_id')
  const eot = tokenId('tokenizer.ggml.eot_token_id')
  const pad = tokenId('tokenizer.ggml.padding_token_id')
  const bos = tokenId('tokenizer.ggml.bos_token_id')
  // A chat model ends its turn with EOT (e.g. <|im_end|>); generation should stop there as well as at EOS.
  const stopIds = [eos, eot].filter((id, i, all): id is number => id !== undefined && all.indexOf(id) === i)
  const generation: Record<string, unknown> = {
    ...(bos === undefined ? {} : { bos_token_id: bos }),
    ...(stopIds.length === 0 ? {} : { eos_token_id: stopIds.length === 1 ? stopIds[0] : stopIds }),
    ...(pad === undefined ? {} : { pad_token_id: pad }),
    do_sample: true,
    temperature: 0.7,
    top_p: 0.9,
    max_new_tokens: 512,
  }

  const tokenizerConfig: Record<string, unknown> = { ...parse('tokenizer_config.json'), model_max_length: source.hyperparameters.contextLength }
  const specialTokens: Record<string, string> = {}
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
    const value = tokenizerConfig[key]
    if (typeof value === 'string') specialTokens[key] = value
  }

  return {
    'config.json': json(config),
    'generation_config.json': json(generation),
    'special_tokens_map.json': json(specialTokens),
    'tokenizer.json': base['tokenizer.json']!,
    'tokenizer_config.json': json(tokenizerConfig),
  }
}

interface WriteFolderOptions {
  maxShardBytes: number
  dtype: HfExportDtype
  signal?: AbortSignal
  onProgress?: (writtenBytes: number, totalBytes: number) => void
}

/** Writes weights and JSON files into `dir`, hashing every byte on its way to disk. */
async function writeFolder(source: ModelSource, dir: string, jsonFiles: Record<string, string>, options: WriteFolderOptions): Promise<ExportedHfFile[]> {
  const sinks: HashingSink[] = []
  try {
    await writeModelSafetensors(
      source,
      async (name) => {
        const sink = new HashingSink(name, await FileByteSink.create(join(dir, name)))
        sinks.push(sink)
        return sink
      },
      {
        type: options.dtype,
        maxShardBytes: options.maxShardBytes,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
    )
    for (const sink of sinks) await sink.file.commit()
  } catch (error) {
    await Promise.all(sinks.map((sink) => sink.file.abort()))
    throw error
  }
  const files = sinks.map((sink) => sink.result())
  for (const [name, text] of Object.entries(jsonFiles)) {
    options.signal?.throwIfAborted()
    const bytes = Buffer.from(text, 'utf8')
    await writeFile(join(dir, name), bytes).catch((error: Error) => {
      throw new LecternError('io', `${join(dir, name)}: cannot write (${error.message})`, { file: join(dir, name) })
    })
    files.push({ name, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') })
  }
  const written = new Set(files.map((f) => f.name))
  const present = await readdir(dir)
  const stray = present.filter((name) => !written.has(name))
  if (stray.length > 0 || present.length !== written.size) {
    throw new LecternError('internal', `${dir}: unexpected files in the export folder (${stray.join(', ')})`)
  }
  if (!written.has('model.safetensors') && !written.has(SAFETENSORS_INDEX_FILE)) {
    throw new LecternError('internal', `${dir}: no weights were written`)
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** Refuses a target that exists and is not an empty folder. */
async function checkTargetFree(target: string): Promise<void> {
  const info = await stat(target).catch(() => null)
  if (info === null) return
  if (!info.isDirectory() || (await readdir(target)).length > 0) {
    throw new LecternError('invalid_argument', `${target} already exists; choose a new folder name for the export`, { file: target })
  }
}

/** Refuses (`io`) when the volume holding `dir` has less than `neededBytes` free, plus a small margin. */
export async function checkExportFreeSpace(dir: string, neededBytes: number): Promise<void> {
  const info = await statfs(dir).catch((error: Error) => {
    throw new LecternError('io', `${dir}: cannot check free space (${error.message})`, { file: dir })
  })
  const available = Number(info.bavail) * Number(info.bsize)
  if (available < neededBytes + FREE_SPACE_MARGIN_BYTES) {
    throw new LecternError(
      'io',
      `Not enough free space in ${dir}: the export needs about ${formatBytes(neededBytes)}, and ${formatBytes(available)} is available`,
      { file: dir },
    )
  }
}
