import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, extname, join, relative, resolve } from 'node:path'
import { LecternError } from '../../shared/errors.js'
import { DEFAULT_EXPORT_TYPE, type ExportFileInfo, type ExportParams, type ExportType, type ExportVerification, type VerificationCheck } from '../../shared/types/export.js'
import { projectDatasetDir } from '../dataset/datasetFiles.js'
import { DATASET_FILES } from '../dataset/writeDataset.js'
import { readHeldOutTexts } from '../eval/readHeldOut.js'
import { FileByteSink } from '../io/fileBytes.js'
import { HashingSink } from '../io/HashingSink.js'
import type { ModelSource } from '../model/convert/ModelSource.js'
import { planModelGguf } from '../model/convert/writeModelGguf.js'
import type { GgufMetadata, GgufValue } from '../model/gguf/ggufTypes.js'
import { planGgufLayout } from '../model/gguf/writeGguf.js'
import type { GgufFileType } from '../model/quantize/quantMixture.js'
import { loadTensors } from '../train/tensorFiles.js'
import { Tokenizer } from '../model/tokenizers/Tokenizer.js'
import { writeGgufOnThreads } from '../modelFiles/convertModel.js'
import { openModel, type OpenedModel } from '../modelFiles/openModel.js'
import type { QuantizePoolOptions } from '../modelFiles/QuantizePool.js'
import { AdapterForward } from '../train/AdapterForward.js'
import { readAdapterFile } from '../train/adapterFile.js'
import type { AdapterConfig } from '../train/adapters.js'
import { mergedModelSource } from '../train/mergedModelSource.js'
import { readTrainingJsonl } from '../train/trainingData.js'
import { BASE_WEIGHTS_CACHE_DIR } from '../train/trainRun.js'
import type { FinishedTrainRun } from '../train/trainRuns.js'
import { writeClusterBundle } from './clusterBundle.js'
import { checkExportFreeSpace, exportHfFolder, type HfExportDtype } from './hfFolderExport.js'
import { ollamaModelfile } from './ollamaModelfile.js'
import { exportPeftAdapter, PEFT_CONFIG_FILE, peftAdapterTensors } from './peftAdapter.js'
import { compareDistributions, compareTensors, distributionChecks } from './verifyExport.js'

export interface ExportRunHooks {
  signal: AbortSignal
  /** Compute threads: quantizing workers (with `quantizeWorker`) and the verification forward. */
  threads: number
  /** Starts a quantize worker; without it quantization runs on this thread. */
  quantizeWorker?: QuantizePoolOptions['worker']
  log(message: string, level?: 'info' | 'warn' | 'error'): void
  /** `fraction` of the whole export, 0..1. */
  progress(fraction: number, message: string): void
}

export interface ExportRunOutcome {
  /** The final file or folder; nothing is there when verification failed. */
  path: string
  files: ExportFileInfo[]
  verification: ExportVerification
}

/**
 * A test hook: `drop` writes the base weights without the adapter, as a broken merge would, so tests can show
 * that verification catches it. Read from `LECTERN_TEST_CORRUPT_MERGE`; never set in normal use.
 */
function corruptMergeHook(): 'drop' | null {
  return process.env['LECTERN_TEST_CORRUPT_MERGE'] === 'drop' ? 'drop' : null
}

const GGUF_FILE_TYPES: Readonly<Record<ExportType, GgufFileType>> = { f32: 'F32', f16: 'F16', bf16: 'BF16', q8_0: 'Q8_0', q4_k_m: 'Q4_K_M', q5_k_m: 'Q5_K_M' }
const WRITE_SHARE = 0.8
/** Longest window of the verification forward: attention cost grows with its square. */
const VERIFY_WINDOW_TOKENS = 128
/** Temporary names start with this, beside the target, so a killed export's leftovers can be found again. */
export const exportTempPrefix = (target: string): string => `.${basename(target)}.export-`

/** The weight type an export of `params` is written in; null for the adapter and the bundle. */
export function exportType(params: Pick<ExportParams, 'format' | 'type'>): ExportType | null {
  if (params.format === 'adapter' || params.format === 'bundle') return null
  return params.type ?? DEFAULT_EXPORT_TYPE[params.format]
}

/**
 * Exports a finished run in one format, verifies the result, and moves it to its final name only when every
 * check passed. Everything is written beside the target under a hidden temporary name first, so a crash or a
 * cancel leaves nothing under the final name (and `removeExportLeftovers` clears what a killed one left).
 */
export async function exportRun(projectDir: string, run: FinishedTrainRun, params: ExportParams, hooks: ExportRunHooks): Promise<ExportRunOutcome> {
  const target = resolve(params.out)
  if (params.format === 'gguf' && extname(target).toLowerCase() !== '.gguf') {
    throw new LecternError('invalid_argument', `${target}: a GGUF export is a file ending in .gguf`, { file: target })
  }
  if (await stat(target).then(() => true, () => false)) {
    throw new LecternError('invalid_argument', `${target} already exists; choose a new name for the export`, { file: target })
  }
  await mkdir(dirname(target), { recursive: true }).catch((error: Error) => {
    throw new LecternError('io', `${dirname(target)}: cannot create the folder (${error.message})`, { file: target })
  })
  await removeExportLeftovers(target)
  const type = exportType(params)
  const started = performance.now()
  const outcome = await (() => {
    switch (params.format) {
      case 'gguf':
        return exportGgufFile(projectDir, run, params, type!, target, hooks, started)
      case 'ollama':
        return exportOllamaFolder(projectDir, run, params, type!, target, hooks, started)
      case 'safetensors':
        return exportSafetensorsFolder(run, type!, target, hooks, started)
      case 'adapter':
        return exportAdapterFolder(run, target, hooks, started)
      case 'bundle':
        return exportBundle(projectDir, run, params, target, hooks, started)
    }
  })()
  hooks.progress(1, outcome.verification.passed ? 'Verified' : 'Failed verification')
  return outcome
}

/** Removes temporary files and folders an interrupted export of `target` left beside it. */
export async function removeExportLeftovers(target: string): Promise<void> {
  const prefix = exportTempPrefix(target)
  const entries = await readdir(dirname(target)).catch(() => [] as string[])
  for (const name of entries) if (name.startsWith(prefix)) await rm(join(dirname(target), name), { recursive: true, force: true })
}

async function exportGgufFile(projectDir: string, run: FinishedTrainRun, params: ExportParams, type: ExportType, target: string, hooks: ExportRunHooks, started: number): Promise<ExportRunOutcome> {
  const temp = join(dirname(target), `${exportTempPrefix(target)}${process.pid}.gguf`)
  try {
    const { file, verification, tokenizer } = await writeVerifiedGguf(projectDir, run, params, type, temp, hooks, started)
    if (verification.passed) {
      await moveIntoPlace(temp, target)
      const modelfile = await writeModelfileBeside(tokenizer, join(dirname(target), `${basename(target, extname(target))}.Modelfile`), basename(target), hooks)
      return { path: target, files: [{ ...file, name: basename(target) }, modelfile], verification }
    }
    return { path: target, files: [], verification }
  } finally {
    await rm(temp, { force: true })
  }
}

async function exportOllamaFolder(projectDir: string, run: FinishedTrainRun, params: ExportParams, type: ExportType, target: string, hooks: ExportRunHooks, started: number): Promise<ExportRunOutcome> {
  const tempDir = join(dirname(target), `${exportTempPrefix(target)}${process.pid}`)
  try {
    await mkdir(tempDir)
    const ggufName = 'model.gguf'
    const { file, verification, tokenizer } = await writeVerifiedGguf(projectDir, run, params, type, join(tempDir, ggufName), hooks, started)
    if (!verification.passed) return { path: target, files: [], verification }
    const modelfile = await writeModelfileBeside(tokenizer, join(tempDir, 'Modelfile'), `./${ggufName}`, hooks)
    await moveIntoPlace(tempDir, target)
    return { path: target, files: [file, modelfile], verification }
  } finally {
    await rm(tempDir, { recursive: true, force: true })
  }
}

/** The merged model as a GGUF at `path` (its final name is given by the caller), with the distribution checks. */
async function writeVerifiedGguf(
  projectDir: string,
  run: FinishedTrainRun,
  params: ExportParams,
  type: ExportType,
  path: string,
  hooks: ExportRunHooks,
  started: number,
): Promise<{ file: ExportFileInfo; verification: ExportVerification; tokenizer: GgufMetadata }> {
  const opened = await openModel(run.settings.base)
  try {
    const { config, values } = await readAdapterFile(run.adapterFile)
    const merged = namedForExport(corruptMergeHook() === 'drop' ? opened.source : mergedModelSource(opened.source, config, values), opened.source, run, config, params.name)
    const fileType = GGUF_FILE_TYPES[type]
    const { metadata, planned } = planModelGguf(merged, fileType)
    const totalBytes = planGgufLayout(metadata, planned.map((p) => p.toWrite)).layout.totalBytes
    await checkExportFreeSpace(dirname(path), totalBytes)
    hooks.log(`Writing ${merged.name} as ${fileType} (${(totalBytes / 1024 ** 2).toFixed(1)} MiB)`)
    const sink = new HashingSink(basename(path), await FileByteSink.create(path))
    try {
      await writeGgufOnThreads(merged, sink, fileType, {
        threads: hooks.threads,
        ...(hooks.quantizeWorker ? { quantizeWorker: hooks.quantizeWorker } : {}),
        signal: hooks.signal,
        onProgress: (written, total) => hooks.progress((WRITE_SHARE * written) / total, `Writing ${fileType}: ${Math.round((100 * written) / total)}%`),
      })
      await sink.file.commit()
    } catch (error) {
      await sink.file.abort()
      throw error
    }
    const file = sink.result()
    hooks.log(`Written ${file.bytes} bytes, SHA-256 ${file.sha256}`)

    hooks.progress(WRITE_SHARE, 'Verifying: reloading in llama.cpp and comparing with the trained adapter')
    const windows = await verificationWindows(projectDir, run, opened, params.verifyTokens)
    const forward = await AdapterForward.create({
      source: opened.source,
      modelPath: run.settings.base,
      config,
      cacheDir: join(projectDir, BASE_WEIGHTS_CACHE_DIR),
      seqLen: windows[0]!.length,
      threads: hooks.threads,
      prepare: { signal: hooks.signal },
    })
    try {
      const distributions = await compareDistributions({
        ggufPath: path,
        forward,
        adapterValues: values,
        windows,
        type,
        signal: hooks.signal,
        onProgress: (done, total) => hooks.progress(WRITE_SHARE + ((1 - WRITE_SHARE) * done) / total, `Verifying: ${done} of ${total} windows compared`),
      })
      const checks: VerificationCheck[] = [{ name: 'loads in llama.cpp', passed: true, detail: `${planned.length} tensors, ${fileType}` }, ...distributionChecks(distributions, type)]
      return { file, verification: verificationOf(checks, { distributions, tensors: null }, started), tokenizer: merged.tokenizer }
    } finally {
      await forward.release()
    }
  } finally {
    await opened.close()
  }
}

async function exportSafetensorsFolder(run: FinishedTrainRun, type: ExportType, target: string, hooks: ExportRunHooks, started: number): Promise<ExportRunOutcome> {
  const dtype = type.toUpperCase() as HfExportDtype
  let verification: ExportVerification | null = null
  const failed = new LecternError('verification_failed', 'verification failed')
  const { config, values } = await readAdapterFile(run.adapterFile)
  try {
    const result = await exportHfFolder(run.settings.base, corruptMergeHook() === 'drop' ? null : run.adapterFile, target, {
      dtype,
      signal: hooks.signal,
      onProgress: (written, total) => hooks.progress((WRITE_SHARE * written) / total, `Writing ${dtype} safetensors: ${Math.round((100 * written) / total)}%`),
      verify: async (tempDir, written) => {
        hooks.progress(WRITE_SHARE, 'Verifying: re-reading every tensor')
        const base = await openModel(run.settings.base)
        const reread = await openModel(tempDir)
        try {
          const expected = mergedModelSource(base.source, config, values)
          const tensors = await compareTensors(reread.source, expected, base.source, dtype, hooks.signal)
          const checks: VerificationCheck[] = [
            { name: 'tensors re-read equal the merged weights', passed: tensors.maxAbsDiff === 0, detail: `${tensors.tensors} tensors; largest difference after ${dtype} rounding ${tensors.maxAbsDiff}` },
            { name: 'differs from the base model', passed: tensors.changedFromBase > 0, detail: `${tensors.changedFromBase} of ${written.tensors.length} tensors changed by the adapter` },
            ...(await jsonFileChecks(tempDir, ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'])),
          ]
          verification = verificationOf(checks, { distributions: null, tensors }, started)
          if (!verification.passed) throw failed
        } finally {
          await reread.close()
          await base.close()
        }
      },
    })
    return { path: target, files: result.files, verification: verification! }
  } catch (error) {
    if (error === failed && verification !== null) return { path: target, files: [], verification }
    throw error
  }
}

async function exportAdapterFolder(run: FinishedTrainRun, target: string, hooks: ExportRunHooks, started: number): Promise<ExportRunOutcome> {
  const tempDir = join(dirname(target), `${exportTempPrefix(target)}${process.pid}`)
  try {
    const opened = await openModel(run.settings.base)
    const h = opened.source.hyperparameters
    const baseModelName = peftBaseModelName(run.settings.base, opened.source)
    await opened.close()
    hooks.progress(0.2, 'Writing the PEFT adapter')
    const exported = await exportPeftAdapter(run.adapterFile, tempDir, { baseModelName, hyperparameters: h, dropout: run.settings.dropout })
    hooks.log(`base_model_name_or_path is "${baseModelName}"; change it in ${PEFT_CONFIG_FILE} to the Hugging Face id the model is loaded from elsewhere`)
    hooks.progress(WRITE_SHARE, 'Verifying: re-reading the adapter')
    const { config, values } = await readAdapterFile(run.adapterFile)
    const expected = peftAdapterTensors(config, values, h, run.adapterFile)
    const { tensors } = await loadTensors(exported.weightsPath)
    let maxDiff = 0
    let missing = 0
    for (const t of expected) {
      const stored = tensors.get(t.name)
      if (!stored || stored.data.length !== t.data.length) missing++
      else for (let i = 0; i < t.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(stored.data[i]! - t.data[i]!))
    }
    const checks: VerificationCheck[] = [
      { name: 'tensors re-read equal the trained adapter', passed: missing === 0 && maxDiff === 0 && tensors.size === expected.length, detail: `${expected.length} tensors expected, ${tensors.size} stored, ${missing} missing or resized, largest difference ${maxDiff}` },
      { name: 'the adapter is not empty', passed: expected.some((t) => t.data.some((v) => v !== 0)), detail: 'a trained adapter has non-zero weights' },
      ...(await jsonFileChecks(tempDir, [PEFT_CONFIG_FILE])),
    ]
    const verification = verificationOf(checks, { distributions: null, tensors: null }, started)
    if (!verification.passed) return { path: target, files: [], verification }
    const files = await hashFolder(tempDir)
    await moveIntoPlace(tempDir, target)
    return { path: target, files, verification }
  } finally {
    await rm(tempDir, { recursive: true, force: true })
  }
}

async function exportBundle(projectDir: string, run: FinishedTrainRun, params: ExportParams, target: string, hooks: ExportRunHooks, started: number): Promise<ExportRunOutcome> {
  const opened = await openModel(run.settings.base)
  const baseModelName = peftBaseModelName(run.settings.base, opened.source)
  await opened.close()
  hooks.progress(0.2, 'Writing the cluster bundle')
  const result = await writeClusterBundle({ projectDir, runDir: run.runDir, baseModelName, outDir: target, launcher: params.launcher ?? 'accelerate-deepspeed' })
  hooks.log(`Bundle for ${result.hyperparameters.method === 'mora' ? 'MoRA' : 'LoRA'} with ${result.trainLines} training lines; launch: ${result.commands.join(' && ')}`)
  hooks.progress(WRITE_SHARE, 'Verifying the bundle files')
  const jsonFiles = result.files.filter((f) => f.endsWith('.json'))
  const checks: VerificationCheck[] = [
    { name: 'every file written', passed: (await Promise.all(result.files.map((f) => stat(join(target, f)).then(() => true, () => false)))).every(Boolean), detail: `${result.files.length} files` },
    ...(await jsonFileChecks(target, jsonFiles)),
  ]
  const verification = verificationOf(checks, { distributions: null, tensors: null }, started)
  if (!verification.passed) {
    await rm(target, { recursive: true, force: true })
    return { path: target, files: [], verification }
  }
  return { path: target, files: await hashFolder(target), verification }
}

/**
 * The merged source with `general.*` naming the export: its own name, the base it came from (GGUF's
 * `general.base_model.*`), the adaptation in the description and tags. The base's own base-model keys are dropped.
 */
function namedForExport(merged: ModelSource, base: ModelSource, run: FinishedTrainRun, config: AdapterConfig, name: string | null): ModelSource {
  const baseName = stringValue(base.general.get('general.name')) ?? basename(run.settings.base, extname(run.settings.base))
  const method = config.method === 'mora' ? `MoRA type ${config.moraType}` : 'LoRA'
  const str = (value: string): GgufValue => ({ type: 'string', value })
  const general: GgufMetadata = new Map([...base.general].filter(([key]) => !key.startsWith('general.base_model.') && key !== 'general.tags' && key !== 'general.finetune'))
  general.set('general.name', str(name ?? `${baseName} (Lectern ${config.method === 'mora' ? 'MoRA' : 'LoRA'} r${config.rank})`))
  general.set('general.finetune', str(`lectern-${config.method}-r${config.rank}`))
  general.set('general.description', str(`${baseName} with a ${method} adapter of rank ${config.rank} on ${config.targets.join(', ')} merged in; trained by Lectern (${run.runId})`))
  general.set('general.base_model.count', { type: 'u32', value: 1 })
  general.set('general.base_model.0.name', str(baseName))
  for (const key of ['organization', 'repo_url', 'version'] as const) {
    const value = stringValue(base.general.get(`general.${key}`))
    if (value !== null) general.set(`general.base_model.0.${key}`, str(value))
  }
  general.set('general.tags', { type: 'array', elementType: 'string', value: ['lectern', config.method, 'domain-adapted'] })
  return { ...merged, general }
}

function stringValue(value: GgufValue | undefined): string | null {
  return value?.type === 'string' && value.value.trim() !== '' ? value.value : null
}

/** What PEFT's `base_model_name_or_path` gets: the HF folder itself, or the GGUF's model name. */
function peftBaseModelName(basePath: string, source: ModelSource): string {
  if (source.format === 'safetensors') return resolve(basePath)
  return stringValue(source.general.get('general.name')) ?? basename(basePath, extname(basePath))
}

/**
 * Token windows for the distribution check: held-out passages of the project's dataset (text the adapter never
 * trained on), else the run's training text, tokenized as the model reads them and cut into equal windows.
 */
async function verificationWindows(projectDir: string, run: FinishedTrainRun, opened: OpenedModel, tokenCount: number): Promise<number[][]> {
  const tokenizer = Tokenizer.fromGguf(opened.source.tokenizer, opened.source.name)
  const heldOut = join(projectDatasetDir(projectDir), DATASET_FILES.heldOut)
  let texts = (await readHeldOutTexts(heldOut).catch(() => [])).map((d) => d.text)
  if (texts.length === 0) {
    const training = await readTrainingJsonl(run.settings.data).catch(() => null)
    texts = (training?.examples ?? []).map((e) => (e.kind === 'text' ? e.text : e.kind === 'completion' ? `${e.prompt}${e.response}` : e.messages.map((m) => m.content).join('\n')))
  }
  const stream: number[] = []
  for (const text of texts) {
    if (stream.length >= tokenCount) break
    stream.push(...tokenizer.encode(text, { addSpecial: true }))
  }
  const windowLength = Math.min(VERIFY_WINDOW_TOKENS, opened.source.hyperparameters.contextLength, stream.length, tokenCount)
  if (windowLength < 8) {
    throw new LecternError('not_found', `There is no text to verify the export on: build the dataset (its held-out part) or keep the run's training data (${run.settings.data})`, { file: heldOut })
  }
  const windows: number[][] = []
  for (let start = 0; start + windowLength <= stream.length && windows.length * windowLength < tokenCount; start += windowLength) windows.push(stream.slice(start, start + windowLength))
  return windows
}

/** A `Modelfile` at `path` for the GGUF `from` points at, whose tokenizer metadata (chat template, special tokens) is `tokenizer`. */
async function writeModelfileBeside(tokenizer: GgufMetadata, path: string, from: string, hooks: ExportRunHooks): Promise<ExportFileInfo> {
  const tokens = tokenizer.get('tokenizer.ggml.tokens')
  const list = tokens?.type === 'array' && tokens.elementType === 'string' ? tokens.value : []
  const idText = (key: string): string | null => {
    const id = tokenizer.get(key)
    return id !== undefined && typeof id.value === 'number' ? (list[id.value] ?? null) : null
  }
  const eot = idText('tokenizer.ggml.eot_token_id')
  const modelfile = ollamaModelfile({
    ggufFileName: from,
    chatTemplate: stringValue(tokenizer.get('tokenizer.chat_template')),
    tokens: { bos: idText('tokenizer.ggml.bos_token_id') ?? '', eos: idText('tokenizer.ggml.eos_token_id') ?? '', ...(eot === null ? {} : { eot: [eot] }) },
  })
  for (const warning of modelfile.warnings) hooks.log(`Modelfile: ${warning}`, 'warn')
  const sink = new HashingSink(basename(path), await FileByteSink.create(path))
  try {
    await sink.write(new TextEncoder().encode(modelfile.text))
    await sink.file.commit()
  } catch (error) {
    await sink.file.abort()
    throw error
  }
  return sink.result()
}

async function jsonFileChecks(dir: string, names: readonly string[]): Promise<VerificationCheck[]> {
  const bad: string[] = []
  for (const name of names) {
    try {
      const value: unknown = JSON.parse(await readFile(join(dir, name), 'utf8'))
      if (typeof value !== 'object' || value === null) bad.push(`${name} (not an object)`)
    } catch (error) {
      bad.push(`${name} (${(error as Error).message})`)
    }
  }
  return [{ name: 'JSON files parse', passed: bad.length === 0, detail: bad.length === 0 ? names.join(', ') : `invalid: ${bad.join('; ')}` }]
}

function verificationOf(checks: VerificationCheck[], parts: Pick<ExportVerification, 'distributions' | 'tensors'>, started: number): ExportVerification {
  return { passed: checks.every((c) => c.passed), checks, ...parts, elapsedMs: Math.round(performance.now() - started) }
}

async function moveIntoPlace(from: string, target: string): Promise<void> {
  if (await stat(target).then(() => true, () => false)) {
    throw new LecternError('invalid_argument', `${target} appeared while the export ran; the export was not moved there`, { file: target })
  }
  await rename(from, target).catch((error: Error) => {
    throw new LecternError('io', `${target}: cannot move the finished export into place (${error.message})`, { file: target })
  })
}

/** Every file under `dir` with its size and SHA-256, by relative path. */
async function hashFolder(dir: string): Promise<ExportFileInfo[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const files: ExportFileInfo[] = []
  for (const entry of entries) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    const hash = createHash('sha256')
    let bytes = 0
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer)
      bytes += (chunk as Buffer).length
    }
    files.push({ name: relative(dir, path).split('\\').join('/'), bytes, sha256: hash.digest('hex') })
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}
