/**
 * `npm run bench:memory [-- --quick] [-- --threads N]`: the UUID memory task of the MoRA paper (specs/mora.md §7) at
 * toy scale. Random key → value pairs of hex digits are trained as {"prompt": key + ":", "response": value} on a
 * tiny random-weight llama, with MoRA type 1 (sharing, as in the paper), MoRA type 6 (rotation) and LoRA at the same
 * rank, i.e. the same trainable-parameter budget, the same steps and the same batches, each over a small learning-rate
 * sweep. Every K steps the value of every key is generated greedily and scored per character, as the paper's Table 1.
 *
 * Training is the app's: `TrainingEngine` (fused forward+backward graph, AdamW graph) fed by `nextBatch` over the
 * packed JSONL, with `learningRateAt`'s schedule. Evaluation runs `buildLogitsGraph` on an ORT CPU session.
 *
 * Named baselines: chance (a uniform hex digit, 1/16), the base model without adapter, LoRA at the full rank of the
 * attention projections (full run only: can LoRA do it at any budget?), and the paper's own Table 1 (LLaMA-2 7B,
 * 10,000 pairs of 32 digits), for the shape of the curves only. Figures are printed, never asserted.
 */
import { availableParallelism } from 'node:os'
import { initialAdapterValues, planAdapters } from '../../src-main/core/train/adapters.js'
import { seededRandom } from '../../src-main/core/train/random.js'
import { table, withBenchRun } from './benchSupport.js'
import { adapterConfig, adapterLabel, MemorizationTrainer, type AdapterChoice } from './memory/MemorizationTrainer.js'
import { prepareMemorization, type MemorizationModelOptions, type MemorizationSetup } from './memory/prepareMemorization.js'
import { uuidPairs, UUID_SEPARATOR } from './memory/uuidPairs.js'
import { ValueEvaluator, type GreedyScore, type TeacherForcedScore } from './memory/ValueEvaluator.js'

interface Preset {
  pairs: number
  /** Per key and per value; a full UUID has 32. */
  hexDigits: number
  model: Required<MemorizationModelOptions>
  steps: number
  batch: number
  /** K: greedy evaluation of every key after every K steps. */
  evalEvery: number
  ranks: number[]
  lrs: { lora: number[]; mora: number[] }
  /** LoRA at the full rank of the attention projections (r = width): whether LoRA can do it at all, at any budget. */
  fullRankLora: { lrs: number[] } | null
}

const MODEL: Required<MemorizationModelOptions> = { embeddingLength: 128, blockCount: 2, feedForwardLength: 256, headCount: 4, gain: 0.15, seed: 1 }

/**
 * full: 256 pairs, 600 steps of 32 pairs (75 epochs; the paper ran 100 epochs of 1,000 pairs out of 10,000).
 * quick: 64 pairs, 200 steps of 16 (50 epochs), one learning rate per method.
 * Rank 32 is the largest power of two at which MoRA's r̂ fits the 128 inputs of gate/up (r̂ = 111).
 * The sweeps bracket each method's best here: MoRA is worse at half and at twice 3e-3 (type 1 collapses at 6e-3
 * for r = 32); LoRA stays near chance from 1e-4 to 1e-2 and its loss turned NaN at 1e-2 for r = 32 and at 3e-2.
 */
const PRESETS: Record<'full' | 'quick', Preset> = {
  full: { pairs: 256, hexDigits: 8, model: MODEL, steps: 600, batch: 32, evalEvery: 100, ranks: [8, 32], lrs: { lora: [3e-4, 1e-3, 3e-3], mora: [1.5e-3, 3e-3, 6e-3] }, fullRankLora: { lrs: [3e-4, 1e-3] } },
  quick: { pairs: 64, hexDigits: 8, model: MODEL, steps: 200, batch: 16, evalEvery: 50, ranks: [8, 32], lrs: { lora: [3e-3], mora: [3e-3] }, fullRankLora: null },
}

/** The paper's Table 1 (character accuracy %, steps 300/500/700/900), as recalled in specs/mora.md §7. */
const PAPER_TABLE_1: { method: string; r: string; accuracy: number[] }[] = [
  { method: 'FFT', r: '-', accuracy: [42.5, 100, 100, 100] },
  { method: 'LoRA', r: '8', accuracy: [9.9, 10.0, 10.7, 54.2] },
  { method: 'MoRA', r: '8', accuracy: [10.1, 15.7, 87.4, 100] },
  { method: 'LoRA', r: '256', accuracy: [9.9, 70.6, 100, 100] },
  { method: 'MoRA', r: '256', accuracy: [41.6, 100, 100, 100] },
]

interface Checkpoint {
  step: number
  greedy: GreedyScore
  /** Mean training loss over the K steps before this evaluation (null at step 0). */
  trainLoss: number | null
}

interface RunResult {
  choice: AdapterChoice
  lr: number
  trainableParameters: number
  checkpoints: Checkpoint[]
  /** The step whose loss was not finite, if any; training stops there. */
  divergedAt: number | null
  trainSeconds: number
  evalSeconds: number
}

const methodsAt = (rank: number): AdapterChoice[] => [
  { method: 'mora', moraType: 1, rank },
  { method: 'mora', moraType: 6, rank },
  { method: 'lora', rank },
]

async function trainOne(setup: MemorizationSetup, evaluator: ValueEvaluator, choice: AdapterChoice, lr: number, preset: Preset, threads: number, log: (line: string) => void): Promise<RunResult> {
  const trainer = await MemorizationTrainer.create(setup, choice, { batch: preset.batch, lr, totalSteps: preset.steps, threads })
  const checkpoints: Checkpoint[] = []
  let trainMs = 0
  let evalMs = 0
  const evaluate = async (trainLoss: number | null): Promise<void> => {
    const started = performance.now()
    const greedy = await evaluator.greedy(trainer.params)
    evalMs += performance.now() - started
    checkpoints.push({ step: trainer.step, greedy, trainLoss })
  }
  let divergedAt: number | null = null
  try {
    await evaluate(null)
    let lossSum = 0
    let lossCount = 0
    while (trainer.step < preset.steps) {
      const started = performance.now()
      const { loss } = await trainer.next()
      trainMs += performance.now() - started
      if (!Number.isFinite(loss)) {
        divergedAt = trainer.step
        log(`  ${adapterLabel(choice)} r=${choice.rank} lr=${lr}: loss ${loss} at step ${trainer.step}; stopped`)
        break
      }
      lossSum += loss
      lossCount++
      if (trainer.step % preset.evalEvery === 0) {
        await evaluate(lossSum / lossCount)
        lossSum = 0
        lossCount = 0
      }
    }
    const last = checkpoints.at(-1)!
    log(`  ${adapterLabel(choice)} r=${choice.rank} lr=${lr}: ${pct(last.greedy.charAccuracy)}% chars, loss ${fixed(last.trainLoss, 3)} (train ${(trainMs / 1000).toFixed(1)} s, eval ${(evalMs / 1000).toFixed(1)} s)`)
    return { choice, lr, trainableParameters: trainer.trainableParameters, checkpoints, divergedAt, trainSeconds: trainMs / 1000, evalSeconds: evalMs / 1000 }
  } finally {
    await trainer.release()
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const threadsArg = process.argv.indexOf('--threads')
  const threads = threadsArg >= 0 ? Number(process.argv[threadsArg + 1]) : Math.min(2, availableParallelism())
  const preset = quick ? PRESETS.quick : PRESETS.full
  await withBenchRun('lectern-bench-memory-', async ({ dir, log, elapsedSeconds }) => {
    const pairs = uuidPairs(preset.pairs, { hexDigits: preset.hexDigits, seed: 7 })
    const setup = await prepareMemorization(dir, pairs, preset.model)
    log(`${pairs.length} pairs, ${setup.dataset.sequenceCount} windows of ${setup.dataset.seqLen} tokens; base model written`)
    const runs: RunResult[] = []
    let baseGreedy: GreedyScore | null = null
    let baseTeacher: TeacherForcedScore | null = null
    const groups: { choice: AdapterChoice; lrs: number[] }[] = preset.ranks.flatMap((rank) =>
      methodsAt(rank).map((choice) => ({ choice, lrs: choice.method === 'lora' ? preset.lrs.lora : preset.lrs.mora })),
    )
    if (preset.fullRankLora) groups.push({ choice: { method: 'lora', rank: setup.h.embeddingLength }, lrs: preset.fullRankLora.lrs })
    for (const { choice, lrs } of groups) {
      const config = adapterConfig(choice)
      const plan = planAdapters(setup.h, config)
      const evaluator = await ValueEvaluator.create(setup, plan, config, { threads })
      try {
        if (!baseGreedy) {
          // Every adapter starts as the identity (MoRA M = 0, LoRA B = 0), so its initial values score the base.
          const initial = initialAdapterValues(plan, config, seededRandom(0).nextFloat)
          const params = new Map([...initial].map(([name, data]) => [name, { shape: plan.sites.flatMap((s) => s.params).find((p) => p.name === name)!.shape, data }]))
          baseGreedy = await evaluator.greedy(params)
          baseTeacher = await evaluator.teacherForced(params)
        }
        for (const lr of lrs) {
          log(`${adapterLabel(choice)} r=${choice.rank} lr=${lr}: ${preset.steps} steps`)
          runs.push(await trainOne(setup, evaluator, choice, lr, preset, threads, log))
        }
      } finally {
        await evaluator.release()
      }
    }
    report({ quick, preset, setup, runs, baseGreedy: baseGreedy!, baseTeacher: baseTeacher!, threads, totalSeconds: elapsedSeconds() })
  })
}

// ------------------------------------------------------------------------------------------------- report

const pct = (x: number): string => (100 * x).toFixed(1)
const fixed = (x: number | null, digits: number): string => (x === null ? '-' : x.toFixed(digits))

/** The run of a method and rank with the best final character accuracy (ties: the lower final loss). */
function best(runs: RunResult[], choice: AdapterChoice): RunResult {
  const same = runs.filter((r) => adapterLabel(r.choice) === adapterLabel(choice) && r.choice.rank === choice.rank)
  const score = (r: RunResult): [number, number] => {
    const last = r.checkpoints.at(-1)!
    return [r.divergedAt === null ? last.greedy.charAccuracy : -1, -(last.trainLoss ?? Infinity)]
  }
  return same.reduce((a, b) => {
    const [sa, la] = score(a)
    const [sb, lb] = score(b)
    return sb > sa || (sb === sa && lb > la) ? b : a
  })
}

function report(r: { quick: boolean; preset: Preset; setup: MemorizationSetup; runs: RunResult[]; baseGreedy: GreedyScore; baseTeacher: TeacherForcedScore; threads: number; totalSeconds: number }): void {
  const { preset, setup, runs } = r
  const h = setup.h
  const out: string[] = []
  const evalSteps = Array.from({ length: Math.floor(preset.steps / preset.evalEvery) + 1 }, (_, i) => i * preset.evalEvery)
  const example = setup.pairs[0]!
  const epochs = (preset.steps * preset.batch) / preset.pairs
  out.push(`Lectern UUID memory benchmark (${r.quick ? 'quick' : 'full'}): npm run bench:memory${r.quick ? ' -- --quick' : ''}`)
  out.push(
    `model   tiny llama, random weights (gain ${preset.model.gain}): width ${h.embeddingLength}, FFN ${h.feedForwardLength}, ${h.blockCount} blocks, ${h.headCount} heads, ` +
      `vocab ${h.vocabSize} (SentencePiece test vocabulary; each upper-case hex digit is one token)`,
  )
  out.push(
    `data    ${preset.pairs} random pairs of ${preset.hexDigits} hex digits each (a UUID has 32: shortened to fit CPU time), seeded; ` +
      `{"prompt": "${example.key}${UUID_SEPARATOR}", "response": "${example.value}"}; loss on the value's ${setup.valueTokens} tokens + EOS only`,
  )
  out.push(`        ${setup.dataset.seqLen} tokens per example (BOS ▁ key ${UUID_SEPARATOR} value EOS), one packed window per pair`)
  out.push(
    `train   ${preset.steps} steps × ${preset.batch} pairs (${epochs.toFixed(0)} epochs), cosine with 3% warmup, AdamW (HF defaults, clip 1), no dropout, ` +
      `all 7 projections adapted; the same batches for every run; ${r.threads} ORT thread${r.threads === 1 ? '' : 's'}`,
  )
  out.push(
    `        lr sweep: MoRA {${preset.lrs.mora.join(', ')}}, LoRA {${preset.lrs.lora.join(', ')}}` +
      (preset.fullRankLora ? `, full-rank LoRA {${preset.fullRankLora.lrs.join(', ')}}` : '') +
      ' (LoRA alpha = 2r, scale 2; MoRA has no scale)',
  )
  out.push(`eval    every ${preset.evalEvery} steps: greedy generation of all ${preset.pairs} values from their keys, character accuracy (exact = whole value right)`)
  out.push(`time    whole run ${r.totalSeconds.toFixed(1)} s on ${availableParallelism()} cores`)
  out.push('')

  out.push('Baselines')
  out.push(`  chance (a uniform hex digit)         ${pct(1 / 16)}% chars`)
  out.push(`  base model, no adapter               ${pct(r.baseGreedy.charAccuracy)}% chars greedy; teacher-forced value loss ${r.baseTeacher.loss.toFixed(3)} (ln 16 = ${Math.log(16).toFixed(3)}: a model that knows only "some hex digit")`)
  if (preset.fullRankLora) {
    const full = best(runs, { method: 'lora', rank: h.embeddingLength })
    const small = runs.find((x) => x.choice.method === 'lora' && x.choice.rank === preset.ranks[0])!
    const last = full.checkpoints.at(-1)!
    out.push(
      `  LoRA at full rank (r = ${h.embeddingLength} = width) ${pct(last.greedy.charAccuracy)}% chars at step ${last.step}, loss ${fixed(last.trainLoss, 3)} (best lr ${full.lr}; ` +
        `${full.trainableParameters.toLocaleString('en-US')} parameters, ${(full.trainableParameters / small.trainableParameters).toFixed(0)}× the r=${preset.ranks[0]} budget)`,
    )
  }
  out.push('')

  out.push('Trainable parameters (equal budget: MoRA r̂ = round(√((k + d)·r)), r̂ even for type 6; specs/mora.md §1)')
  const paramRows: (string | number)[][] = [['r', 'method', 'parameters', 'vs LoRA']]
  for (const rank of preset.ranks) {
    const lora = runs.find((x) => x.choice.method === 'lora' && x.choice.rank === rank)!.trainableParameters
    for (const choice of methodsAt(rank)) {
      const n = runs.find((x) => adapterLabel(x.choice) === adapterLabel(choice) && x.choice.rank === rank)!.trainableParameters
      paramRows.push([rank, adapterLabel(choice), n.toLocaleString('en-US'), `${(n / lora).toFixed(3)}×`])
    }
  }
  out.push(table(paramRows, (i) => i !== 1))
  out.push('')

  out.push(`Character accuracy (%) of greedy generation by step, best lr per method and rank (the shape of the paper's Table 1)`)
  const bestRows: (string | number)[][] = [['method', 'r', 'lr', ...evalSteps.map(String), 'exact %', 'loss']]
  for (const rank of preset.ranks) {
    for (const choice of methodsAt(rank)) {
      const run = best(runs, choice)
      const last = run.checkpoints.at(-1)!
      bestRows.push([adapterLabel(choice), rank, run.lr, ...evalSteps.map((s) => cell(run, s)), pct(last.greedy.exactMatch), fixed(last.trainLoss, 3)])
    }
  }
  out.push(table(bestRows, (i) => i > 0))
  out.push(`  loss = mean training loss (value tokens + EOS) over the last ${preset.evalEvery} steps; chance is ${pct(1 / 16)}%`)
  out.push('')

  out.push('Every run of the sweep')
  const sweepRows: (string | number)[][] = [['method', 'r', 'lr', ...evalSteps.map(String), 'exact %', 'train s', 'eval s']]
  for (const run of runs) {
    const last = run.checkpoints.at(-1)!
    sweepRows.push([adapterLabel(run.choice), run.choice.rank, run.lr, ...evalSteps.map((s) => cell(run, s)), pct(last.greedy.exactMatch), run.trainSeconds.toFixed(1), run.evalSeconds.toFixed(1)])
  }
  out.push(table(sweepRows, (i) => i > 0))
  const diverged = runs.filter((x) => x.divergedAt !== null)
  if (diverged.length > 0) out.push(`  ×: the loss stopped being finite (${diverged.map((x) => `${adapterLabel(x.choice)} r=${x.choice.rank} lr=${x.lr} at step ${x.divergedAt}`).join('; ')}), so that run stopped`)
  out.push('')

  out.push(`Training loss by step (mean over each block of ${preset.evalEvery} steps ending there), best lr per method and rank`)
  const lossRows: (string | number)[][] = [['method', 'r', 'lr', ...evalSteps.slice(1).map(String)]]
  for (const rank of preset.ranks) {
    for (const choice of methodsAt(rank)) {
      const run = best(runs, choice)
      lossRows.push([adapterLabel(choice), rank, run.lr, ...evalSteps.slice(1).map((s) => fixed(run.checkpoints.find((c) => c.step === s)?.trainLoss ?? null, 3))])
    }
  }
  out.push(table(lossRows, (i) => i > 0))
  out.push('')

  out.push('Reference: the paper\'s Table 1 (LLaMA-2 7B, 10,000 pairs of 32 digits, 1,000 pairs per step; character accuracy %), for the shape only')
  const paperRows: (string | number)[][] = [['method', 'r', '300', '500', '700', '900']]
  for (const row of PAPER_TABLE_1) paperRows.push([row.method, row.r, ...row.accuracy.map((a) => a.toFixed(1))])
  out.push(table(paperRows, (i) => i > 0))
  out.push('')

  const summary = preset.ranks.map((rank) => {
    const finals = methodsAt(rank).map((choice) => `${adapterLabel(choice)} ${pct(best(runs, choice).checkpoints.at(-1)!.greedy.charAccuracy)}%`)
    return `r=${rank}: ${finals.join(', ')}`
  })
  out.push(`Final character accuracy at the best lr: ${summary.join('; ')}`)
  process.stdout.write(out.join('\n') + '\n')
}

function cell(run: RunResult, step: number): string {
  const c = run.checkpoints.find((x) => x.step === step)
  if (c) return pct(c.greedy.charAccuracy)
  return run.divergedAt !== null && step >= run.divergedAt ? '×' : '-'
}

await main()
