import { describe, expect, it } from 'vitest'
import { exactMatch, normalizeAnswer, tokenF1 } from '../../../../src-main/core/eval/answerMatch.js'

describe('SQuAD-style answer normalization', () => {
  it('lower-cases, drops punctuation and articles, and collapses whitespace', () => {
    expect(normalizeAnswer('The  Krebs cycle.')).toBe('krebs cycle')
    expect(normalizeAnswer('  An apple, a pear and THE plum! ')).toBe('apple pear and plum')
    expect(normalizeAnswer('“Theory” — of mind')).toBe('theory of mind')
    expect(normalizeAnswer('anthem')).toBe('anthem')
    expect(normalizeAnswer('U.S.A.')).toBe('usa')
    expect(normalizeAnswer('...')).toBe('')
  })

  it('scores exact match on the normalized forms', () => {
    expect(exactMatch('the Krebs cycle', 'Krebs cycle.')).toBe(1)
    expect(exactMatch('Krebs cycles', 'Krebs cycle')).toBe(0)
    expect(exactMatch('', '')).toBe(1)
  })

  it('scores token F1 with repeated tokens counted as often as both sides hold them', () => {
    expect(tokenF1('Krebs cycle', 'the Krebs cycle')).toBe(1)
    // "cycle" in common: precision 1/2, recall 1/4 ("the" is dropped).
    expect(tokenF1('citric cycle', 'the Krebs cycle in mitochondria')).toBeCloseTo((2 * (1 / 2) * (1 / 4)) / (1 / 2 + 1 / 4), 12)
    // "blood blood" vs "blood": one common token, precision 1/2, recall 1.
    expect(tokenF1('blood blood', 'blood')).toBeCloseTo(2 / 3, 12)
    expect(tokenF1('liver', 'kidney')).toBe(0)
    expect(tokenF1('the', 'a')).toBe(1)
    expect(tokenF1('', 'kidney')).toBe(0)
  })
})
