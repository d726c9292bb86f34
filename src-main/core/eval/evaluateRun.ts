import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Llama } from 'node-llama-cpp'
import { LecternError } from '../../shared/errors.js'
import type { EvalModelMetrics, EvalParams, EvalQuestion, EvalReport } from '../../shared/types/export.js'
import type { LogLevel } from '../../shared/types/jobs.js'
import { GENERAL_TEXT_FILE, resourcePath } from '../app/resourcesDir.js'
import { DATASET_FILES, type HeldOutDocument, type HeldOutQa } from '../dataset/writeDataset.js'
import { projectDatasetDir } from '../dataset/datasetFiles.js'
import { loadCheckedLlamaModel } from '../llm/loadLlamaModel.js'
import { convertModel } from '../modelFiles/convertModel.js'
import type { GgufFileType } from '../model/quantize/quantMixture.js'
import { derivedRandom } from '../train/random.js'
import type { FinishedTrainRun } from '../train/trainRuns.js'
import { evaluateClosedBookQa, type ClosedBookQaResult } from './closedBookQa.js'
import { measurePerplexity, type PerplexityResult } from './perplexity.js'
import { readHeldOutQa, readHeldOutTexts } from './readHeldOut.js'
import { tokenizeForScoring } from './SequenceScorer.js'

export interface EvaluateRunOptions {
  /** The evaluation job's id, recorded in the report. */
  jobId: string
  signal?: AbortSignal
  /** Progress through the whole evaluation (conversions, then each model's measurements). */
  onProgress?: (done: number, total: number, message: string) => void
  log?: (message: string, level?: LogLevel) => void
  /** A llama.cpp instance to load the models with. Defaults to one made (and disposed) here. */
  llama?: Llama
}

const GGUF_TYPES: Readonly<Record<EvalParams['type'], GgufFileType>> = { f32: 'F32', f16: 'F16', bf16: 'BF16', q8_0: 'Q8_0' }

/** Share of the progress bar each phase takes: the two conversions, then the two models' measurements. */
const PROGRESS_TOTAL = 1000
const CONVERT_SHARE = 0.1
const MODEL_SHARE = (1 - 2 * CONVERT_SHARE) / 2

/** Where the base model's GGUF at `type` is cached: keyed by the base's path, size and modification time. */
export async function baseEvalGgufPath(projectDir: string, basePath: string, type: EvalParams['type']): Promise<string> {
  return join(projectDir, 'cache', 'eval-base', `${await sourceFingerprint(basePath)}-${type}.gguf`)
}

/** The run's merged model at `type`, written next to its adapter. */
export function adaptedEvalGgufPath(run: FinishedTrainRun, type: EvalParams['type']): string {
  return join(run.runDir, 'eval', `adapted-${type}.gguf`)
}

/**
 * Evaluates a finished run against its base model: both are written as GGUFs of the same type (the base's cached
 * per project, the merged one kept in the run folder) and read by llama.cpp, one model at a time with one
 * single-thread context. Each model gets held-out perplexity (a seeded sample of the dataset's held-out passages),
 * perplexity on the generic text shipped in resources/, and closed-book QA on the held-out questions. A missing
 * held-out file is a note in the report, not a failure: the general-text check always runs.
 */
export async function evaluateRun(projectDir: string, run: FinishedTrainRun, params: EvalParams, options: EvaluateRunOptions): Promise<EvalReport> {
  const { signal, onProgress, log = () => {} } = options
  const report = (fraction: number, message: string): void => onProgress?.(Math.min(PROGRESS_TOTAL, Math.round(fraction * PROGRESS_TOTAL)), PROGRESS_TOTAL, message)
  signal?.throwIfAborted()
  const notes: string[] = []

  const datasetDir = projectDatasetDir(projectDir)
  const allTexts = await readOptional(join(datasetDir, DATASET_FILES.heldOut), readHeldOutTexts, signal)
  const allQuestions = await readOptional(join(datasetDir, DATASET_FILES.heldOutQa), readHeldOutQa, signal)
  if (allTexts === null && allQuestions === null) notes.push('No dataset has been built: held-out perplexity and QA were skipped (build one with lectern dataset)')
  else {
    if (allTexts === null) notes.push(`No ${DATASET_FILES.heldOut} in ${datasetDir}: held-out perplexity was skipped (rebuild the dataset)`)
    else if (allTexts.length === 0) notes.push('The dataset holds out no passages: held-out perplexity was skipped (build with --heldout above 0)')
    if (allQuestions === null || allQuestions.length === 0) notes.push('No held-out questions: generate QA pairs (lectern comprehend --mode llm) and rebuild the dataset')
  }
  const texts = sample(allTexts ?? [], params.maxTexts, params.seed, 'eval.texts')
  let questions = sample(allQuestions ?? [], params.maxQuestions, params.seed, 'eval.questions')
  if (allTexts !== null && texts.length < allTexts.length) notes.push(`Held-out perplexity on a seeded sample of ${texts.length} of ${allTexts.length} passages`)
  if (allQuestions !== null && questions.length < allQuestions.length) notes.push(`Closed-book QA on a seeded sample of ${questions.length} of ${allQuestions.length} questions`)
  const general = await readGeneralText(signal)

  const type = params.type
  const ggufType = GGUF_TYPES[type]
  const basePath = resolve(run.settings.base)
  const baseModel = await baseEvalGgufPath(projectDir, basePath, type)
  if (await isFile(baseModel)) log(`Reusing the base model at ${type}: ${baseModel}`)
  else {
    log(`Writing the base model at ${type}: ${baseModel}`)
    await mkdir(join(projectDir, 'cache', 'eval-base'), { recursive: true })
    await convertModel(basePath, baseModel, { format: 'gguf', type: ggufType }, withSignal(signal, { onProgress: (w: number, t: number) => report(CONVERT_SHARE * ratio(w, t), `Writing the base model at ${type}`) }))
  }
  report(CONVERT_SHARE, `Base model at ${type} ready`)
  const adaptedModel = adaptedEvalGgufPath(run, type)
  if (await isNewer(adaptedModel, run.adapterFile)) log(`Reusing the merged model at ${type}: ${adaptedModel}`)
  else {
    log(`Merging ${run.runId}'s adapter into the base at ${type}: ${adaptedModel}`)
    await mkdir(join(run.runDir, 'eval'), { recursive: true })
    await convertModel(basePath, adaptedModel, { format: 'gguf', type: ggufType }, withSignal(signal, { adapter: run.adapterFile, onProgress: (w: number, t: number) => report(CONVERT_SHARE * (1 + ratio(w, t)), `Merging the adapter at ${type}`) }))
  }
  report(2 * CONVERT_SHARE, `Merged model at ${type} ready`)

  const ownsLlama = options.llama === undefined
  const llama = options.llama ?? (await createLlama())
  try {
    const measured: ModelMeasurements[] = []
    let contextSize = params.contextSize
    for (const [index, which] of (['base', 'adapted'] as const).entries()) {
      const start = 2 * CONVERT_SHARE + index * MODEL_SHARE
      const loaded = await loadCheckedLlamaModel(which === 'base' ? baseModel : adaptedModel, { llama })
      try {
        // Beyond the length it was trained at, a model's scores say nothing; both models share the limit.
        contextSize = Math.min(params.contextSize, loaded.model.trainContextSize)
        if (index === 0) {
          // Both models share the base's tokenizer, so the questions that fit are the same for both.
          const fitting = questions.filter((q) => tokenizeForScoring(loaded.model, ` ${q.answer}`).length <= contextSize / 2)
          if (fitting.length < questions.length) notes.push(`${questions.length - fitting.length} held-out questions whose answer takes over half the context (${contextSize} tokens) were left out`)
          questions = fitting
          if (questions.length === 1) notes.push('Only one held-out question: it has no distractors, so its accuracy says nothing')
        }
        measured.push(await measureModel(loaded, which, { texts, general, questions, params, contextSize, signal, log, report: (f, m) => report(start + MODEL_SHARE * f, m) }))
      } finally {
        await loaded.dispose()
      }
    }
    if (contextSize < params.contextSize) notes.push(`The models were trained on ${contextSize} tokens of context, so ${contextSize} was used instead of ${params.contextSize}`)
    const [base, adapted] = measured as [ModelMeasurements, ModelMeasurements]
    report(1, 'Evaluation done')
    return {
      runId: run.runId,
      jobId: options.jobId,
      createdAtMs: Date.now(),
      type,
      contextSize,
      base: metrics(base),
      adapted: metrics(adapted),
      heldOutTexts: texts.length,
      questions: pairQuestions(questions, base.qa, adapted.qa),
      notes,
      baseModel,
      adaptedModel,
    }
  } finally {
    if (ownsLlama) await llama.dispose()
  }
}

interface ModelMeasurements {
  heldOut: PerplexityResult | null
  general: PerplexityResult
  qa: ClosedBookQaResult | null
}

async function measureModel(
  loaded: Awaited<ReturnType<typeof loadCheckedLlamaModel>>,
  which: 'base' | 'adapted',
  settings: {
    texts: HeldOutDocument[]
    general: string[]
    questions: HeldOutQa[]
    params: EvalParams
    contextSize: number
    signal: AbortSignal | undefined
    log: (message: string, level?: LogLevel) => void
    report: (fraction: number, message: string) => void
  },
): Promise<ModelMeasurements> {
  const { texts, general, questions, params, contextSize, signal, report } = settings
  const label = which === 'base' ? 'Base' : 'Adapted'
  // Each part's share of this model's time, roughly by the work it does (QA scores 4 options and may generate).
  const weights = [texts.length, general.length, questions.length * (params.generate ? 6 : 4)]
  const sum = weights.reduce((a, b) => a + b, 0) || 1
  const shares = weights.map((w) => w / sum)
  const scoring = { contextSize, contexts: 1, ...(signal ? { signal } : {}) }

  let heldOut: PerplexityResult | null = null
  if (texts.length > 0) {
    heldOut = await measurePerplexity(loaded, texts.map((t) => t.text), {
      ...scoring,
      onProgress: (p) => report(shares[0]! * ratio(p.tokensScored, p.tokensTotal), `${label}: held-out perplexity, ${p.textsDone} of ${p.textsTotal} passages`),
    })
  }
  const generalResult = await measurePerplexity(loaded, general, {
    ...scoring,
    onProgress: (p) => report(shares[0]! + shares[1]! * ratio(p.tokensScored, p.tokensTotal), `${label}: general-text perplexity, ${p.textsDone} of ${p.textsTotal} passages`),
  })
  let qa: ClosedBookQaResult | null = null
  if (questions.length > 0) {
    qa = await evaluateClosedBookQa(loaded, questions, {
      ...scoring,
      seed: params.seed,
      generate: params.generate,
      onProgress: (p) => report(shares[0]! + shares[1]! + shares[2]! * ratio(p.done, p.total), `${label}: closed-book QA, ${p.done} of ${p.total} questions`),
    })
  }
  settings.log(
    `${label}: held-out perplexity ${formatFigure(heldOut?.perplexity)}, general ${formatFigure(generalResult.perplexity)}` +
      (qa === null ? '' : `, QA accuracy ${formatFigure(qa.accuracy)}${qa.f1 === null ? '' : `, F1 ${formatFigure(qa.f1)}`}`),
  )
  return { heldOut, general: generalResult, qa }
}

function metrics(m: ModelMeasurements): EvalModelMetrics {
  return {
    heldOutPerplexity: finiteOrNull(m.heldOut?.perplexity),
    heldOutTokens: m.heldOut?.tokens ?? 0,
    generalPerplexity: finiteOrNull(m.general.perplexity),
    generalTokens: m.general.tokens,
    qaAccuracy: finiteOrNull(m.qa?.accuracy),
    qaExactMatch: finiteOrNull(m.qa?.exactMatch),
    qaF1: finiteOrNull(m.qa?.f1),
  }
}

function pairQuestions(items: readonly HeldOutQa[], base: ClosedBookQaResult | null, adapted: ClosedBookQaResult | null): EvalQuestion[] {
  if (base === null || adapted === null) return []
  return items.map((item, i) => {
    const answer = (record: ClosedBookQaResult['records'][number]): EvalQuestion['base'] => ({
      correct: record.correct,
      prediction: record.prediction,
      f1: record.f1,
      referenceNll: record.options.find((o) => o.isReference)?.meanNll ?? Number.NaN,
    })
    return {
      question: item.question,
      reference: item.answer,
      documentId: item.document_id,
      chunkId: item.chunk_id ?? null,
      base: answer(base.records[i]!),
      adapted: answer(adapted.records[i]!),
    }
  })
}

/**
 * Up to `k` of `items`, drawn uniformly by a stream seeded with (seed, label), kept in file order. All of them
 * when there are no more than `k`.
 */
export function sample<T>(items: readonly T[], k: number, seed: number, label: string): T[] {
  if (items.length <= k) return [...items]
  const indices = items.map((_, i) => i)
  const random = derivedRandom(seed, label)
  for (let i = 0; i < k; i++) {
    const j = i + random.nextBelow(indices.length - i)
    ;[indices[i], indices[j]] = [indices[j]!, indices[i]!]
  }
  return indices
    .slice(0, k)
    .sort((a, b) => a - b)
    .map((i) => items[i]!)
}

/** The passages of the general-text regression set shipped in resources/. */
export async function readGeneralText(signal?: AbortSignal): Promise<string[]> {
  const path = await resourcePath(GENERAL_TEXT_FILE)
  const texts = await readFile(path, { encoding: 'utf8', ...(signal ? { signal } : {}) })
  const out: string[] = []
  texts.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      throw new LecternError('invalid_argument', `${path}:${i + 1}: not valid JSON (${(error as Error).message})`, { file: path, cause: error })
    }
    const text = (value as { text?: unknown } | null)?.text
    if (typeof text !== 'string' || text.trim() === '') throw new LecternError('invalid_argument', `${path}:${i + 1}: expected {"text": "…"}`, { file: path })
    out.push(text)
  })
  if (out.length === 0) throw new LecternError('invalid_argument', `${path}: the general-text set is empty`, { file: path })
  return out
}

async function createLlama(): Promise<Llama> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp')
  return getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
}

async function readOptional<T>(path: string, read: (path: string, signal?: AbortSignal) => Promise<T[]>, signal: AbortSignal | undefined): Promise<T[] | null> {
  try {
    return await read(path, signal)
  } catch (error) {
    if ((error as { code?: string }).code === 'not_found') return null
    throw error
  }
}

/**
 * What identifies a model's bytes without hashing them: its resolved path, and the size and modification time
 * of the file, or of every file directly in the folder for a Hugging Face folder.
 */
async function sourceFingerprint(path: string): Promise<string> {
  const hash = createHash('sha256').update(path)
  let info
  try {
    info = await stat(path)
  } catch (error) {
    throw new LecternError('not_found', `The run's base model ${path} is gone; put it back to evaluate the run`, { file: path, cause: error })
  }
  if (info.isDirectory()) {
    for (const name of (await readdir(path)).sort()) {
      const file = await stat(join(path, name))
      if (file.isFile()) hash.update(`\n${name}\n${file.size}\n${file.mtimeMs}`)
    }
  } else hash.update(`\n${info.size}\n${info.mtimeMs}`)
  return hash.digest('hex').slice(0, 24)
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

/** `path` exists and was written after `than` last changed. */
async function isNewer(path: string, than: string): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([stat(path), stat(than)])
    return a.isFile() && a.mtimeMs > b.mtimeMs
  } catch {
    return false
  }
}

function withSignal<T extends object>(signal: AbortSignal | undefined, options: T): T & { signal?: AbortSignal } {
  return signal ? { ...options, signal } : options
}

function ratio(done: number, total: number): number {
  return total > 0 ? Math.min(1, done / total) : 1
}

function finiteOrNull(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value
}

function formatFigure(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(3)
}
