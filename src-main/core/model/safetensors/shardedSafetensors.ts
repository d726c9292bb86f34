import { LecternError } from '../../../shared/errors.js'
import type { ByteSink, ByteSource } from '../io/bytes.js'
import { findDuplicateJsonKey } from './findDuplicateJsonKey.js'
import { readSafetensors, readTensorAsFloat32, readTensorBytes, type SafetensorsHeader, type SafetensorsTensorInfo } from './readSafetensors.js'
import { safetensorsDtypeBytes } from './safetensorsDtypes.js'
import { compareCodePoints, planSafetensors, writeSafetensors, type SafetensorsTensorToWrite, type WriteSafetensorsOptions } from './writeSafetensors.js'

/** What transformers and huggingface_hub name the index of a sharded checkpoint. */
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json'

/** huggingface_hub's default `max_shard_size` (5 GB, decimal). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000

const MAX_INDEX_BYTES = 100_000_000

export interface SafetensorsIndex {
  /** The index's `metadata` object as written (transformers adds more than `total_size`). */
  metadata: Record<string, unknown>
  /** `metadata.total_size`: the tensor data bytes of all shards, headers not counted. */
  totalSizeBytes: number | undefined
  /** Tensor name → shard file name, relative to the index's folder. */
  weightMap: Map<string, string>
  /** Distinct shard file names, sorted. */
  shardFiles: string[]
}

/**
 * Parses `model.safetensors.index.json` text. `weight_map` must map each tensor name to a plain file name in the
 * index's own folder (no path separators, no `..`), `metadata.total_size` if present must be a non-negative
 * integer. Errors are `invalid_model_file` naming `fileName`.
 */
export function parseSafetensorsIndex(text: string, fileName: string): SafetensorsIndex {
  const fail = (message: string): never => {
    throw new LecternError('invalid_model_file', `${fileName}: ${message}`, { file: fileName })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return fail(`not valid JSON (${(error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ')})`)
  }
  if (!isPlainObject(parsed)) return fail('not a JSON object with "weight_map"')
  const duplicate = findDuplicateJsonKey(text)
  if (duplicate !== undefined) fail(`the key "${duplicate}" appears twice`)

  const metadata = parsed['metadata'] ?? {}
  if (!isPlainObject(metadata)) return fail('"metadata" is not an object')
  const totalSize = metadata['total_size']
  if (totalSize !== undefined && !(typeof totalSize === 'number' && Number.isSafeInteger(totalSize) && totalSize >= 0)) {
    fail(`metadata.total_size must be a non-negative integer, found ${JSON.stringify(totalSize)}`)
  }

  const weightMapJson = parsed['weight_map']
  if (!isPlainObject(weightMapJson)) return fail('"weight_map" is missing or not an object of tensor name to shard file')
  const weightMap = new Map<string, string>()
  for (const [name, shard] of Object.entries(weightMapJson)) {
    if (typeof shard !== 'string') return fail(`weight_map["${name}"] is ${JSON.stringify(shard)}, not a shard file name`)
    const problem = shardNameProblem(shard)
    if (problem) fail(`weight_map["${name}"] shard "${shard}" ${problem}`)
    weightMap.set(name, shard)
  }
  if (weightMap.size === 0) fail('weight_map lists no tensors')
  const shardFiles = [...new Set(weightMap.values())].sort(compareCodePoints)
  return { metadata, totalSizeBytes: totalSize as number | undefined, weightMap, shardFiles }
}

/** Reads and parses the index file from a byte source. */
export async function readSafetensorsIndex(source: ByteSource): Promise<SafetensorsIndex> {
  if (source.sizeBytes > MAX_INDEX_BYTES) {
    throw new LecternError('invalid_model_file', `${source.name}: ${source.sizeBytes} bytes is too large for a safetensors index`, { file: source.name })
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await source.read(0, source.sizeBytes))
  } catch (error) {
    if (!(error instanceof TypeError)) throw error
    throw new LecternError('invalid_model_file', `${source.name}: not valid UTF-8`, { file: source.name })
  }
  return parseSafetensorsIndex(text, source.name)
}

export interface ShardedTensorInfo extends SafetensorsTensorInfo {
  /** The shard file, as named in the index. */
  shard: string
}

/** A source the opener may hand out; a `close` method, where present, is called by `dispose()`. */
export type ClosableByteSource = ByteSource & { close?: () => Promise<void> }

export interface OpenShardedSafetensorsOptions {
  signal?: AbortSignal
}

/**
 * A sharded checkpoint seen as one: every tensor of every shard, by name. Opening reads the index and every
 * shard's header (never tensor data) and checks that they agree: each tensor in the index is in the shard the
 * index names, and no tensor is in two shards or in a shard without being in the index.
 */
export class ShardedSafetensors {
  readonly index: SafetensorsIndex
  /** Shards in `index.shardFiles` order, tensors in file order within each. */
  readonly tensors: readonly ShardedTensorInfo[]
  private readonly byName: Map<string, ShardedTensorInfo>
  private readonly shards: Map<string, { source: ClosableByteSource; header: SafetensorsHeader }>
  private disposed = false

  private constructor(index: SafetensorsIndex, shards: Map<string, { source: ClosableByteSource; header: SafetensorsHeader }>, tensors: ShardedTensorInfo[]) {
    this.index = index
    this.shards = shards
    this.tensors = tensors
    this.byName = new Map(tensors.map((t) => [t.name, t]))
  }

  /**
   * @param indexSource the `model.safetensors.index.json` bytes.
   * @param openShard opens a shard by the name the index gives it (relative to the index's folder; the names are
   *   already checked to stay inside it).
   */
  static async open(
    indexSource: ByteSource,
    openShard: (relativeName: string) => Promise<ClosableByteSource>,
    options: OpenShardedSafetensorsOptions = {},
  ): Promise<ShardedSafetensors> {
    const index = await readSafetensorsIndex(indexSource)
    const shards = new Map<string, { source: ClosableByteSource; header: SafetensorsHeader }>()
    const opened: ClosableByteSource[] = []
    try {
      for (const shard of index.shardFiles) {
        options.signal?.throwIfAborted()
        const source = await openShard(shard)
        opened.push(source)
        shards.set(shard, { source, header: await readSafetensors(source) })
      }
      return new ShardedSafetensors(index, shards, mergeShards(indexSource.name, index, shards))
    } catch (error) {
      await Promise.allSettled(opened.map((source) => source.close?.()))
      throw error
    }
  }

  /**
   * A single-file checkpoint (`model.safetensors`, no index) behind the same interface, so callers need not
   * care whether a model is sharded. The index is made from the file's header.
   */
  static async openSingle(source: ClosableByteSource, fileName = 'model.safetensors'): Promise<ShardedSafetensors> {
    try {
      const header = await readSafetensors(source)
      const index: SafetensorsIndex = {
        metadata: {},
        totalSizeBytes: header.tensors.reduce((sum, t) => sum + t.byteLength, 0),
        weightMap: new Map(header.tensors.map((t) => [t.name, fileName])),
        shardFiles: [fileName],
      }
      const shards = new Map([[fileName, { source, header }]])
      return new ShardedSafetensors(index, shards, mergeShards(source.name, index, shards))
    } catch (error) {
      await source.close?.()
      throw error
    }
  }

  tensor(name: string): ShardedTensorInfo | undefined {
    return this.byName.get(name)
  }

  /** The open source of the shard that holds `tensor`. */
  sourceOf(tensor: ShardedTensorInfo): ByteSource {
    if (this.disposed) throw new Error('ShardedSafetensors used after dispose()')
    const shard = this.shards.get(tensor.shard)
    if (!shard) throw new Error(`no shard ${tensor.shard} in this checkpoint`)
    return shard.source
  }

  /** The `__metadata__` of one shard. */
  shardMetadata(shard: string): Record<string, string> | undefined {
    return this.shards.get(shard)?.header.metadata
  }

  readTensorBytes(tensor: ShardedTensorInfo): Promise<Uint8Array> {
    return readTensorBytes(this.sourceOf(tensor), tensor)
  }

  readTensorAsFloat32(tensor: ShardedTensorInfo): Promise<Float32Array> {
    return readTensorAsFloat32(this.sourceOf(tensor), tensor)
  }

  /** Closes every shard source that can be closed; idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    await Promise.all([...this.shards.values()].map(({ source }) => source.close?.()))
  }
}

function mergeShards(
  indexName: string,
  index: SafetensorsIndex,
  shards: Map<string, { source: ByteSource; header: SafetensorsHeader }>,
): ShardedTensorInfo[] {
  const merged: ShardedTensorInfo[] = []
  const foundIn = new Map<string, string>()
  for (const [shard, { source, header }] of shards) {
    for (const tensor of header.tensors) {
      const fail = (message: string): never => {
        throw new LecternError('invalid_model_file', `${source.name}: ${message}`, { file: source.name })
      }
      const earlier = foundIn.get(tensor.name)
      if (earlier !== undefined) fail(`tensor "${tensor.name}" is also in shard ${earlier}; a tensor must be in one shard only`)
      foundIn.set(tensor.name, shard)
      const listed = index.weightMap.get(tensor.name)
      if (listed === undefined) fail(`tensor "${tensor.name}" is not in the index ${indexName}`)
      if (listed !== shard) fail(`tensor "${tensor.name}" is here, but the index ${indexName} puts it in ${listed}`)
      merged.push({ ...tensor, shard })
    }
  }
  for (const [name, shard] of index.weightMap) {
    if (!foundIn.has(name)) {
      throw new LecternError('invalid_model_file', `${indexName}: tensor "${name}" is listed in shard ${shard}, but that shard does not contain it`, {
        file: indexName,
      })
    }
  }
  return merged
}

export interface SafetensorsShard {
  fileName: string
  /** In the order given to the planner. */
  tensors: SafetensorsTensorToWrite[]
  /** Tensor data bytes, headers not counted. */
  dataBytes: number
}

export interface SafetensorsShardPlan {
  shards: SafetensorsShard[]
  /** Tensor name → shard file name. */
  weightMap: Map<string, string>
  /** All tensor data bytes: the index's `metadata.total_size`. */
  totalSizeBytes: number
}

export interface PlanSafetensorsShardsOptions {
  /**
   * Most tensor data bytes per shard, headers not counted (as huggingface_hub counts). A tensor larger than this
   * gets a shard of its own. Defaults to `5_000_000_000`.
   */
  maxShardBytes?: number
  /** File names are `<stem>-00001-of-00003.safetensors`, or `<stem>.safetensors` for one shard. Defaults to `'model'`. */
  fileStem?: string
}

/**
 * Splits tensors into shards the way huggingface_hub's `split_state_dict_into_shards_factory` does: in the
 * given order, starting a new shard when the next tensor would push the current one past `maxShardBytes`.
 * One difference: a tensor over the limit closes the current shard before taking its own, so shard numbers
 * follow tensor order. A single shard is named `<stem>.safetensors` and needs no index, as in transformers.
 */
export function planSafetensorsShards(tensors: readonly SafetensorsTensorToWrite[], options: PlanSafetensorsShardsOptions = {}): SafetensorsShardPlan {
  const { maxShardBytes = DEFAULT_MAX_SHARD_BYTES, fileStem = 'model' } = options
  if (!(Number.isSafeInteger(maxShardBytes) && maxShardBytes > 0)) {
    throw new LecternError('invalid_argument', `maxShardBytes must be a positive integer, got ${maxShardBytes}`)
  }
  const problem = shardNameProblem(`${fileStem}.safetensors`)
  if (problem) throw new LecternError('invalid_argument', `shard file stem "${fileStem}" ${problem}`)
  // Checks names, dtypes and shapes; the layout itself is made per shard when writing.
  planSafetensors(tensors, { order: 'given' })

  const groups: { tensors: SafetensorsTensorToWrite[]; dataBytes: number }[] = []
  let current: { tensors: SafetensorsTensorToWrite[]; dataBytes: number } | undefined
  let totalSizeBytes = 0
  for (const tensor of tensors) {
    const bytes = tensorDataBytes(tensor)
    totalSizeBytes += bytes
    if (current && current.dataBytes + bytes > maxShardBytes) current = undefined
    if (!current) {
      current = { tensors: [], dataBytes: 0 }
      groups.push(current)
    }
    current.tensors.push(tensor)
    current.dataBytes += bytes
    if (bytes > maxShardBytes) current = undefined
  }
  if (groups.length === 0) groups.push({ tensors: [], dataBytes: 0 })

  const width = Math.max(5, String(groups.length).length)
  const shards = groups.map((group, i) => ({
    fileName:
      groups.length === 1
        ? `${fileStem}.safetensors`
        : `${fileStem}-${String(i + 1).padStart(width, '0')}-of-${String(groups.length).padStart(width, '0')}.safetensors`,
    ...group,
  }))
  const weightMap = new Map<string, string>()
  for (const shard of shards) {
    for (const tensor of shard.tensors) weightMap.set(tensor.name, shard.fileName)
  }
  return { shards, weightMap, totalSizeBytes }
}

/**
 * The `model.safetensors.index.json` text for a plan, as transformers writes it: keys sorted, two-space indent,
 * trailing newline. `metadata` adds keys beside `total_size`.
 */
export function formatSafetensorsIndex(plan: SafetensorsShardPlan, metadata: Record<string, unknown> = {}): string {
  const sortedMetadata = Object.fromEntries(
    Object.entries({ ...metadata, total_size: plan.totalSizeBytes }).sort(([a], [b]) => compareCodePoints(a, b)),
  )
  // Sorted like Python's json.dumps(sort_keys=True). Built as text so integer-like names keep their place.
  const names = [...plan.weightMap.keys()].sort(compareCodePoints)
  const weightMap = names.map((name) => `    ${JSON.stringify(name)}: ${JSON.stringify(plan.weightMap.get(name))}`)
  const metadataText = JSON.stringify(sortedMetadata, null, 2).replace(/\n/g, '\n  ')
  return `{\n  "metadata": ${metadataText},\n  "weight_map": {\n${weightMap.join(',\n')}\n  }\n}\n`
}

export interface WriteShardedSafetensorsOptions extends PlanSafetensorsShardsOptions, Omit<WriteSafetensorsOptions, 'onProgress'> {
  /** Extra keys for the index's `metadata`, beside `total_size`. Defaults to none. */
  indexMetadata?: Record<string, unknown>
  /** Called after each tensor with tensor data bytes written so far across shards and their total. */
  onProgress?: (writtenBytes: number, totalBytes: number) => void
}

/**
 * Writes a checkpoint as shards of at most `maxShardBytes` of tensor data, then `model.safetensors.index.json`
 * (only when there is more than one shard, like transformers). `createSink` is given each file name relative to
 * the output folder; every sink it returns is closed here, also on error (the caller removes partial files).
 * `tensorData` is called shard by shard, in each shard's file order; its `index` counts within the shard.
 */
export async function writeShardedSafetensors(
  createSink: (relativeName: string) => Promise<ByteSink>,
  tensors: readonly SafetensorsTensorToWrite[],
  options: WriteShardedSafetensorsOptions,
): Promise<{ plan: SafetensorsShardPlan; index: string | undefined }> {
  const { indexMetadata, onProgress, ...writeOptions } = options
  const plan = planSafetensorsShards(tensors, options)
  let doneBytes = 0
  for (const shard of plan.shards) {
    options.signal?.throwIfAborted()
    const sink = await createSink(shard.fileName)
    try {
      // Progress counts tensor data only, so it runs from 0 to total_size across all shards.
      let shardDoneBytes = 0
      await writeSafetensors(sink, shard.tensors, {
        ...writeOptions,
        tensorData: (tensor, i) => {
          shardDoneBytes = tensor.dataOffsets[1]
          return writeOptions.tensorData(tensor, i)
        },
        onProgress: () => onProgress?.(doneBytes + shardDoneBytes, plan.totalSizeBytes),
      })
      doneBytes += shard.dataBytes
    } finally {
      await sink.close()
    }
  }
  if (plan.shards.length === 1) return { plan, index: undefined }
  const index = formatSafetensorsIndex(plan, indexMetadata)
  const sink = await createSink(SAFETENSORS_INDEX_FILE)
  try {
    await sink.write(new TextEncoder().encode(index))
  } finally {
    await sink.close()
  }
  return { plan, index }
}

function tensorDataBytes(tensor: SafetensorsTensorToWrite): number {
  return tensor.shape.reduce((a, b) => a * b, 1) * safetensorsDtypeBytes(tensor.dtype)
}

/** Why a shard name from an index is unsafe to open, or undefined when it is a plain file name in the folder. */
function shardNameProblem(name: string): string | undefined {
  const segments = name.split(/[/\\]/)
  if (segments.includes('..')) return 'escapes the model folder (contains "..")'
  if (segments.length > 1 || /^[A-Za-z]:/.test(name)) return 'is a path, not a file name in the model folder'
  if (name === '' || name === '.') return 'is not a file name'
  if ([...name].some((c) => c.charCodeAt(0) < 0x20)) return 'contains control characters'
  return undefined
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
