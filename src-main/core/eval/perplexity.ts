import type { Token } from 'node-llama-cpp'
import { LecternError } from '../../shared/errors.js'
import { runOnScorers, tokenizeForScoring, withScorers, type EvalContextOptions, type EvalModelSource } from './SequenceScorer.js'

export interface PerplexityOptions extends EvalContextOptions {
  /**
   * How far each window starts after the previous one, in tokens, from 1 to `contextSize − 1`. Every token is
   * scored once, in the first window that reaches it, so a smaller stride gives each token more left context at
   * the cost of more evaluation. Defaults to half the context.
   */
  stride?: number
  signal?: AbortSignal
  onProgress?: (progress: PerplexityProgress) => void
}

export interface PerplexityProgress {
  textsDone: number
  textsTotal: number
  tokensScored: number
  tokensTotal: number
}

export interface TextPerplexity {
  /** Tokens scored: every token after the first (the first is BOS when the model adds one). */
  tokens: number
  /** Sum of the tokens' negative log-likelihoods, in nats. */
  totalNll: number
  /** `totalNll / tokens`, or NaN for a text with nothing to score. */
  meanNll: number
  perplexity: number
}

export interface PerplexityResult {
  tokens: number
  /** Mean over all scored tokens of all texts (token-weighted, not a mean of per-text means). */
  meanNll: number
  perplexity: number
  perText: TextPerplexity[]
}

/** One window of a sliding-window pass: tokens [start, end) are fed, tokens [scoreFrom, end) are scored. */
export interface PerplexityWindow {
  start: number
  end: number
  scoreFrom: number
}

/**
 * The windows of standard sliding-window perplexity over `length` tokens: windows of at most `contextSize`
 * tokens that start every `stride` tokens, each scoring only the tokens no earlier window scored. Token 0 is never
 * scored (nothing precedes it); each later token is scored exactly once, after at least `contextSize − stride`
 * tokens of context once the first window is passed.
 */
export function perplexityWindows(length: number, contextSize: number, stride: number): PerplexityWindow[] {
  if (!Number.isInteger(stride) || stride < 1 || stride > contextSize - 1) {
    throw new LecternError('invalid_argument', `stride must be an integer from 1 to contextSize − 1 = ${contextSize - 1}; got ${stride}`)
  }
  const windows: PerplexityWindow[] = []
  let scored = 1
  for (let start = 0; scored < length; start += stride) {
    const end = Math.min(start + contextSize, length)
    if (end > scored) windows.push({ start, end, scoreFrom: scored })
    scored = end
  }
  return windows
}

/**
 * Perplexity of a model on `texts`: each text is tokenized on its own (BOS as the model adds it) and scored
 * teacher-forced with sliding windows; the NLL of each token is −log p of the actual next token under llama.cpp's
 * full next-token distribution. Works the same for a base GGUF and an adapted (merged) one.
 */
export async function measurePerplexity(source: EvalModelSource, texts: readonly string[], options: PerplexityOptions): Promise<PerplexityResult> {
  const stride = options.stride ?? Math.max(1, Math.floor(options.contextSize / 2))
  perplexityWindows(2, options.contextSize, stride)
  const { signal, onProgress } = options
  signal?.throwIfAborted()
  return withScorers(source, options, async (scorers, model) => {
    const tokenized: Token[][] = texts.map((text) => tokenizeForScoring(model, text))
    const progress: PerplexityProgress = { textsDone: 0, textsTotal: texts.length, tokensScored: 0, tokensTotal: tokenized.reduce((n, t) => n + Math.max(0, t.length - 1), 0) }
    onProgress?.({ ...progress })
    const perText: TextPerplexity[] = new Array<TextPerplexity>(texts.length)
    await runOnScorers(scorers, texts.length, async (scorer, index) => {
      const tokens = tokenized[index]!
      let totalNll = 0
      let count = 0
      for (const window of perplexityWindows(tokens.length, options.contextSize, stride)) {
        signal?.throwIfAborted()
        const logProbs = await scorer.logProbabilities(tokens.slice(window.start, window.end), window.scoreFrom - window.start)
        for (const lp of logProbs) totalNll -= lp
        count += logProbs.length
        progress.tokensScored += logProbs.length
        onProgress?.({ ...progress })
      }
      perText[index] = summarize(totalNll, count)
      progress.textsDone++
      onProgress?.({ ...progress })
    }, signal)
    const total = perText.reduce((acc, t) => ({ nll: acc.nll + t.totalNll, tokens: acc.tokens + t.tokens }), { nll: 0, tokens: 0 })
    const overall = summarize(total.nll, total.tokens)
    return { tokens: overall.tokens, meanNll: overall.meanNll, perplexity: overall.perplexity, perText }
  })
}

function summarize(totalNll: number, tokens: number): TextPerplexity {
  const meanNll = tokens === 0 ? Number.NaN : totalNll / tokens
  return { tokens, totalNll, meanNll, perplexity: Math.exp(meanNll) }
}
