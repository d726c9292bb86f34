/**
 * `npm run bench:train [-- --quick] [-- --profile] [-- --opt-level=basic]`: speed of one training step (fused
 * forward + backward, then AdamW) on a Llama-shaped random model (768 wide, 12 blocks, FFN 2048, 12 heads,
 * vocab 32000: 110 M weights plus an untied 25 M head), 256 tokens per step, MoRA r8 type 6 on all seven
 * projections, against named baselines:
 *
 * - MatMul peak: `measureMatMulPeak` on this machine, at the thread count of the run, for the model's own
 *   projection shapes and the default 512×2048×2048; the best and the default shape again right after each
 *   run's steps, in its process, because this kind of VM changes speed from minute to minute. Achieved GFLOP/s
 *   = MatMul FLOPs of the lowered gradient graph (`graphCost`) / median step time; the issue's target is
 *   ≥ 60% of the peak on CPU.
 * - Forward alone: the same graph without gradients (`buildGradientGraph(…, {withGradients: false})`), the
 *   same feeds and session options, so the step splits into forward, backward (gradient run − forward),
 *   optimizer and host copies (`StepOutcome.timings`).
 * - LoRA r8, dropout 0.05 and one thread, each next to the default run.
 *
 * Each phase runs in its own child process, so its `maxRSS` (the kernel's high-water mark, base weights mapped
 * from the cache file included) belongs to that phase alone; the CPU time other processes took meanwhile is
 * printed next to it, since two threads on two cores lose most to a single busy neighbour. `--profile` adds
 * ORT's per-kernel profile of a gradient run and a forward run at the faster thread count (time by op type,
 * GFLOP/s of each MatMul kind, slowest nodes); `--opt-level` sets their graph optimization level. Figures are
 * printed, never asserted: speed targets live here, not in tests.
 */
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { graphCost, type GraphCost } from '../../src-main/core/autodiff/graphCost.js'
import { flatTargetIndices } from '../../src-main/core/autodiff/layers.js'
import { lowerToOnnx } from '../../src-main/core/autodiff/toOnnx.js'
import type { ModelHyperparameters } from '../../src-main/core/model/hyperparameters.js'
import { initialAdapterValues, planAdapters, type AdapterConfig } from '../../src-main/core/train/adapters.js'
import { BASE_WEIGHTS_DATA_FILE, decoderWeightRequests, prepareBaseWeights } from '../../src-main/core/train/baseWeights.js'
import { detectComputeThreads, sessionThreadOptions } from '../../src-main/core/train/executionProviders.js'
import { measureMatMulPeak, type MatMulPeak, type MatMulShape } from '../../src-main/core/train/matmulPeak.js'
import { DEFAULT_ADAMW } from '../../src-main/core/train/optimizer.js'
import { seededRandom } from '../../src-main/core/train/random.js'
import { BASE_WEIGHTS_CACHE_DIR, prepareTrainRun, resolveTrainSettings, type ResolvedTrainSettings } from '../../src-main/core/train/trainRun.js'
import { buildGradientGraph, GRADIENT_GRAPH } from '../../src-main/core/train/trainGraphs.js'
import { TrainingEngine, type StepTimings } from '../../src-main/core/train/TrainingEngine.js'
import { nextBatch, type Batch, type BatchCursor } from '../../src-main/core/train/trainingData.js'
import { trainParamsSchema } from '../../src-main/shared/types/train.js'
import { writeTinyGgufModel } from '../fixtures/tinyModels.js'
import { TINY_WORDS } from '../fixtures/tokenizers/tinyTokenizers.js'
import { benchEntry, forkPhaseWithOthers, mb, table, withBenchRun } from './benchSupport.js'
import { RssSampler, type RssReport } from './RssSampler.js'
import { summarizeOrtProfile, type ProfileSummary } from './train/ortProfile.js'

/** The target of the issue: achieved MatMul throughput of a training step over the measured peak, on CPU. */
const TARGET_RATIO = 0.6
const TARGETS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const
/** Untimed runs of a bare session: ORT plans its memory pattern in the first and allocates it in the second. */
const SESSION_WARM_UP_RUNS = 2

interface Preset {
  hyperparameters: Partial<ModelHyperparameters>
  /**
   * Scales the random weights (tinyWeights): the embedding and head have std `gain`, so logits have std about
   * gain·√width. 0.05 keeps the first loss near ln(vocab) instead of in the hundreds.
   */
  gain: number
  seqLen: number
  batch: number
  warmupSteps: number
  steps: number
  /** Timed forward-only runs (after SESSION_WARM_UP_RUNS). */
  forwardRuns: number
  /** measureMatMulPeak seconds per shape. */
  peakSeconds: number
}

const PRESETS: Record<'full' | 'quick', Preset> = {
  full: {
    hyperparameters: { vocabSize: 32000, embeddingLength: 768, blockCount: 12, feedForwardLength: 2048, headCount: 12, headCountKv: 12, headDim: 64, contextLength: 2048 },
    gain: 0.05,
    seqLen: 256,
    batch: 1,
    warmupSteps: 2,
    steps: 8,
    forwardRuns: 6,
    peakSeconds: 1,
  },
  quick: {
    hyperparameters: { vocabSize: 8000, embeddingLength: 256, blockCount: 4, feedForwardLength: 704, headCount: 4, headCountKv: 4, headDim: 64, contextLength: 512 },
    gain: 0.05,
    seqLen: 128,
    batch: 1,
    warmupSteps: 2,
    steps: 4,
    forwardRuns: 3,
    peakSeconds: 0.25,
  },
}

interface RunSpec {
  method: 'mora' | 'lora'
  dropout: number
  threads: number
}

interface ModelFiles {
  dir: string
  ggufPath: string
  dataPath: string
  cacheRoot: string
  hyperparameters: ModelHyperparameters
}

type PhaseSpec =
  | { kind: 'idle' }
  | { kind: 'setup'; dir: string; preset: Preset }
  /** `peakShapes` are measured in the same process right after the steps, so step and peak share the CPU's state. */
  | { kind: 'train'; model: ModelFiles; preset: Preset; run: RunSpec; peakShapes: MatMulShape[] }
  | { kind: 'session'; model: ModelFiles; preset: Preset; run: RunSpec; withGradients: boolean; runs: number; profile: boolean; optimizationLevel: OptimizationLevel }
  | { kind: 'peak'; threads: number; shapes: MatMulShape[]; seconds: number }

type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all'

interface PhaseResult {
  seconds: number
  rss: RssReport
  /** CPU time of the child process over its whole life (start-up included). */
  cpuSeconds: number
  /**
   * Set by the parent: CPU that other processes used while the child lived, in cores (machine busy time from
   * `os.cpus()` minus the child's own). Anything well above 0 means the figures of that phase are disturbed.
   */
  othersCores?: number
  setup?: { model: ModelFiles; writeSeconds: number; prepareSeconds: number; baseBytes: number }
  train?: {
    createMs: number
    /** RSS right after the sessions were created (base weights mapped and pre-packed), before any step. */
    rssAfterCreateBytes: number
    stepMs: number[]
    timings: StepTimings[]
    losses: number[]
    trainableParameters: number
    /** Over the timed steps, per step: minor page faults and system CPU ms (fresh memory being mapped). */
    faultsPerStep: number
    systemMsPerStep: number
    /** measureMatMulPeak of `peakShapes` after the steps, at the run's thread count. */
    peaks: MatMulPeak[]
  }
  session?: { createMs: number; runMs: number[]; profile: ProfileSummary | null }
  peaks?: MatMulPeak[]
}

// ------------------------------------------------------------------------------------------- child: one phase

async function runPhaseHere(spec: PhaseSpec): Promise<PhaseResult> {
  const sampler = await RssSampler.start(50)
  const start = performance.now()
  const partial = await phaseBody(spec)
  const seconds = (performance.now() - start) / 1000
  const rss = await sampler.stop()
  const cpu = process.cpuUsage()
  return { ...partial, seconds, rss, cpuSeconds: (cpu.user + cpu.system) / 1e6 }
}

async function phaseBody(spec: PhaseSpec): Promise<Omit<PhaseResult, 'seconds' | 'rss' | 'cpuSeconds'>> {
  switch (spec.kind) {
    case 'idle':
      await new Promise((resolve) => setTimeout(resolve, 500))
      return {}
    case 'setup':
      return { setup: await setUpModel(spec.dir, spec.preset) }
    case 'train':
      return { train: await trainSteps(spec.model, spec.preset, spec.run, spec.peakShapes) }
    case 'session':
      return { session: await timeSession(spec) }
    case 'peak': {
      const peaks: MatMulPeak[] = []
      for (const size of spec.shapes) peaks.push(await measureMatMulPeak({ threads: spec.threads, size, seconds: spec.seconds }))
      return { peaks }
    }
  }
}

/** The random model (GGUF, F32), a JSONL of random words, and the base weights prepared once into the cache. */
async function setUpModel(dir: string, preset: Preset): Promise<NonNullable<PhaseResult['setup']>> {
  let t0 = performance.now()
  const model = await writeTinyGgufModel(dir, { architecture: 'llama', gain: preset.gain, hyperparameters: preset.hyperparameters })
  const writeSeconds = (performance.now() - t0) / 1000
  const random = seededRandom(7)
  const words = (count: number): string => Array.from({ length: count }, () => TINY_WORDS[random.nextBelow(TINY_WORDS.length)]).join(' ')
  const dataPath = join(dir, 'data.jsonl')
  await writeFile(dataPath, Array.from({ length: 64 }, () => JSON.stringify({ text: words(2 * preset.seqLen) })).join('\n') + '\n')
  const files: ModelFiles = { dir, ggufPath: model.ggufPath, dataPath, cacheRoot: join(dir, BASE_WEIGHTS_CACHE_DIR), hyperparameters: model.hyperparameters }
  await rm(join(dir, 'hf'), { recursive: true, force: true })
  t0 = performance.now()
  const { base } = await openRun(files, preset, { method: 'mora', dropout: 0, threads: 1 })
  return { model: files, writeSeconds, prepareSeconds: (performance.now() - t0) / 1000, baseBytes: (await stat(join(base.dir, BASE_WEIGHTS_DATA_FILE))).size }
}

function settingsOf(model: ModelFiles, preset: Preset, run: RunSpec): ResolvedTrainSettings {
  const params = trainParamsSchema.parse({
    base: model.ggufPath,
    data: model.dataPath,
    method: run.method,
    rank: 8,
    moraType: 6,
    targets: [...TARGETS],
    dropout: run.dropout,
    seqLen: preset.seqLen,
    batch: preset.batch,
    steps: preset.warmupSteps + preset.steps,
    threads: run.threads,
  })
  return resolveTrainSettings(params, model.dir)
}

/** What `runTraining` does before its loop: checks and plans the run, then prepares (or reuses) the base weights. */
async function openRun(model: ModelFiles, preset: Preset, run: RunSpec) {
  const settings = settingsOf(model, preset, run)
  const prepared = await prepareTrainRun(settings, { log: (message, level) => level && level !== 'info' && process.stderr.write(`  ${level}: ${message}\n`) })
  try {
    const base = await prepareBaseWeights(prepared.opened.source, settings.base, decoderWeightRequests(prepared.h), model.cacheRoot)
    return { settings, ...prepared, base }
  } finally {
    await prepared.opened.close()
  }
}

function batchesFrom(dataset: Parameters<typeof nextBatch>[0], settings: ResolvedTrainSettings, count: number): Batch[] {
  const batches: Batch[] = []
  let cursor: BatchCursor = { epoch: 0, position: 0 }
  for (let i = 0; i < count; i++) {
    const next = nextBatch(dataset, cursor, settings.batch, settings.seed)
    batches.push(next)
    cursor = next.cursor
  }
  return batches
}

/** The training step as `runTraining` drives it: TrainingEngine.step on one micro-batch, timed from outside. */
async function trainSteps(model: ModelFiles, preset: Preset, run: RunSpec, peakShapes: MatMulShape[]): Promise<NonNullable<PhaseResult['train']>> {
  const { settings, h, plan, config, dataset, base } = await openRun(model, preset, run)
  const t0 = performance.now()
  const engine = await TrainingEngine.create({
    hyperparameters: h,
    plan,
    config,
    batch: settings.batch,
    seqLen: settings.seqLen,
    seed: settings.seed,
    adamw: { ...DEFAULT_ADAMW, weightDecay: settings.weightDecay, maxGradNorm: settings.maxGradNorm },
    provider: 'cpu',
    threads: run.threads,
    base,
    graphFileName: `bench-gradients-${process.pid}.onnx`,
  })
  const createMs = performance.now() - t0
  const rssAfterCreateBytes = process.memoryUsage.rss()
  let released = false
  try {
    engine.initialize(seededRandom(settings.seed).nextFloat)
    const stepMs: number[] = []
    const timings: StepTimings[] = []
    const losses: number[] = []
    let usageAtFirstTimedStep = process.resourceUsage()
    for (const [step, batch] of batchesFrom(dataset, settings, preset.warmupSteps + preset.steps).entries()) {
      if (step === preset.warmupSteps) usageAtFirstTimedStep = process.resourceUsage()
      const started = performance.now()
      const outcome = await engine.step([batch], settings.lr, step)
      const ms = performance.now() - started
      losses.push(outcome.lossSum / outcome.weight)
      if (step >= preset.warmupSteps) {
        stepMs.push(ms)
        timings.push(outcome.timings)
      }
      process.stderr.write(` ${step + 1}:${Math.round(ms)}ms`)
    }
    process.stderr.write('\n')
    const usage = process.resourceUsage()
    await engine.release()
    released = true
    // The training's maxRSS is already set; these sessions are far smaller than the training's.
    const peaks: MatMulPeak[] = []
    for (const size of peakShapes) peaks.push(await measureMatMulPeak({ threads: run.threads, size, seconds: preset.peakSeconds }))
    return {
      createMs,
      rssAfterCreateBytes,
      stepMs,
      timings,
      losses,
      trainableParameters: plan.trainableParameters,
      faultsPerStep: (usage.minorPageFault - usageAtFirstTimedStep.minorPageFault) / preset.steps,
      systemMsPerStep: (usage.systemCPUTime - usageAtFirstTimedStep.systemCPUTime) / 1000 / preset.steps,
      peaks,
    }
  } finally {
    if (!released) await engine.release()
  }
}

/**
 * One session of the gradient graph (or its forward part alone) built, lowered and opened as TrainingEngine
 * does, fed what TrainingEngine.step feeds: the same thread options and optimization level, initial adapter
 * values, fresh dropout masks. Optionally with ORT's profiler on.
 */
async function timeSession(spec: Extract<PhaseSpec, { kind: 'session' }>): Promise<NonNullable<PhaseResult['session']>> {
  const { settings, h, plan, config, dataset, base } = await openRun(spec.model, spec.preset, spec.run)
  const { batch: B, seqLen: T } = settings
  const built = buildGradientGraph(h, plan, config, B, T, { withGradients: spec.withGradients })
  const path = join(base.dir, `bench-session-${process.pid}.onnx`)
  await writeFile(path, lowerToOnnx(built.graph, built.outputs, { elementType: 'float32', externalInitializers: base.externalInitializers }))
  const profileDir = join(spec.model.dir, `profile-${process.pid}`)
  if (spec.profile) await mkdir(profileDir, { recursive: true })
  const t0 = performance.now()
  const session = await ort.InferenceSession.create(path, {
    ...sessionThreadOptions(spec.run.threads),
    executionProviders: ['cpu'],
    graphOptimizationLevel: spec.optimizationLevel,
    ...(spec.profile ? { enableProfiling: true, profileFilePrefix: join(profileDir, 'ort') } : {}),
  })
  const createMs = performance.now() - t0
  try {
    const random = seededRandom(settings.seed)
    const initial = initialAdapterValues(plan, config, random.nextFloat)
    const batches = batchesFrom(dataset, settings, SESSION_WARM_UP_RUNS + spec.runs)
    const runMs: number[] = []
    for (const [i, batch] of batches.entries()) {
      const weight = batch.weights.reduce((s, w) => s + w, 0)
      const feeds: Record<string, ort.Tensor> = {
        [GRADIENT_GRAPH.tokenIds]: new ort.Tensor('int64', batch.tokenIds, [B, T]),
        [GRADIENT_GRAPH.flatTargets]: new ort.Tensor('int64', flatTargetIndices(batch.targets, h.vocabSize), [B * T]),
        [GRADIENT_GRAPH.tokenWeights]: new ort.Tensor('float32', batch.weights, [B * T]),
        [GRADIENT_GRAPH.lossScale]: new ort.Tensor('float32', Float32Array.of(weight > 0 ? 1 / weight : 0), []),
      }
      for (const site of plan.sites) for (const p of site.params) feeds[GRADIENT_GRAPH.param(p.name)] = new ort.Tensor('float32', initial.get(p.name)!, [...p.shape])
      for (const { weightName, shape } of built.dropoutMasks) {
        const mask = new Float32Array(shape.reduce((a, b) => a * b, 1))
        for (let k = 0; k < mask.length; k++) mask[k] = random.nextFloat() < config.dropout ? 0 : 1 / (1 - config.dropout)
        feeds[GRADIENT_GRAPH.dropout(weightName)] = new ort.Tensor('float32', mask, shape)
      }
      const started = performance.now()
      await session.run(feeds)
      if (i >= SESSION_WARM_UP_RUNS) runMs.push(performance.now() - started)
    }
    let profile: ProfileSummary | null = null
    if (spec.profile) {
      session.endProfiling()
      const file = (await readdir(profileDir)).find((f) => f.endsWith('.json'))
      if (!file) throw new Error(`ORT wrote no profile into ${profileDir}`)
      profile = await summarizeOrtProfile(join(profileDir, file), SESSION_WARM_UP_RUNS)
    }
    return { createMs, runMs, profile }
  } finally {
    await session.release()
    await rm(path, { force: true })
    await rm(profileDir, { recursive: true, force: true })
  }
}

// ------------------------------------------------------------------------------------------ parent: the run

const runPhase = (spec: PhaseSpec): Promise<PhaseResult> => forkPhaseWithOthers<PhaseSpec, PhaseResult>(import.meta.url, spec)

interface RunResult {
  label: string
  run: RunSpec
  train: PhaseResult
  forward: PhaseResult
  /** MatMul work of the lowered graphs, counted before ORT fuses anything. */
  gradientCost: GraphCost
  forwardCost: GraphCost
}

interface ProfileResult {
  label: string
  gradient: PhaseResult
  forward: PhaseResult
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const withProfile = process.argv.includes('--profile')
  const levelArg = process.argv.find((a) => a.startsWith('--opt-level='))?.slice('--opt-level='.length) as OptimizationLevel | undefined
  const profileLevel: OptimizationLevel = levelArg ?? 'all'
  const preset = quick ? PRESETS.quick : PRESETS.full
  await withBenchRun('lectern-train-bench-', async ({ dir, log, elapsedSeconds }) => {
    const compute = await detectComputeThreads()
    const threadCounts = [...new Set([compute.threads, 1])]
    log('idle process')
    const idle = await runPhase({ kind: 'idle' })
    log('write the random model and prepare its base weights')
    const setup = (await runPhase({ kind: 'setup', dir, preset })).setup!
    const { model } = setup
    const h = model.hyperparameters

    const specs: { label: string; run: RunSpec }[] = [
      { label: 'MoRA r8 t6', run: { method: 'mora', dropout: 0, threads: compute.threads } },
      ...threadCounts.filter((t) => t !== compute.threads).map((threads) => ({ label: 'MoRA r8 t6', run: { method: 'mora' as const, dropout: 0, threads } })),
      { label: 'LoRA r8', run: { method: 'lora', dropout: 0, threads: compute.threads } },
      { label: 'MoRA r8 t6, dropout 0.05', run: { method: 'mora', dropout: 0.05, threads: compute.threads } },
    ]
    const shapes = peakShapes(h, preset)
    const peaks = new Map<number, MatMulPeak[]>()
    const peakPhases: PhaseResult[] = []
    for (const threads of threadCounts) {
      log(`MatMul peak, ${threads} thread(s): ${shapes.length} shapes × ${preset.peakSeconds} s`)
      const phase = await runPhase({ kind: 'peak', threads, shapes: shapes.map((s) => s.shape), seconds: preset.peakSeconds })
      peakPhases.push(phase)
      peaks.set(threads, phase.peaks!)
    }

    const runs: RunResult[] = []
    for (const { label, run } of specs) {
      log(`${label}, ${run.threads} thread(s): ${preset.warmupSteps} warm-up + ${preset.steps} timed steps, then the best and the default MatMul peak`)
      const peakShapesHere = [bestOf(peaks.get(run.threads)!).shape, DEFAULT_PEAK_SHAPE]
      const train = await runPhase({ kind: 'train', model, preset, run, peakShapes: peakShapesHere })
      log(`${label}, ${run.threads} thread(s): forward alone, ${preset.forwardRuns} timed runs`)
      const forward = await runPhase({ kind: 'session', model, preset, run, withGradients: false, runs: preset.forwardRuns, profile: false, optimizationLevel: 'all' })
      runs.push({ label, run, train, forward, ...costsOf(h, preset, run) })
    }

    let profile: ProfileResult | null = null
    if (withProfile) {
      // At the thread count whose MoRA step was fastest: what the profile shows is then what is left to gain.
      const fastest = runs.filter((x) => x.run.method === 'mora' && x.run.dropout === 0).reduce((a, b) => (splitOf(b).stepMs < splitOf(a).stepMs ? b : a))
      const run: RunSpec = { method: 'mora', dropout: 0, threads: fastest.run.threads }
      const runsToProfile = quick ? 2 : 3
      log(`ORT profile (optimization '${profileLevel}'): gradient run`)
      const gradient = await runPhase({ kind: 'session', model, preset, run, withGradients: true, runs: runsToProfile, profile: true, optimizationLevel: profileLevel })
      log(`ORT profile (optimization '${profileLevel}'): forward run`)
      const forward = await runPhase({ kind: 'session', model, preset, run, withGradients: false, runs: runsToProfile, profile: true, optimizationLevel: profileLevel })
      profile = { label: `MoRA r8 t6, ${run.threads} thread(s), optimization '${profileLevel}'`, gradient, forward }
    }
    report({ quick, preset, h, compute, idle, setup, runs, shapes, peaks, peakPhases, profile, totalSeconds: elapsedSeconds() })
  })
}

function costsOf(h: ModelHyperparameters, preset: Preset, run: RunSpec): { gradientCost: GraphCost; forwardCost: GraphCost } {
  const config: AdapterConfig = { method: run.method, rank: 8, moraType: 6, targets: [...TARGETS], loraAlpha: 16, rsLora: false, dropout: run.dropout }
  const plan = planAdapters(h, config)
  const cost = (withGradients: boolean): GraphCost => {
    const { graph, outputs } = buildGradientGraph(h, plan, config, preset.batch, preset.seqLen, { withGradients })
    return graphCost(graph, outputs)
  }
  return { gradientCost: cost(true), forwardCost: cost(false) }
}

/** measureMatMulPeak's default size (specs/onnxruntime-node.md §4). */
const DEFAULT_PEAK_SHAPE: MatMulShape = { m: 512, k: 2048, n: 2048 }

const bestOf = (peaks: readonly MatMulPeak[]): MatMulPeak => peaks.reduce((a, b) => (b.gflops > a.gflops ? b : a))

/** The model's projection shapes at this step's token count (forward x·W, and dX = G·Wᵀ of the head), and the default. */
function peakShapes(h: ModelHyperparameters, preset: Preset): { label: string; shape: MatMulShape }[] {
  const m = preset.batch * preset.seqLen
  const { embeddingLength: E, feedForwardLength: F, vocabSize: V } = h
  const q = h.headCount * h.headDim
  return [
    { label: 'q, o (and k, v without GQA)', shape: { m, k: E, n: q } },
    { label: 'gate, up; dX of down', shape: { m, k: E, n: F } },
    { label: 'down; dX of gate, up', shape: { m, k: F, n: E } },
    { label: 'lm head', shape: { m, k: E, n: V } },
    { label: 'dX of lm head', shape: { m, k: V, n: E } },
    { label: 'default of measureMatMulPeak', shape: DEFAULT_PEAK_SHAPE },
  ]
}

// ------------------------------------------------------------------------------------------------- report

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const gflop = (flops: number): string => (flops / 1e9).toFixed(1)
const pct = (x: number): string => `${(100 * x).toFixed(0)}%`

interface StepSplit {
  stepMs: number
  gradientMs: number
  forwardMs: number
  backwardMs: number
  optimizerMs: number
  hostMs: number
  otherMs: number
}

function splitOf(r: RunResult): StepSplit {
  const t = r.train.train!
  const pick = (key: keyof StepTimings): number => median(t.timings.map((x) => x[key]))
  const stepMs = median(t.stepMs)
  const gradientMs = pick('gradientMs')
  const forwardMs = median(r.forward.session!.runMs)
  const optimizerMs = pick('optimizerMs')
  const hostMs = pick('feedMs') + pick('accumulateMs') + pick('copyMs')
  return { stepMs, gradientMs, forwardMs, backwardMs: gradientMs - forwardMs, optimizerMs, hostMs, otherMs: stepMs - gradientMs - optimizerMs - hostMs }
}

function report(r: {
  quick: boolean
  preset: Preset
  h: ModelHyperparameters
  compute: Awaited<ReturnType<typeof detectComputeThreads>>
  idle: PhaseResult
  setup: NonNullable<PhaseResult['setup']>
  runs: RunResult[]
  shapes: { label: string; shape: MatMulShape }[]
  peaks: Map<number, MatMulPeak[]>
  peakPhases: PhaseResult[]
  profile: ProfileResult | null
  totalSeconds: number
}): void {
  const { h, preset } = r
  const out: string[] = []
  const tokens = preset.batch * preset.seqLen
  const weights = (r.setup.baseBytes / 4 / 1e6).toFixed(1)
  // The peaks measured in the run's own process, right after its steps (see PhaseSpec 'train').
  const bestPeak = (run: RunResult): MatMulPeak => bestOf(run.train.train!.peaks)
  const defaultPeak = (run: RunResult): MatMulPeak => run.train.train!.peaks[1]!
  const idleRss = r.idle.rss.maxRssBytes
  out.push(`Lectern training-step benchmark (${r.quick ? 'quick' : 'full'}): npm run bench:train${r.quick ? ' -- --quick' : ''}`)
  out.push(
    `model    llama, width ${h.embeddingLength}, FFN ${h.feedForwardLength}, ${h.blockCount} blocks, ${h.headCount} heads / ${h.headCountKv} KV × ${h.headDim}, vocab ${h.vocabSize}: ` +
      `${weights} M weights (f32 base file ${mb(r.setup.baseBytes, 0)} MB, mapped by ORT), random, gain ${preset.gain}`,
  )
  out.push(`step     batch ${preset.batch} × seq ${preset.seqLen} = ${tokens} tokens, gradAccum 1; median of ${preset.steps} steps after ${preset.warmupSteps} warm-up; CPU EP, graph optimization 'all' (as TrainingEngine)`)
  out.push(`adapters rank 8 on ${TARGETS.join(',')} of every block; MoRA type 6 unless LoRA is named; dropout 0 unless named`)
  out.push(`machine  ${cpus()[0]?.model ?? '?'}, ${cpus().length} logical cores; detectComputeThreads: ${r.compute.threads} (physical ${r.compute.physicalCores ?? '?'}, ${r.compute.source})`)
  out.push(`setup    model written in ${r.setup.writeSeconds.toFixed(1)} s, base weights prepared in ${r.setup.prepareSeconds.toFixed(1)} s; idle child maxRSS ${mb(idleRss, 0)} MB; whole run ${r.totalSeconds.toFixed(0)} s`)
  const mora = r.runs[0]!
  out.push(
    `FLOPs    per step, counted on the lowered graph (graphCost): MatMul ${gflop(mora.gradientCost.matmulFlops)} G (forward ${gflop(mora.forwardCost.matmulFlops)} G, ` +
      `${mora.gradientCost.matmulNodes} MatMul nodes), elementwise ${gflop(mora.gradientCost.elementwiseOps)} G ops, reductions ${gflop(mora.gradientCost.reducedElements)} G elements, ` +
      `data movement ${gflop(mora.gradientCost.movedElements)} G elements (MoRA r8 t6)`,
  )
  const disturbed = [...r.runs.flatMap((run) => [run.train, run.forward]), ...r.peakPhases].filter((p) => (p.othersCores ?? 0) > 0.15)
  if (disturbed.length > 0) {
    const worst = Math.max(...disturbed.map((p) => p.othersCores ?? 0))
    out.push(`WARNING  other processes kept up to ${worst.toFixed(2)} cores busy during ${disturbed.length} timed phase(s): those figures (multi-threaded ones most) are not this code's`)
  }
  out.push('')

  out.push('Training step (TrainingEngine.step; tok/s = tokens / median step; GFLOP/s = MatMul FLOPs of the step / median step; peaks measured right after the steps, in the same process)')
  const rows: (string | number)[][] = [['run', 'threads', 'trainable', 'tok/s', 'step ms', 'MatMul GFLOP', 'GFLOP/s', 'vs best peak', 'vs default peak', 'create ms', 'RSS created MB', 'maxRSS MB', 'above idle', 'others', 'loss first→last']]
  for (const run of r.runs) {
    const t = run.train.train!
    const split = splitOf(run)
    const gflops = run.gradientCost.matmulFlops / (split.stepMs * 1e6)
    rows.push([
      run.label,
      run.run.threads,
      t.trainableParameters.toLocaleString('en-US'),
      (tokens / (split.stepMs / 1000)).toFixed(1),
      split.stepMs.toFixed(0),
      gflop(run.gradientCost.matmulFlops),
      gflops.toFixed(1),
      pct(gflops / bestPeak(run).gflops),
      pct(gflops / defaultPeak(run).gflops),
      t.createMs.toFixed(0),
      mb(t.rssAfterCreateBytes, 0),
      mb(run.train.rss.maxRssBytes, 0),
      mb(run.train.rss.maxRssBytes - idleRss, 0),
      (run.train.othersCores ?? 0).toFixed(2),
      `${t.losses[0]!.toFixed(3)}→${t.losses.at(-1)!.toFixed(3)}`,
    ])
  }
  out.push(table(rows, (i) => i > 0 && i < 14))
  out.push(`  loss of a uniform guess: ln(${h.vocabSize}) = ${Math.log(h.vocabSize).toFixed(3)}; others = cores other processes kept busy during the phase (0 on a quiet machine);`)
  out.push('  RSS created = right after TrainingEngine.create (weights mapped, pre-packed, constant-folded), maxRSS = the phase\'s high-water mark')
  out.push('')

  out.push('Where the step goes (ms, medians; backward = gradient run − forward-only run; host = feed + accumulate + copy)')
  const splitRows: (string | number)[][] = [
    ['run', 'threads', 'step', 'forward', 'backward', 'optimizer', 'host', 'other', 'fwd GFLOP/s', 'bwd GFLOP/s', 'bwd/fwd time', 'bwd/fwd FLOPs', 'fwd maxRSS MB', 'faults/step', 'sys ms/step'],
  ]
  for (const run of r.runs) {
    const s = splitOf(run)
    const fwdFlops = run.forwardCost.matmulFlops
    const bwdFlops = run.gradientCost.matmulFlops - fwdFlops
    splitRows.push([
      run.label,
      run.run.threads,
      s.stepMs.toFixed(0),
      `${s.forwardMs.toFixed(0)} (${pct(s.forwardMs / s.stepMs)})`,
      `${s.backwardMs.toFixed(0)} (${pct(s.backwardMs / s.stepMs)})`,
      `${s.optimizerMs.toFixed(1)} (${pct(s.optimizerMs / s.stepMs)})`,
      `${s.hostMs.toFixed(1)} (${pct(s.hostMs / s.stepMs)})`,
      s.otherMs.toFixed(1),
      (fwdFlops / (s.forwardMs * 1e6)).toFixed(1),
      (bwdFlops / (s.backwardMs * 1e6)).toFixed(1),
      (s.backwardMs / s.forwardMs).toFixed(2),
      (bwdFlops / fwdFlops).toFixed(2),
      mb(run.forward.rss.maxRssBytes, 0),
      run.train.train!.faultsPerStep.toFixed(0),
      run.train.train!.systemMsPerStep.toFixed(1),
    ])
  }
  out.push(table(splitRows, (i) => i > 0))
  out.push('  other = step − the parts, each a median of its own; faults/step and sys ms/step: minor page faults and kernel CPU time per timed step (fresh memory being mapped in)')
  out.push('')

  out.push(`MatMul peak of this machine (measureMatMulPeak: W an initializer, median of runs over ${preset.peakSeconds} s per shape)`)
  const threadCounts = [...r.peaks.keys()]
  const peakRows: (string | number)[][] = [['shape m×k×n', 'what', ...threadCounts.flatMap((t) => [`${t}T ms`, `${t}T GFLOP/s`])]]
  r.shapes.forEach(({ label, shape }, i) => {
    peakRows.push([`${shape.m}×${shape.k}×${shape.n}`, label, ...threadCounts.flatMap((t) => [r.peaks.get(t)![i]!.msPerRun.toFixed(2), r.peaks.get(t)![i]!.gflops.toFixed(1)])])
  })
  out.push(table(peakRows, (i) => i > 1))
  out.push(`  others: ${r.peakPhases.map((p, i) => `${threadCounts[i]}T ${(p.othersCores ?? 0).toFixed(2)} cores`).join(', ')}`)
  out.push('')

  out.push(`Achieved / peak (target ≥ ${pct(TARGET_RATIO)} on CPU; peak = the best shape's, measured right after the run's steps; the peak table's figure in brackets)`)
  for (const run of r.runs) {
    const s = splitOf(run)
    const achieved = run.gradientCost.matmulFlops / (s.stepMs * 1e6)
    const best = bestPeak(run)
    const ratio = achieved / best.gflops
    const separate = bestOf(r.peaks.get(run.run.threads)!)
    out.push(
      `  ${`${run.label}, ${run.run.threads}T`.padEnd(34)} ${achieved.toFixed(1).padStart(6)} of ${best.gflops.toFixed(1)} GFLOP/s (${best.shape.m}×${best.shape.k}×${best.shape.n}) = ${pct(ratio).padStart(4)} ` +
        `[${pct(achieved / separate.gflops)}]  ` +
        (ratio >= TARGET_RATIO ? 'meets the target' : `BELOW the target: ${(TARGET_RATIO * best.gflops).toFixed(1)} GFLOP/s = ${((run.gradientCost.matmulFlops / (TARGET_RATIO * best.gflops * 1e9)) * 1000).toFixed(0)} ms per step needed`),
    )
  }

  if (r.profile) {
    out.push('')
    const g = r.profile.gradient.session!.profile!
    const f = r.profile.forward.session!.profile!
    out.push(`ORT profile, ${r.profile.label}: kernel time per run by op type (${g.runs} runs after ${SESSION_WARM_UP_RUNS} warm-up runs)`)
    const fwdByType = new Map(f.byOpType.map((t) => [t.opType, t]))
    const opRows: (string | number)[][] = [['op type', 'grad nodes', 'grad ms', 'share', 'GFLOP', 'GFLOP/s', 'fwd nodes', 'fwd ms', 'fwd GFLOP/s', 'bwd ms (grad − fwd)']]
    for (const t of g.byOpType) {
      const fw = fwdByType.get(t.opType)
      opRows.push([
        t.opType,
        t.nodes,
        t.msPerRun.toFixed(1),
        pct(t.msPerRun / g.kernelMsPerRun),
        t.flopsPerRun ? gflop(t.flopsPerRun) : '',
        t.flopsPerRun ? (t.flopsPerRun / (t.msPerRun * 1e6)).toFixed(1) : '',
        fw?.nodes ?? 0,
        fw ? fw.msPerRun.toFixed(1) : '',
        fw?.flopsPerRun ? (fw.flopsPerRun / (fw.msPerRun * 1e6)).toFixed(1) : '',
        (t.msPerRun - (fw?.msPerRun ?? 0)).toFixed(1),
      ])
    }
    out.push(table(opRows, (i) => i > 0))
    out.push(
      `  gradient run ${g.runMs.toFixed(0)} ms (kernels ${g.kernelMsPerRun.toFixed(0)} ms), forward run ${f.runMs.toFixed(0)} ms (kernels ${f.kernelMsPerRun.toFixed(0)} ms); ` +
        `session create: gradient ${r.profile.gradient.session!.createMs.toFixed(0)} ms, forward ${r.profile.forward.session!.createMs.toFixed(0)} ms`,
    )
    out.push('')
    out.push('Slowest nodes of the gradient run (ms per run; shapes as ORT ran them)')
    const nodeRows: (string | number)[][] = [['node', 'op type', 'ms', 'GFLOP/s', 'shapes']]
    for (const n of g.nodes.slice(0, 25)) nodeRows.push([n.node.slice(0, 60), n.opType, n.msPerRun.toFixed(2), n.flopsPerRun ? (n.flopsPerRun / (n.msPerRun * 1e6)).toFixed(1) : '', n.shapes])
    out.push(table(nodeRows, (i) => i === 2 || i === 3))
  }
  process.stdout.write(out.join('\n') + '\n')
}

await benchEntry(main, runPhaseHere)
