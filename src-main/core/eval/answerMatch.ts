/**
 * SQuAD-style answer comparison (the official v1.1/v2.0 evaluation script's `normalize_answer`, exact match and
 * token F1): lower case, drop punctuation, drop the English articles, collapse whitespace.
 */

// The script strips Python's `string.punctuation` (ASCII punctuation and symbols); Unicode punctuation goes too,
// so curly quotes and dashes in a generated answer do not count against it.
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~\p{P}]/gu
const ARTICLES = /\b(a|an|the)\b/g

export function normalizeAnswer(text: string): string {
  const lower = text.toLowerCase()
  const noPunctuation = lower.replace(PUNCTUATION, '')
  const noArticles = noPunctuation.replace(ARTICLES, ' ')
  return answerTokens(noArticles).join(' ')
}

/** 1 when the normalized strings are equal, else 0. */
export function exactMatch(prediction: string, reference: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(reference) ? 1 : 0
}

/**
 * Harmonic mean of token precision and recall between the normalized answers, counting repeated tokens as often
 * as both sides hold them. When either side normalizes to nothing, 1 if both do, else 0 (as SQuAD 2.0 scores
 * "no answer").
 */
export function tokenF1(prediction: string, reference: string): number {
  const predicted = answerTokens(normalizeAnswer(prediction))
  const expected = answerTokens(normalizeAnswer(reference))
  if (predicted.length === 0 || expected.length === 0) return predicted.length === expected.length ? 1 : 0
  const counts = new Map<string, number>()
  for (const token of expected) counts.set(token, (counts.get(token) ?? 0) + 1)
  let common = 0
  for (const token of predicted) {
    const left = counts.get(token) ?? 0
    if (left > 0) {
      common++
      counts.set(token, left - 1)
    }
  }
  if (common === 0) return 0
  const precision = common / predicted.length
  const recall = common / expected.length
  return (2 * precision * recall) / (precision + recall)
}

function answerTokens(text: string): string[] {
  return text.split(/\s+/).filter((t) => t.length > 0)
}
