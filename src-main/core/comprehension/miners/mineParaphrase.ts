import { connectivePairPattern, NLI_VERBALIZERS } from './mineNli.js'

/**
 * Verbalizers of a similar-meaning pair (domain-rc.md §1.3). The code's regex leaves the dots of "i.e." unescaped,
 * so it also matches any four-character word shaped i?e? before a comma ("idea, ", "ices, "). We escape them:
 * matching a real "i.e." is the intent, and the accidental matches would only add noise to the paraphrase task.
 */
export const SIMILAR_VERBALIZERS = ['In other words', 'In other word', 'Namely', 'That is to say', 'i\\.e\\.', 'Scilicet', 'Similarly', 'Equally'] as const
/** A different-meaning pair uses the NLI contradiction verbalizers. */
export const DIFFERENT_VERBALIZERS = NLI_VERBALIZERS.contradict

export interface ParaphraseItem {
  kind: 'similar' | 'different'
  sentence1: string
  sentence2: string
  verbalizer: string
}

export interface ParaphraseMatches {
  similar: ParaphraseItem[]
  different: ParaphraseItem[]
}

/** Paraphrase sentences may contain commas. */
const SENTENCE_WITH_COMMA = '[^.!?\\n]'
const SIMILAR_PATTERN = connectivePairPattern(SIMILAR_VERBALIZERS, SENTENCE_WITH_COMMA)
const DIFFERENT_PATTERN = connectivePairPattern(DIFFERENT_VERBALIZERS, SENTENCE_WITH_COMMA)

/** Similar and different sentence pairs in `text` (sentence1 = g2, sentence2 = g6). */
export function mineParaphrase(text: string): ParaphraseMatches {
  const matches: ParaphraseMatches = { similar: [], different: [] }
  for (const m of text.matchAll(SIMILAR_PATTERN)) {
    matches.similar.push({ kind: 'similar', sentence1: m[2] ?? '', sentence2: m[6] ?? '', verbalizer: m[4] ?? '' })
  }
  for (const m of text.matchAll(DIFFERENT_PATTERN)) {
    matches.different.push({ kind: 'different', sentence1: m[2] ?? '', sentence2: m[6] ?? '', verbalizer: m[4] ?? '' })
  }
  return matches
}
