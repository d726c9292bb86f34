import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { lowerToOnnx } from '../../../src-main/core/autodiff/toOnnx.js'
import type { AdapterConfig, AdapterPlan } from '../../../src-main/core/train/adapters.js'
import { sessionThreadOptions } from '../../../src-main/core/train/executionProviders.js'
import type { NamedTensor } from '../../../src-main/core/train/tensorFiles.js'
import { buildLogitsGraph, GRADIENT_GRAPH } from '../../../src-main/core/train/trainGraphs.js'
import type { MemorizationSetup } from './prepareMemorization.js'

export interface ValueEvaluatorOptions {
  /** Rows per forward pass (B of the logits graph). Defaults to `64`. */
  rows?: number
  /** Defaults to `1`. */
  threads?: number
  /** File name of the logits graph, written next to the base weights. Defaults to `logits-eval.onnx`. */
  graphFileName?: string
}

/** Teacher-forced scores of the values: what one forward pass over prompt + value says. */
export interface TeacherForcedScore {
  /** Share of value tokens whose argmax, given the true prefix, is the true token. */
  tokenAccuracy: number
  /** Mean NLL of the value tokens given the true prefix (EOS not included). */
  loss: number
}

/** Greedy generation of every value from its key alone. */
export interface GreedyScore {
  /** Share of value characters generated right, position by position (the paper's metric, specs/mora.md §7). */
  charAccuracy: number
  /** Share of values generated exactly. */
  exactMatch: number
  /** Forward passes it took (n at most per row group; see `greedy`). */
  passes: number
  generated: string[]
}

/**
 * Scores the values of a memorization set under the adapted decoder (`buildLogitsGraph`, the training graph's
 * forward without dropout) on an ORT CPU session. Inputs are P + n − 1 tokens, BOS through the value's
 * next-to-last token: the logits at position P − 1 + j predict value token j. Dimension letters: B rows, T = P + n − 1,
 * V vocabulary.
 */
export class ValueEvaluator {
  private constructor(
    private readonly setup: MemorizationSetup,
    private readonly plan: AdapterPlan,
    private readonly session: ort.InferenceSession,
    private readonly rows: number,
    private readonly modelPath: string,
  ) {}

  static async create(setup: MemorizationSetup, plan: AdapterPlan, config: AdapterConfig, { rows = 64, threads = 1, graphFileName = 'logits-eval.onnx' }: ValueEvaluatorOptions = {}): Promise<ValueEvaluator> {
    const T = setup.promptTokens + setup.valueTokens - 1
    const { graph, outputs } = buildLogitsGraph(setup.h, plan, config, rows, T)
    const modelPath = join(setup.base.dir, graphFileName)
    await writeFile(modelPath, lowerToOnnx(graph, outputs, { elementType: 'float32', externalInitializers: setup.base.externalInitializers }))
    const session = await ort.InferenceSession.create(modelPath, { ...sessionThreadOptions(threads), executionProviders: ['cpu'], graphOptimizationLevel: 'all' })
    return new ValueEvaluator(setup, plan, session, rows, modelPath)
  }

  /** One pass per row group over the true prompt + value. */
  async teacherForced(params: ReadonlyMap<string, NamedTensor>): Promise<TeacherForcedScore> {
    const { promptTokens: P, valueTokens: n, examples } = this.setup
    let right = 0
    let nll = 0
    const all = examples.map((_, i) => i)
    for (let start = 0; start < all.length; start += this.rows) {
      const group = all.slice(start, start + this.rows)
      const inputs = group.map((i) => examples[i]!.slice(0, P + n - 1))
      const logits = await this.logits(inputs, params)
      group.forEach((i, b) => {
        for (let j = 0; j < n; j++) {
          const row = logits(b, P - 1 + j)
          const target = examples[i]![P + j]!
          if (argmax(row) === target) right++
          nll += logSumExp(row) - row[target]!
        }
      })
    }
    return { tokenAccuracy: right / (examples.length * n), loss: nll / (examples.length * n) }
  }

  /**
   * Greedy decoding of n tokens after each prompt, verified position by position (Jacobi-style): each pass runs
   * the rows' current guesses (initially the true values); for every row, the predictions are accepted from its
   * first unverified position for as long as the guess there equals the prediction, and the first mismatch is
   * replaced by the prediction, which is then verified too (it depends only on the verified prefix). Every
   * accepted token is therefore exactly what step-by-step greedy decoding produces, and each pass verifies at
   * least one more token per row, so a row takes at most n passes, and one when the model already generates
   * its value.
   */
  async greedy(params: ReadonlyMap<string, NamedTensor>): Promise<GreedyScore> {
    const { promptTokens: P, valueTokens: n, examples, tokenizer, pairs } = this.setup
    const sequences = examples.map((ids) => ids.slice(0, P + n)) // prompt + guessed value
    const verified = examples.map(() => 0)
    let passes = 0
    for (;;) {
      const open = sequences.flatMap((_, i) => (verified[i]! < n ? [i] : []))
      if (open.length === 0) break
      for (let start = 0; start < open.length; start += this.rows) {
        const group = open.slice(start, start + this.rows)
        const logits = await this.logits(group.map((i) => sequences[i]!.slice(0, P + n - 1)), params)
        passes++
        group.forEach((i, b) => {
          const sequence = sequences[i]!
          for (let j = verified[i]!; j < n; j++) {
            const predicted = argmax(logits(b, P - 1 + j))
            verified[i] = j + 1
            if (sequence[P + j] !== predicted) {
              sequence[P + j] = predicted
              break
            }
          }
        })
      }
    }
    let rightChars = 0
    let exact = 0
    const generated = sequences.map((sequence, i) => {
      const text = tokenizer.decode(sequence.slice(P))
      const value = pairs[i]!.value
      for (let c = 0; c < value.length; c++) if (text[c] === value[c]) rightChars++
      if (text === value) exact++
      return text
    })
    const chars = pairs.reduce((sum, p) => sum + p.value.length, 0)
    return { charAccuracy: rightChars / chars, exactMatch: exact / pairs.length, passes, generated }
  }

  async release(): Promise<void> {
    await this.session.release()
    await rm(this.modelPath, { force: true })
  }

  /** Logits of up to B token rows of length T (the last rows repeat the first when fewer are given). */
  private async logits(inputs: number[][], params: ReadonlyMap<string, NamedTensor>): Promise<(b: number, t: number) => Float32Array> {
    const B = this.rows
    const T = this.setup.promptTokens + this.setup.valueTokens - 1
    const V = this.setup.h.vocabSize
    const ids = new BigInt64Array(B * T) // (B, T)
    for (let b = 0; b < B; b++) {
      const row = inputs[b < inputs.length ? b : 0]!
      for (let t = 0; t < T; t++) ids[b * T + t] = BigInt(row[t]!)
    }
    const feeds: Record<string, ort.Tensor> = { [GRADIENT_GRAPH.tokenIds]: new ort.Tensor('int64', ids, [B, T]) }
    for (const site of this.plan.sites) {
      for (const p of site.params) {
        const t = params.get(p.name)
        if (!t) throw new Error(`no value for adapter parameter ${p.name}`)
        feeds[GRADIENT_GRAPH.param(p.name)] = new ort.Tensor('float32', t.data, [...p.shape])
      }
    }
    const logits = (await this.session.run(feeds))['logits']!.data as Float32Array // (B, T, V)
    return (b, t) => logits.subarray((b * T + t) * V, (b * T + t + 1) * V)
  }
}

function argmax(row: Float32Array): number {
  let best = 0
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i
  return best
}

function logSumExp(row: Float32Array): number {
  let max = -Infinity
  for (const x of row) if (x > max) max = x
  let sum = 0
  for (const x of row) sum += Math.exp(x - max)
  return max + Math.log(sum)
}
