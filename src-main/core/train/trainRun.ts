import { createHash } from 'node:crypto'
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LecternError } from '../../shared/errors.js'
import type { TrainParams, TrainStepMetrics } from '../../shared/types/train.js'
import type { ModelHyperparameters } from '../model/hyperparameters.js'
import { Tokenizer } from '../model/tokenizers/Tokenizer.js'
import { openModel } from '../modelFiles/openModel.js'
import { writeAdapterFile } from './adapterFile.js'
import { planAdapters, type AdapterConfig, type AdapterPlan } from './adapters.js'
import { decoderWeightRequests, prepareBaseWeights } from './baseWeights.js'
import { loadCheckpoint, saveCheckpoint } from './checkpoints.js'
import { chooseExecutionProvider, probeExecutionProviders } from './executionProviders.js'
import type { ExecutionProviderName, ExecutionProviderProbe } from './executionProviders.js'
import { availableMemoryBytes, planFit, type FitPlan } from './fitPlanner.js'
import { DEFAULT_ADAMW } from './optimizer.js'
import { seededRandom } from './random.js'
import { learningRateAt } from './schedule.js'
import { TrainingEngine, type TrainingEngineSetup } from './TrainingEngine.js'
import { nextBatch, packSequences, readTrainingJsonl, stepsPerEpoch, tokenizeExamples, type BatchCursor, type PackedDataset } from './trainingData.js'

/** Where `lectern train` without --data looks: the dataset the project's data step builds. */
export const PROJECT_TRAINING_DATA = join('artifacts', 'dataset', 'train.jsonl')
export const RUNS_DIR = 'runs'
export const BASE_WEIGHTS_CACHE_DIR = join('cache', 'base-weights')
export const METRICS_FILE = 'metrics.jsonl'
export const RUN_CONFIG_FILE = 'config.json'
/** The trained adapter of a finished run, in the run folder. */
export const ADAPTER_FILE = 'adapter.safetensors'

/** Settings with every `null` default resolved; stored in the run's config.json. */
export interface ResolvedTrainSettings extends TrainParams {
  data: string
  /** No --data: the project's built dataset. */
  usesProjectDataset: boolean
  moraType: 1 | 6
  loraAlpha: number
  lr: number
}

export function resolveTrainSettings(params: TrainParams, projectDir: string): ResolvedTrainSettings {
  return {
    ...params,
    data: params.data ?? join(projectDir, PROJECT_TRAINING_DATA),
    usesProjectDataset: params.data === null,
    moraType: params.moraType ?? (params.rank <= 32 ? 6 : 1),
    loraAlpha: params.loraAlpha ?? 2 * params.rank,
    lr: params.lr ?? (params.method === 'mora' ? 3e-4 : 2e-4),
  }
}

/** The trainer's JSON state inside a checkpoint. */
interface TrainerState {
  step: number
  cursor: BatchCursor
  dataFingerprint: string
  settingsFingerprint: string
  tokensSeen: number
  elapsedMs: number
}

export interface TrainRunHooks {
  signal: AbortSignal
  /** Compute threads for the ORT sessions when the settings do not name a count. */
  threads: number
  log(message: string, level?: 'info' | 'warn' | 'error'): void
  progress(done: number, total: number, message?: string): void
  onStep(metrics: TrainStepMetrics): void
  /** A checkpoint was written (the job stores where, so a resumed job continues from it). */
  onCheckpoint(dir: string, step: number): void
  /**
   * Execution provider probes already made or being made (the app's hardware report). The run waits for them
   * (cancellable) up to `knownExecutionProvidersWaitMs`; without them, when they come to null or do not come in
   * time, the run probes itself.
   */
  knownExecutionProviders?: Promise<readonly ExecutionProviderProbe[] | null> | null | undefined
  /** Defaults to `KNOWN_PROBES_WAIT_MS`. */
  knownExecutionProvidersWaitMs?: number | undefined
}

/**
 * How long a run waits for the hardware report's provider probes before probing on its own: they take a few
 * seconds, 30 s each at worst when a GPU driver hangs.
 */
export const KNOWN_PROBES_WAIT_MS = 60_000

export interface TrainRunResult {
  runDir: string
  steps: number
  finalLoss: number | null
  trainableParameters: number
  provider: string
  adapterFile: string
}

/**
 * Everything that can be refused is checked here, before any heavy work: the model opens and is supported,
 * the adapter settings fit its layers, the dataset is readable and not empty, and the estimated memory fits.
 */
/** The adapters a run with `settings` trains. */
export function adapterConfigOf(settings: ResolvedTrainSettings): AdapterConfig {
  return {
    method: settings.method,
    rank: settings.rank,
    moraType: settings.moraType,
    targets: settings.targets,
    loraAlpha: settings.loraAlpha,
    rsLora: settings.rsLora,
    dropout: settings.dropout,
  }
}

/** Whether a run fits in memory, and what it was checked against. */
export interface RunFit {
  fit: FitPlan
  /** The device checked: `auto` is checked as the CPU. */
  provider: ExecutionProviderName
  /** The memory the run may use: the device's (this machine's RAM where it cannot be read), capped by `memoryLimitBytes`. */
  availableBytes: number
  /** Whether the device's memory could be read. */
  availableKnown: boolean
}

/** The memory-fit check of a run with `settings`: its adapters `plan` on the model `h`, at its sequence length and batch. */
export function planRunFit(h: ModelHyperparameters, plan: AdapterPlan, settings: ResolvedTrainSettings): RunFit {
  const provider = settings.device === 'auto' ? 'cpu' : settings.device
  const deviceMemory = availableMemoryBytes(provider)
  const availableBytes = Math.min(deviceMemory ?? availableMemoryBytes('cpu')!, memoryLimitBytes())
  const fit = planFit({
    hyperparameters: h,
    trainableParameters: plan.trainableParameters,
    adapterSites: plan.sites.length,
    dropoutMaskedFeatures: settings.dropout > 0 ? plan.sites.reduce((sum, site) => sum + site.inFeatures, 0) : 0,
    seqLen: settings.seqLen,
    batch: settings.batch,
    provider,
    availableBytes,
    elementBytes: 4,
  })
  return { fit, provider, availableBytes, availableKnown: deviceMemory !== null }
}

export async function prepareTrainRun(settings: ResolvedTrainSettings, hooks: Pick<TrainRunHooks, 'log'>) {
  const opened = await openModel(settings.base)
  try {
    const source = opened.source
    const h = source.hyperparameters
    const config = adapterConfigOf(settings)
    const plan = planAdapters(h, config)
    const tokenizer = Tokenizer.fromGguf(source.tokenizer, source.name)
    if (settings.usesProjectDataset && !(await stat(settings.data).then(() => true, () => false))) {
      throw new LecternError('not_found', `This project has no built dataset yet (${settings.data}); build it first, or pass --data <file.jsonl>`, { file: settings.data })
    }
    const examples = await readTrainingJsonl(settings.data)
    hooks.log(examples.summary)
    const dataset = packSequences(tokenizeExamples(examples.examples, tokenizer), settings.seqLen)
    const perEpoch = stepsPerEpoch(dataset.sequenceCount, settings.batch, settings.gradAccum)
    const totalSteps = settings.steps ?? Math.max(1, Math.ceil(settings.epochs * perEpoch))
    const { fit, provider, availableKnown } = planRunFit(h, plan, settings)
    if (!availableKnown) hooks.log(`The memory of the ${provider} device cannot be read; the fit check below uses this machine's RAM`, 'warn')
    if (!fit.fits) throw new LecternError('invalid_argument', fit.message + (fit.suggestion ? ` ${fit.suggestion}` : ''))
    hooks.log(
      `${settings.method === 'mora' ? `MoRA type ${settings.moraType}` : 'LoRA'} rank ${settings.rank} on ${settings.targets.join(',')}: ` +
        `${plan.trainableParameters.toLocaleString('en-US')} trainable parameters; ${dataset.sequenceCount} sequences of ${settings.seqLen} tokens; ${totalSteps} steps`,
    )
    return { opened, h, config, plan, dataset, totalSteps, fit }
  } catch (error) {
    await opened.close()
    throw error
  }
}

/**
 * Trains adapters on the base model: the fused forward+backward graph per micro-batch, gradients summed over
 * the accumulation window on the host, then the AdamW graph. Resumes exactly from a checkpoint: parameters,
 * moments, step and data cursor are restored, and dropout masks are regenerated from (seed, step, micro-batch,
 * site) rather than from RNG history.
 */
export async function runTraining(projectDir: string, runDir: string, settings: ResolvedTrainSettings, resumeFrom: string | null, hooks: TrainRunHooks): Promise<TrainRunResult> {
  const { opened, h, config, plan, dataset, totalSteps } = await prepareTrainRun(settings, hooks)
  let engine: TrainingEngine | null = null
  try {
    await mkdir(runDir, { recursive: true })
    const dataFingerprint = fingerprintDataset(dataset)
    const settingsFingerprint = createHash('sha256').update(JSON.stringify({ ...settings, steps: null, epochs: null, checkpointEvery: null, threads: null, device: null })).digest('hex')
    await writeFile(join(runDir, RUN_CONFIG_FILE), JSON.stringify({ settings, totalSteps, trainableParameters: plan.trainableParameters, sites: plan.sites.length, dataFingerprint }, null, 1))

    const probes = await executionProviderProbes(hooks)
    const chosen = chooseExecutionProvider(settings.device, probes)
    if (chosen.warning) hooks.log(chosen.warning, 'warn')
    hooks.progress(0, totalSteps, 'Preparing base weights')
    const base = await prepareBaseWeights(opened.source, settings.base, decoderWeightRequests(h), join(projectDir, BASE_WEIGHTS_CACHE_DIR), {
      signal: hooks.signal,
      onProgress: (done, total) => hooks.progress(0, totalSteps, `Preparing base weights ${Math.round((100 * done) / total)}%`),
    })
    if (!base.written) hooks.log('Reusing the base weights prepared by an earlier run')
    await opened.close()
    engine = await TrainingEngine.create({
      hyperparameters: h,
      plan,
      config,
      ...engineStepSettings(settings),
      provider: chosen.provider,
      threads: settings.threads ?? hooks.threads,
      base,
      graphFileName: `gradients-${createHash('sha256').update(runDir).digest('hex').slice(0, 12)}.onnx`,
    })

    let state: TrainerState = { step: 0, cursor: { epoch: 0, position: 0 }, dataFingerprint, settingsFingerprint, tokensSeen: 0, elapsedMs: 0 }
    if (resumeFrom) {
      const checkpoint = await loadCheckpoint<TrainerState>(resumeFrom)
      if (checkpoint.state.dataFingerprint !== dataFingerprint) {
        throw new LecternError('invalid_argument', `The training data changed since ${resumeFrom} was written; start a new run instead of resuming`, { file: settings.data })
      }
      if (checkpoint.state.settingsFingerprint !== settingsFingerprint) {
        throw new LecternError('invalid_argument', `The run's settings differ from those of ${resumeFrom}; start a new run instead of resuming`)
      }
      engine.restore(checkpoint, resumeFrom)
      state = checkpoint.state
      await truncateMetrics(runDir, state.step)
      hooks.log(`Resuming at step ${state.step} of ${totalSteps}`)
    } else {
      engine.initialize(seededRandom(settings.seed).nextFloat)
      await writeFile(join(runDir, METRICS_FILE), '')
    }

    const checkpointNow = async (): Promise<void> => {
      const dir = await saveCheckpoint(runDir, state.step, { params: engine!.params, firstMoments: engine!.firstMoments, secondMoments: engine!.secondMoments, state })
      hooks.onCheckpoint(dir, state.step)
    }
    const schedule = { kind: settings.schedule, peak: settings.lr, warmupSteps: Math.round(settings.warmupRatio * totalSteps), totalSteps }
    let lastLoss: number | null = null
    hooks.progress(state.step, totalSteps, `Step ${state.step} of ${totalSteps}`)
    while (state.step < totalSteps) {
      if (hooks.signal.aborted) {
        await checkpointNow()
        hooks.signal.throwIfAborted()
      }
      const started = performance.now()
      const lr = learningRateAt(state.step, schedule)
      const batches = []
      let cursor = state.cursor
      for (let micro = 0; micro < settings.gradAccum; micro++) {
        const next = nextBatch(dataset, cursor, settings.batch, settings.seed)
        batches.push(next)
        cursor = next.cursor
      }
      const outcome = await engine.step(batches, lr, state.step)
      const stepMs = performance.now() - started
      state = { ...state, step: state.step + 1, cursor, tokensSeen: state.tokensSeen + outcome.weight, elapsedMs: state.elapsedMs + stepMs }
      lastLoss = outcome.weight > 0 ? outcome.lossSum / outcome.weight : 0
      if (!Number.isFinite(lastLoss)) throw new LecternError('internal', `The loss became ${lastLoss} at step ${state.step}; lower the learning rate (now ${settings.lr})`)
      const metrics: TrainStepMetrics = {
        step: state.step,
        totalSteps,
        loss: lastLoss,
        lr,
        gradNorm: outcome.gradNorm,
        tokensPerSecond: (settings.gradAccum * settings.batch * settings.seqLen) / (stepMs / 1000),
        tokens: outcome.weight,
        epoch: cursor.epoch + cursor.position / Math.max(1, dataset.sequenceCount),
        elapsedMs: state.elapsedMs,
      }
      await appendFile(join(runDir, METRICS_FILE), JSON.stringify(metrics) + '\n')
      hooks.onStep(metrics)
      hooks.progress(state.step, totalSteps, `Step ${state.step} of ${totalSteps} · loss ${lastLoss.toFixed(4)} · lr ${lr.toExponential(1)} · ${Math.round(metrics.tokensPerSecond)} tok/s`)
      if (state.step % settings.checkpointEvery === 0 || state.step === totalSteps) await checkpointNow()
      await new Promise((resolve) => setImmediate(resolve))
    }
    const adapterFile = join(runDir, ADAPTER_FILE)
    await writeAdapterFile(adapterFile, config, engine.params)
    return { runDir, steps: state.step, finalLoss: lastLoss, trainableParameters: plan.trainableParameters, provider: chosen.provider, adapterFile }
  } finally {
    await engine?.release()
    await opened.close()
  }
}

/** The probes a run chooses its provider from: the known ones when they come in time, else its own. */
async function executionProviderProbes(hooks: TrainRunHooks): Promise<readonly ExecutionProviderProbe[]> {
  const known = hooks.knownExecutionProviders
  if (known) {
    const waitMs = hooks.knownExecutionProvidersWaitMs ?? KNOWN_PROBES_WAIT_MS
    const arrived = await untilSettledOrAborted(known, hooks.signal, waitMs)
    if (arrived === 'timed out') hooks.log(`The hardware report's execution provider probes have not come in ${waitMs / 1000} s; probing here instead`, 'warn')
    else if (arrived !== null) return arrived
  }
  return probeExecutionProviders({ signal: hooks.signal })
}

/** `promise`'s value, or 'timed out' after `timeoutMs`; rejects with the abort reason as soon as `signal` aborts. */
function untilSettledOrAborted<T>(promise: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T | 'timed out'> {
  signal.throwIfAborted()
  return new Promise((resolve, reject) => {
    const onAbort = (): void => finish(() => reject(signal.reason))
    const timer = setTimeout(() => finish(() => resolve('timed out')), timeoutMs)
    const finish = (settle: () => void): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      settle()
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    )
  })
}

/** The parts of the engine's setup that come straight from the run's settings. */
export function engineStepSettings(settings: ResolvedTrainSettings): Pick<TrainingEngineSetup, 'batch' | 'seqLen' | 'seed' | 'adamw'> {
  return {
    batch: settings.batch,
    seqLen: settings.seqLen,
    seed: settings.seed,
    adamw: { ...DEFAULT_ADAMW, weightDecay: settings.weightDecay, maxGradNorm: settings.maxGradNorm },
  }
}

/**
 * A cap the user can put on what training may use, `LECTERN_MEMORY_LIMIT` in bytes or with a unit (`12GiB`,
 * `800MB`); unlimited when unset.
 */
export function memoryLimitBytes(value = process.env['LECTERN_MEMORY_LIMIT']): number {
  if (value === undefined || value.trim() === '') return Number.POSITIVE_INFINITY
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib)?\s*$/i.exec(value)
  if (!match) throw new LecternError('invalid_argument', `LECTERN_MEMORY_LIMIT must be a size such as 12GiB or 800MB, not "${value}"`)
  const units: Record<string, number> = { b: 1, kb: 1e3, kib: 2 ** 10, mb: 1e6, mib: 2 ** 20, gb: 1e9, gib: 2 ** 30, tb: 1e12, tib: 2 ** 40 }
  return Number(match[1]) * units[(match[2] ?? 'b').toLowerCase()]!
}

function fingerprintDataset(dataset: PackedDataset): string {
  const hash = createHash('sha256')
  hash.update(`${dataset.sequenceCount}:${dataset.seqLen}\n`)
  hash.update(new Uint8Array(dataset.tokens.buffer, dataset.tokens.byteOffset, dataset.tokens.byteLength))
  hash.update(new Uint8Array(dataset.weights.buffer, dataset.weights.byteOffset, dataset.weights.byteLength))
  return hash.digest('hex')
}

/** After a resume, the metrics of steps past the checkpoint are dropped: the resumed run writes them again. */
async function truncateMetrics(runDir: string, step: number): Promise<void> {
  const path = join(runDir, METRICS_FILE)
  const text = await readFile(path, 'utf8').catch(() => '')
  const kept = text.split('\n').filter((line) => line.trim() !== '' && (JSON.parse(line) as TrainStepMetrics).step <= step)
  await writeFile(path, kept.map((l) => l + '\n').join(''))
}
