/** Verbalizers of the NLI miner, by label (domain-rc.md §1.3; Also and Secondly are the code's additions to Neutral). */
export const NLI_VERBALIZERS = {
  entail: ['Yes', 'Therefore', 'Thus', 'Accordingly', 'Hence', 'For this reason'],
  contradict: ['No', 'However', 'But', 'On the contrary', 'In contrast', 'Whereas'],
  neutral: ['Maybe', 'Also', 'Furthermore', 'Secondly', 'Additionally', 'Moreover', 'In addition'],
} as const

export type NliLabel = keyof typeof NLI_VERBALIZERS

export const NLI_LABELS: readonly NliLabel[] = ['entail', 'contradict', 'neutral']

export interface NliItem {
  label: NliLabel
  /** The sentence before the verbalizer (g2). */
  premise: string
  /** The sentence after it (g6), first letter upper-cased. */
  hypothesis: string
  /** As written in the text (g4), e.g. "however". */
  verbalizer: string
}

export type NliMatches = Record<NliLabel, NliItem[]>

/**
 * The "sentence, connective + comma, sentence" shape of §1.3 (g2 = first sentence, g4 = verbalizer, g6 = second
 * sentence). `sentence` is the character class of a sentence body; NLI and cause-effect exclude commas, paraphrase
 * allows them.
 */
export function connectivePairPattern(verbalizers: readonly string[], sentence: string): RegExp {
  const body = `(${sentence}{50,}[.!?]+)`
  return new RegExp(`([.!?]+[\\s]+)${body}([\\s]+)(${verbalizers.join('|')})([\\s]*,[\\s]+)${body}([\\s]+)`, 'gi')
}

/** A sentence body without sentence punctuation, line breaks or commas. */
export const SENTENCE_WITHOUT_COMMA = '[^.!?\\n,]'

const NLI_PATTERNS: Record<NliLabel, RegExp> = {
  entail: connectivePairPattern(NLI_VERBALIZERS.entail, SENTENCE_WITHOUT_COMMA),
  contradict: connectivePairPattern(NLI_VERBALIZERS.contradict, SENTENCE_WITHOUT_COMMA),
  neutral: connectivePairPattern(NLI_VERBALIZERS.neutral, SENTENCE_WITHOUT_COMMA),
}

/** Every NLI pair in `text`, by label, in text order (find-all: non-overlapping matches). */
export function mineNli(text: string): NliMatches {
  const matches: NliMatches = { entail: [], contradict: [], neutral: [] }
  for (const label of NLI_LABELS) {
    for (const m of text.matchAll(NLI_PATTERNS[label])) {
      matches[label].push({ label, premise: m[2] ?? '', hypothesis: upperFirst(m[6] ?? ''), verbalizer: m[4] ?? '' })
    }
  }
  return matches
}

export function upperFirst(text: string): string {
  return text.length === 0 ? text : text.charAt(0).toUpperCase() + text.slice(1)
}
