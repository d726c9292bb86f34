import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LecternError } from '../../shared/errors.js'
import { Graph } from '../autodiff/Graph.js'
import { ExternalDataLayout } from '../autodiff/onnx/ExternalDataLayout.js'
import type { OnnxExternalTensor } from '../autodiff/onnx/OnnxGraphBuilder.js'
import type { TensorRef } from '../autodiff/types.js'
import { FileByteSink } from '../io/fileBytes.js'
import type { ModelSource } from '../model/convert/ModelSource.js'
import { expectedHfTensorShapes, type ModelHyperparameters } from '../model/hyperparameters.js'
import { decoderLogits, type DecoderWeights } from './decoder.js'

export const BASE_WEIGHTS_DATA_FILE = 'base-weights.bin'
const MANIFEST_FILE = 'base-weights.json'
const MANIFEST_VERSION = 1

export type WeightLayout = 'stored' | 'projection'

export interface BaseWeightRequest {
  /** Hugging Face tensor name. */
  name: string
  layout: WeightLayout
}

/** The graph input a base weight is bound to: frozen, read from the external data file, never fed. */
export function baseWeightInputName({ name, layout }: BaseWeightRequest): string {
  return layout === 'projection' ? `base/${name}/in_out` : `base/${name}`
}

/** Shape of a base weight in the given layout: `projection` is the (in, out) transpose of a matrix. */
export function baseWeightShape(h: ModelHyperparameters, { name, layout }: BaseWeightRequest): number[] {
  const shape = expectedHfTensorShapes(h).get(name)
  if (!shape) throw new LecternError('unsupported_model', `The decoder asked for ${name}, which a ${h.architecture} model does not have`)
  if (layout === 'stored') return [...shape]
  if (shape.length !== 2) throw new LecternError('internal', `${name} is not a matrix and has no projection layout`)
  return [shape[1]!, shape[0]!]
}

/**
 * Decoder weights bound to graph inputs named by `baseWeightInputName`, created on first use: the training
 * graphs lower them to external initializers (see `prepareBaseWeights`).
 */
export function baseWeightInputs(g: Graph, h: ModelHyperparameters): DecoderWeights {
  const bound = new Map<string, TensorRef>()
  return (name, layout) => {
    const inputName = baseWeightInputName({ name, layout })
    let tensor = bound.get(inputName)
    if (!tensor) {
      tensor = g.input(inputName, baseWeightShape(h, { name, layout }))
      bound.set(inputName, tensor)
    }
    return tensor
  }
}

/** Which base weights, in which layouts, the decoder reads: found by building it once on a throwaway graph. */
export function decoderWeightRequests(h: ModelHyperparameters): BaseWeightRequest[] {
  const requests: BaseWeightRequest[] = []
  const g = new Graph()
  const seen = new Set<string>()
  const inputs = baseWeightInputs(g, h)
  decoderLogits(g, h, (name, layout) => {
    const key = baseWeightInputName({ name, layout })
    if (!seen.has(key)) {
      seen.add(key)
      requests.push({ name, layout })
    }
    return inputs(name, layout)
  }, g.input('ids', [1, 1], 'int64'))
  return requests
}

interface Manifest {
  version: number
  fingerprint: string
  entries: (OnnxExternalTensor & { inputName: string })[]
}

export interface PreparedBaseWeights {
  /** The folder holding the data file; graphs that reference it must be written here and loaded by path. */
  dir: string
  /** By graph input name. */
  externalInitializers: Map<string, OnnxExternalTensor>
  /** False when an earlier run's file was reused. */
  written: boolean
}

export interface PrepareBaseWeightsOptions {
  signal?: AbortSignal
  onProgress?: (doneBytes: number, totalBytes: number) => void
}

/**
 * Writes the frozen base weights the decoder needs as one fp32 external-data file (matrices transposed to
 * (in, out) so every projection is a plain MatMul), or reuses the file an earlier run left in `cacheDir` for
 * the same model file and requests. The manifest is written last, so a crash mid-way leaves no usable-looking
 * cache behind.
 */
export async function prepareBaseWeights(
  source: ModelSource,
  modelPath: string,
  requests: readonly BaseWeightRequest[],
  cacheRoot: string,
  options: PrepareBaseWeightsOptions = {},
): Promise<PreparedBaseWeights> {
  const fingerprint = await baseWeightsFingerprint(modelPath, requests)
  const dir = join(cacheRoot, fingerprint.slice(0, 16))
  const existing = await readManifest(join(dir, MANIFEST_FILE))
  if (existing?.fingerprint === fingerprint && (await fileSize(join(dir, BASE_WEIGHTS_DATA_FILE))) !== null) {
    return { dir, externalInitializers: new Map(existing.entries.map(({ inputName, ...tensor }) => [inputName, tensor])), written: false }
  }
  await mkdir(dir, { recursive: true })
  await rm(join(dir, MANIFEST_FILE), { force: true })
  const h = source.hyperparameters
  const tensors = new Map(source.tensors.map((t) => [t.name, t]))
  const layout = new ExternalDataLayout(BASE_WEIGHTS_DATA_FILE)
  const planned = requests.map((request) => {
    const tensor = tensors.get(request.name)
    if (!tensor) throw new LecternError('invalid_model_file', `${source.name}: tensor ${request.name} is missing`, { file: modelPath })
    return { request, tensor, entry: layout.add({ name: baseWeightInputName(request), elementType: 'float32', dims: baseWeightShape(h, request) }) }
  })
  const sink = await FileByteSink.create(join(dir, BASE_WEIGHTS_DATA_FILE))
  try {
    for (const { request, tensor, entry } of planned) {
      options.signal?.throwIfAborted()
      await sink.write(new Uint8Array(entry.paddingBeforeBytes))
      const [rows, cols] = tensor.shape.length === 2 ? (tensor.shape as [number, number]) : [1, tensor.shape[0]!]
      const values = await tensor.readRows(0, tensor.shape.length === 2 ? rows : 1)
      const bytes = request.layout === 'projection' ? transposed(values, rows, cols) : values
      await sink.write(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      options.onProgress?.(entry.offsetBytes + entry.lengthBytes, layout.totalBytes)
    }
    await sink.commit()
  } catch (error) {
    await sink.abort()
    throw error
  }
  const entries = planned.map(({ entry }) => ({
    inputName: entry.name,
    elementType: entry.elementType,
    dims: entry.dims,
    location: entry.location,
    offsetBytes: entry.offsetBytes,
    lengthBytes: entry.lengthBytes,
  }))
  const manifest: Manifest = { version: MANIFEST_VERSION, fingerprint, entries }
  await writeFile(join(dir, `${MANIFEST_FILE}.partial`), JSON.stringify(manifest))
  await rename(join(dir, `${MANIFEST_FILE}.partial`), join(dir, MANIFEST_FILE))
  return { dir, externalInitializers: new Map(entries.map(({ inputName, ...tensor }) => [inputName, tensor])), written: true }
}

/** (rows, cols) row-major → (cols, rows), in cache-friendly tiles. */
export function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length)
  const tile = 64
  for (let r0 = 0; r0 < rows; r0 += tile) {
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const rEnd = Math.min(rows, r0 + tile)
      const cEnd = Math.min(cols, c0 + tile)
      for (let r = r0; r < rEnd; r++) for (let c = c0; c < cEnd; c++) out[c * rows + r] = data[r * cols + c]!
    }
  }
  return out
}

/** A model file, or every file of a model folder, by size and modification time; and what is asked of it. */
async function baseWeightsFingerprint(modelPath: string, requests: readonly BaseWeightRequest[]): Promise<string> {
  const hash = createHash('sha256').update(`v${MANIFEST_VERSION}\n${modelPath}\n`)
  const info = await stat(modelPath)
  const files = info.isDirectory() ? (await readdir(modelPath)).sort().map((f) => join(modelPath, f)) : [modelPath]
  for (const file of files) {
    const s = await stat(file)
    if (s.isFile()) hash.update(`${file}:${s.size}:${s.mtimeMs}\n`)
  }
  for (const r of requests) hash.update(`${r.name}:${r.layout}\n`)
  return hash.digest('hex')
}

async function readManifest(path: string): Promise<Manifest | null> {
  try {
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Manifest
    return manifest.version === MANIFEST_VERSION ? manifest : null
  } catch {
    return null
  }
}

async function fileSize(path: string): Promise<number | null> {
  return stat(path).then((s) => s.size, () => null)
}
