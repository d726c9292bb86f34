/**
 * `npm run bench:comprehension [-- --quick]`: the comprehension step on this CPU, against named baselines:
 *
 * 1. Regex mode: the app's `mineCorpus` (AdaptLLM reading-comprehension mining) over a project holding ≥ 50 MB of
 *    generated ~2,000-character passages full of the miners' connectives, in MB/s and tasks per MB; baselines are
 *    reading the same chunks through the same query, and reading them and splitting their sentences.
 * 2. LLM mode: output tokens/s of `LlamaQaGenerator` (non-ASCII tokens banned, so random weights write parseable
 *    JSON) against `rawDecodeBaseline` (plain decoding of the same prompts to the same per-prompt lengths, same
 *    contexts and threads), with 1 and 2 contexts of one thread, on the tiny test model and on a Qwen-0.5B-shaped
 *    random Q8_0 model written by the app's converter. Target: the generator at ≥ 0.9× the baseline.
 * 3. Clustering: `benchClustering` (ETRC neighbours and growth, k-means) on 100k × 384 vectors (20k in --quick).
 *
 * Each phase runs in a child process of its own (RSS is per process). Figures are printed, never asserted.
 */
import { appendFileSync, readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { getLlama, LlamaLogLevel } from 'node-llama-cpp'
import { FileByteSink } from '../../src-main/core/io/fileBytes.js'
import { writeModelGguf } from '../../src-main/core/model/convert/writeModelGguf.js'
import type { ModelHyperparameters } from '../../src-main/core/model/hyperparameters.js'
import { writeTinyGgufModel } from '../fixtures/tinyModels.js'
import { tinyBpeTokenizerMetadata } from '../fixtures/tokenizers/tinyTokenizers.js'
import { benchEntry, forkPhase, MB, mb, table, withBenchRun } from './benchSupport.js'
import { benchClustering, type ClusteringBenchResult } from './comprehension/clusteringBench.js'
import { benchMining, type MiningBenchResult } from './comprehension/miningBench.js'
import { benchQaGeneration, tinyVocabularyPassages, type DecodeRun, type QaGenerationBenchResult } from './comprehension/qaGenerationBench.js'
import { syntheticModelSource } from './syntheticModel.js'

const GENERATOR_TARGET_RATIO = 0.9

interface Preset {
  mineBytes: number
  /** Prompts per LLM run on the tiny model and on the Qwen-shaped one. */
  tinyPrompts: number
  qwenPrompts: number
  /** Characters of passage per LLM prompt: 1,500 in the tiny tokenizers' words is ~470 tokens, about a default 512-token chunk. */
  promptPassageChars: number
  qwenBlocks: number
  clusterRows: number
  /** The clustering phase is stopped after this long, and what it measured so far is printed. */
  clusterLimitSeconds: number
}

const PRESETS: Record<'full' | 'quick', Preset> = {
  full: { mineBytes: 50 * MB, tinyPrompts: 32, qwenPrompts: 6, promptPassageChars: 1500, qwenBlocks: 24, clusterRows: 100_000, clusterLimitSeconds: 1800 },
  quick: { mineBytes: 5 * MB, tinyPrompts: 16, qwenPrompts: 4, promptPassageChars: 1500, qwenBlocks: 4, clusterRows: 20_000, clusterLimitSeconds: 600 },
}

/** Qwen2.5-0.5B's shape (tied embeddings) with the tiny BPE tokenizer's 437 tokens and ChatML template. */
const qwenShaped = (blocks: number, vocabSize: number): ModelHyperparameters => ({
  architecture: 'qwen2',
  vocabSize,
  contextLength: 4096,
  embeddingLength: 896,
  blockCount: blocks,
  feedForwardLength: 4864,
  headCount: 14,
  headCountKv: 2,
  headDim: 64,
  rmsNormEps: 1e-6,
  ropeTheta: 1_000_000,
  tiedEmbeddings: true,
})

type PhaseSpec =
  | { kind: 'mine'; projectDir: string; bytes: number }
  | { kind: 'writeQwen'; path: string; blocks: number }
  | { kind: 'generate'; modelPath: string; contexts: number; prompts: number; passageChars: number }
  | { kind: 'cluster'; rows: number; progressFile: string }

interface WriteQwenResult {
  seconds: number
  bytes: number
  weights: number
}

async function runPhaseHere(spec: PhaseSpec): Promise<unknown> {
  switch (spec.kind) {
    case 'mine':
      return benchMining({ projectDir: spec.projectDir, bytes: spec.bytes, log: childLog })
    case 'writeQwen': {
      const tokenizer = tinyBpeTokenizerMetadata()
      const tokens = tokenizer.get('tokenizer.ggml.tokens')
      const h = qwenShaped(spec.blocks, tokens?.type === 'array' ? tokens.value.length : 0)
      const source = syntheticModelSource(h, tokenizer)
      const started = performance.now()
      const sink = await FileByteSink.create(spec.path)
      const layout = await writeModelGguf(source, sink, { fileType: 'Q8_0' })
      await sink.commit()
      const weights = source.tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0)
      return { seconds: (performance.now() - started) / 1000, bytes: layout.totalBytes, weights } satisfies WriteQwenResult
    }
    case 'generate': {
      const chunks = tinyVocabularyPassages(spec.prompts, spec.passageChars, 11)
      const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
      try {
        return await benchQaGeneration({ modelPath: spec.modelPath, llama, chunks, contexts: spec.contexts })
      } finally {
        await llama.dispose()
      }
    }
    case 'cluster': {
      // Stop with the parent: it gives up on this phase after its time limit and exits when its report is done.
      let finished = false
      process.once('disconnect', () => finished || process.exit(1))
      const result = await benchClustering({
        rows: spec.rows,
        log: (line) => {
          childLog(line)
          appendFileSync(spec.progressFile, `${line}\n`)
        },
      })
      finished = true
      return result
    }
  }
}

const loadAverage = (): string => loadavg()[0]!.toFixed(1)

function childLog(line: string): void {
  process.stderr.write(`         ${line}\n`)
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const preset = PRESETS[quick ? 'quick' : 'full']
  const name = quick ? 'quick' : 'full'
  let stillRunning = false
  await withBenchRun('lectern-bench-comprehension-', async ({ dir, log }) => {
    // ------------------------------------------------------------------------------------------ 1. mining
    log(`regex mining of ${mb(preset.mineBytes, 0)} MB of passages`)
    const mining = await forkPhase<PhaseSpec, MiningBenchResult>(import.meta.url, { kind: 'mine', projectDir: join(dir, 'project-mine'), bytes: preset.mineBytes })
    printMining(mining, name)
    console.log(`load average after the phase (1 min): ${loadAverage()} on ${availableParallelism()} cores`)

    // ------------------------------------------------------------------------------------------ 2. generation
    log('writing the tiny model')
    const tiny = await writeTinyGgufModel(join(dir, 'tiny'), { architecture: 'llama', hyperparameters: { contextLength: 4096 } })
    log(`writing the Qwen-shaped Q8_0 model (${preset.qwenBlocks} layers)`)
    const qwenPath = join(dir, 'qwen-shaped-q8_0.gguf')
    const qwen = await forkPhase<PhaseSpec, WriteQwenResult>(import.meta.url, { kind: 'writeQwen', path: qwenPath, blocks: preset.qwenBlocks })
    log(`  ${(qwen.weights / 1e6).toFixed(0)} M weights, ${mb(qwen.bytes)} MB, written in ${qwen.seconds.toFixed(1)} s`)
    const models = [
      { label: 'tiny (llama, 2 layers, F32)', path: tiny.ggufPath, prompts: preset.tinyPrompts },
      { label: `Qwen-0.5B-shaped (${preset.qwenBlocks} layers, Q8_0, ${(qwen.weights / 1e6).toFixed(0)} M weights)`, path: qwenPath, prompts: preset.qwenPrompts },
    ]
    const runs: GenerationRun[] = []
    for (const model of models) {
      for (const contexts of [1, 2]) {
        log(`QA generation: ${model.label}, ${contexts} context(s), ${model.prompts} prompts`)
        const result = await forkPhase<PhaseSpec, QaGenerationBenchResult>(import.meta.url, {
          kind: 'generate',
          modelPath: model.path,
          contexts,
          prompts: model.prompts,
          passageChars: preset.promptPassageChars,
        })
        runs.push({ model: model.label, result, load: loadAverage() })
      }
    }
    printGeneration(runs, preset.promptPassageChars)

    // ------------------------------------------------------------------------------------------ 3. clustering
    log(`clustering ${preset.clusterRows} × 384 (stopped after ${preset.clusterLimitSeconds} s)`)
    const progressFile = join(dir, 'cluster-progress.txt')
    appendFileSync(progressFile, '')
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    const phase = forkPhase<PhaseSpec, ClusteringBenchResult>(import.meta.url, { kind: 'cluster', rows: preset.clusterRows, progressFile })
    // Once the limit has passed, the child's exit (with this process) is not an error of the run.
    phase.catch(() => undefined)
    const clustering = await Promise.race([
      phase,
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), preset.clusterLimitSeconds * 1000))),
    ])
    clearTimeout(timer)
    if (clustering) {
      printClustering(clustering)
      console.log(`load average after the phase (1 min): ${loadAverage()}`)
    }
    else {
      stillRunning = true
      const done = readFileSync(progressFile, 'utf8').trim()
      console.log(
        `\nClustering, ${preset.clusterRows} × 384: NOT FINISHED, stopped after ${((performance.now() - started) / 1000).toFixed(0)} s (the limit).\n` +
          `Stages that ended before the limit:\n${done === '' ? '(none)' : done}`,
      )
    }
  })
  // A clustering child still running stops when this process exits (its IPC channel closes).
  if (stillRunning) process.exit(0)
}

function printMining(r: MiningBenchResult, preset: string): void {
  const rate = (s: number): number => r.bytes / MB / s
  const mineRate = rate(r.mineSeconds)
  console.log(
    `\nRegex mining (mineCorpus), ${preset} preset: ${r.chunks} chunks of ~2,000 characters, ${mb(r.bytes)} MB, in a project database\n\n` +
      table([
        ['stage', 'seconds', 'MB/s', 'mining vs this'],
        ['read the chunks (the query mineCorpus uses)', r.readSeconds.toFixed(2), rate(r.readSeconds).toFixed(1), `${(mineRate / rate(r.readSeconds)).toFixed(3)}×`],
        ['read + splitSentences', r.readSplitSeconds.toFixed(2), rate(r.readSplitSeconds).toFixed(1), `${(mineRate / rate(r.readSplitSeconds)).toFixed(3)}×`],
        ['buildReadingComprehension in memory, no keywords', r.buildSeconds.toFixed(2), rate(r.buildSeconds).toFixed(1), `${(mineRate / rate(r.buildSeconds)).toFixed(3)}×`],
        ['mineCorpus (keywords, mining, RC texts stored)', r.mineSeconds.toFixed(2), mineRate.toFixed(1), '1.000×'],
        ['  of which counting long words (keyword task)', r.keywordSeconds.toFixed(2), rate(r.keywordSeconds).toFixed(1), ''],
      ]) +
      `\n\nmineCorpus: ${(r.chunks / r.mineSeconds).toFixed(0)} chunks/s, ${r.tasks} tasks = ${(r.tasks / (r.bytes / MB)).toFixed(0)} tasks per MB (${(r.tasks / r.processed).toFixed(2)} per chunk); ` +
      `in memory without keywords ${(r.buildTasks / (r.bytes / MB)).toFixed(0)} tasks per MB\n` +
      `${r.sentences} sentences (${(r.sentences / r.chunks).toFixed(1)} per chunk); storing the chunks took ${r.insertSeconds.toFixed(1)} s (not timed above); ` +
      `peak RSS ${mb(r.peakRssBytes, 0)} MB (the ${mb(r.bytes * 2, 0)} MB of generated strings included)`,
  )
}

interface GenerationRun {
  model: string
  result: QaGenerationBenchResult
  /** The 1-minute load average when the phase ended: other work on the machine skews the figures. */
  load: string
}

function printGeneration(runs: GenerationRun[], passageChars: number): void {
  const cell = (run: DecodeRun): string => run.tokensPerSecond.toFixed(1)
  const rows: (string | number)[][] = [['model', 'ctx', 'prompts', 'out tok', 'generator tok/s', 'raw tok/s', 'ratio', 'raw+grammar tok/s', 'ratio', 'prompt tok gen / raw', 'statuses', 'pairs', 'load']]
  for (const { model, result, load } of runs) {
    const grammar = result.rawWithGrammar
    rows.push([
      model,
      result.contexts,
      result.prompts,
      result.generator.outputTokens,
      cell(result.generator),
      cell(result.raw),
      `${(result.generator.tokensPerSecond / result.raw.tokensPerSecond).toFixed(2)}×`,
      grammar === null ? '–' : typeof grammar === 'string' ? 'failed' : cell(grammar),
      grammar === null || typeof grammar === 'string' ? '–' : `${(result.generator.tokensPerSecond / grammar.tokensPerSecond).toFixed(2)}×`,
      `${result.generator.promptTokens} / ${result.raw.promptTokens}`,
      Object.entries(result.generator.statuses)
        .map(([status, n]) => `${status} ${n}`)
        .join(', '),
      result.generator.pairs,
      load,
    ])
  }
  console.log(
    `\nQA generation (LlamaQaGenerator, bannedTokenPolicy 'nonAscii', 1 pair, 60-character limits, ≤ 160 output tokens) against rawDecodeBaseline\n` +
      `(same model, contexts of 1 sequence × 1 thread, chat-templated prompts of ~${passageChars}-character passages in the tiny tokenizers' words, the generator's per-prompt output lengths);\n` +
      `tok/s = output tokens over wall time, prefill included; target ≥ ${GENERATOR_TARGET_RATIO}× raw\n\n` +
      table(rows, (i) => i > 0 && i !== 10),
  )
  for (const { model, result } of runs) {
    if (typeof result.rawWithGrammar === 'string') console.log(`raw+grammar failed for ${model}, ${result.contexts} context(s): ${result.rawWithGrammar}`)
  }
}

function printClustering(r: ClusteringBenchResult): void {
  console.log(
    `\nClustering (benchClustering), ${r.rows} × ${r.dimension}\n\n` +
      table([
        ['stage', 'seconds', 'detail'],
        [`nearest neighbours (${r.neighbourEngine})`, r.neighboursSeconds.toFixed(1), `${r.neighboursGflops.toFixed(1)} GFLOP/s`],
        ['grow clusters (ETRC)', r.growSeconds.toFixed(2), `${r.clusters} clusters, purity ${r.purity.toFixed(3)}`],
        ['k-means', r.kMeansSeconds.toFixed(1), `${r.kMeansIterations} passes, purity ${r.kMeansPurity.toFixed(3)}`],
      ]) +
      `\n\npeak RSS ${r.peakRssMb.toFixed(0)} MiB (the vectors included)`,
  )
}

await benchEntry(main, runPhaseHere)
