import { connectivePairPattern, SENTENCE_WITHOUT_COMMA } from './mineNli.js'

export const CAUSE_EFFECT_VERBALIZERS = ['Thus', 'Therefore', 'Accordingly', 'Hence', 'For this reason'] as const
export const EFFECT_CAUSE_VERBALIZERS = ['due to', 'on account of', 'owing to'] as const

export interface CommonsenseItem {
  kind: 'causeEffect' | 'effectCause'
  cause: string
  effect: string
  verbalizer: string
}

export interface CommonsenseMatches {
  causeEffect: CommonsenseItem[]
  effectCause: CommonsenseItem[]
}

export interface MineCommonsenseOptions {
  /**
   * How the effect-cause pattern is applied (domain-rc.md §1.3 and §5, "open questions"). `'faithful'` is the code's
   * regex: the effect must end in sentence punctuation *before* "due to", so it fires only on text like "X happened.
   * Due to Y." and yields the paper's small share (0.3–1%) of tasks. `'withinSentence'` drops that punctuation so "X
   * happened due to Y." matches (effect = the words before the connective, without a final stop). Defaults to
   * `'faithful'`, which keeps the task mix the paper measured.
   */
  effectCause?: 'faithful' | 'withinSentence'
}

const CAUSE_EFFECT_PATTERN = connectivePairPattern(CAUSE_EFFECT_VERBALIZERS, SENTENCE_WITHOUT_COMMA)
const EFFECT_CAUSE_ALTERNATIVES = EFFECT_CAUSE_VERBALIZERS.join('|')
const EFFECT_CAUSE_PATTERNS = {
  faithful: new RegExp(`([.!?]+[\\s]+)([^.!?;\\n,]{50,}[.!?]+)([\\s]+)(${EFFECT_CAUSE_ALTERNATIVES})([\\s]+)([^.!?;\\n,]{50,}[.!?]+)([\\s]+)`, 'gi'),
  withinSentence: new RegExp(`([.!?]+[\\s]+)([^.!?;\\n,]{50,}?)([\\s]+)(${EFFECT_CAUSE_ALTERNATIVES})([\\s]+)([^.!?;\\n,]{50,}[.!?]+)([\\s]+)`, 'gi'),
} as const

/** Cause-effect pairs (cause = g2, effect = g6) and effect-cause pairs (effect = g2, cause = g6) in `text`. */
export function mineCommonsense(text: string, { effectCause = 'faithful' }: MineCommonsenseOptions = {}): CommonsenseMatches {
  const matches: CommonsenseMatches = { causeEffect: [], effectCause: [] }
  for (const m of text.matchAll(CAUSE_EFFECT_PATTERN)) {
    matches.causeEffect.push({ kind: 'causeEffect', cause: m[2] ?? '', effect: m[6] ?? '', verbalizer: m[4] ?? '' })
  }
  for (const m of text.matchAll(EFFECT_CAUSE_PATTERNS[effectCause])) {
    matches.effectCause.push({ kind: 'effectCause', effect: m[2] ?? '', cause: m[6] ?? '', verbalizer: m[4] ?? '' })
  }
  return matches
}
