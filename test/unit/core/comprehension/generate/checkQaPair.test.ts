import { describe, expect, it } from 'vitest'
import { checkQaPair, DEFAULT_QA_FILTERS, filterQaPairs, groundingShare, judgeQaPairs, normalizeQaText, type QaRejectReason } from '../../../../../src-main/core/comprehension/generate/checkQaPair.js'

const CHUNK =
  'The trial enrolled 240 patients with chronic kidney disease. Patients receiving the new inhibitor showed lower blood pressure ' +
  'after twelve weeks, while the placebo group improved less. Side effects were mild and mostly headaches.'

function reasonOf(question: string, answer: string, options: Parameters<typeof checkQaPair>[2] = {}): QaRejectReason | null {
  const verdict = checkQaPair({ question, answer }, CHUNK, options)
  return verdict.ok ? null : verdict.reason
}

describe('checkQaPair', () => {
  it('accepts a grounded pair', () => {
    expect(reasonOf('How many patients were enrolled?', '240 patients with chronic kidney disease.')).toBeNull()
    expect(reasonOf('What did the inhibitor group show?', 'Lower blood pressures after twelve weeks')).toBeNull()
  })

  it('empty: blank or punctuation-only question or answer', () => {
    expect(reasonOf('   ', 'Blood pressure')).toBe('empty')
    expect(reasonOf('What was measured?', '...')).toBe('empty')
    expect(reasonOf('What was measured?', 'Blood pressure')).not.toBe('empty')
  })

  it('copied_question: the answer equals or contains the question, ignoring case and punctuation', () => {
    expect(reasonOf('What were the side effects?', 'what were the side effects')).toBe('copied_question')
    expect(reasonOf('Side effects?', 'Side effects: mild headaches.')).toBe('copied_question')
    expect(reasonOf('What were the side effects?', 'Mild side effects, mostly headaches.')).toBeNull()
    // Word boundaries: "the" inside "therapy" is not a copy.
    expect(reasonOf('the', 'therapy')).not.toBe('copied_question')
  })

  it('not_grounded: too few of the answer content words occur in the chunk', () => {
    expect(reasonOf('What caused the effect?', 'Quantum entanglement of mitochondria')).toBe('not_grounded')
    expect(reasonOf('What caused the effect?', 'The new inhibitor')).toBeNull()
    // Simple stemming: "headache" matches "headaches", "improves" matches "improved".
    expect(reasonOf('What side effect was common?', 'A headache')).toBeNull()
    expect(reasonOf('How did the placebo group do?', 'It improves less')).toBeNull()
    // Stopword-only answers carry no content to check.
    expect(reasonOf('Were side effects mild?', 'Yes')).toBeNull()
    // The threshold is tunable.
    expect(reasonOf('What happened?', 'Blood pressure fell sharply overnight', { filters: { minGrounding: 0.9 } })).toBe('not_grounded')
    expect(reasonOf('What happened?', 'Blood pressure fell sharply overnight', { filters: { minGrounding: 0.4 } })).toBeNull()
  })

  it('too_long: over the character caps, counted in code points', () => {
    expect(reasonOf('How many patients?', 'patients '.repeat(80))).toBe('too_long')
    expect(reasonOf(`${'Why '.repeat(100)}?`, '240 patients')).toBe('too_long')
    expect(reasonOf('Which?', '🙂'.repeat(10) + ' patients', { filters: { maxAnswerChars: 19 } })).toBeNull()
    expect(reasonOf('Which?', '🙂'.repeat(10) + ' patients', { filters: { maxAnswerChars: 18 } })).toBe('too_long')
  })

  it('duplicate: the same normalized question as an earlier pair of the chunk', () => {
    const earlierQuestions = new Set([normalizeQaText('How many patients were enrolled?')])
    expect(reasonOf('how many patients were enrolled', '240', { earlierQuestions })).toBe('duplicate')
    expect(reasonOf('How many patients got the inhibitor?', '240', { earlierQuestions })).toBeNull()
  })

  it('broken_text: U+FFFD in either field', () => {
    expect(reasonOf('What was lower\uFFFD?', 'Blood pressure')).toBe('broken_text')
    expect(reasonOf('What was lower?', 'Blood \uFFFDpressure')).toBe('broken_text')
    expect(reasonOf('What was lower?', 'Blood pressure')).toBeNull()
  })

  it('gives a human message with every rejection', () => {
    const verdict = checkQaPair({ question: 'What?', answer: 'Unrelated words entirely' }, CHUNK)
    expect(verdict).toMatchObject({ ok: false, reason: 'not_grounded' })
    if (!verdict.ok) expect(verdict.message).toMatch(/content words occur in the chunk/)
  })
})

describe('judgeQaPairs / filterQaPairs', () => {
  const pairs = [
    { question: 'How many patients were enrolled?', answer: '240' },
    { question: 'How many patients were enrolled?', answer: '240 patients' },
    { question: 'What did it cure?', answer: 'Diabetes and cancer' },
    { question: 'What did it cure?', answer: 'Chronic kidney disease' },
  ]

  it('judges in order; a duplicate is counted only against kept pairs', () => {
    const judged = judgeQaPairs(pairs, CHUNK)
    expect(judged.map((p) => p.rejectReason)).toEqual([null, 'duplicate', 'not_grounded', null])
    expect(judged[1]?.rejectDetail).toMatch(/already asked/)
    const { kept, rejected } = filterQaPairs(pairs, CHUNK)
    expect(kept).toHaveLength(2)
    expect(rejected.map((r) => r.reason)).toEqual(['duplicate', 'not_grounded'])
  })

  it('treats undefined thresholds as the defaults', () => {
    expect(judgeQaPairs(pairs, CHUNK, { minGrounding: undefined })).toEqual(judgeQaPairs(pairs, CHUNK))
    expect(DEFAULT_QA_FILTERS.minGrounding).toBe(0.5)
  })

  it('groundingShare counts content words only', () => {
    expect(groundingShare('the patients and the aliens', CHUNK)).toBe(0.5)
  })
})
