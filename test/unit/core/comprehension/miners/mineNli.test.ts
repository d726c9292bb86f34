import { describe, expect, it } from 'vitest'
import { mineNli } from '../../../../../src-main/core/comprehension/miners/mineNli.js'

const LONG_A = 'The committee reviewed every application submitted this year'
const LONG_B = 'the final list of funded projects was published in March'

describe('mineNli', () => {
  it('mines an entailment pair with the exact fields, upper-casing the hypothesis', () => {
    const text = `Intro. ${LONG_A}. Therefore, ${LONG_B}. `
    expect(mineNli(text)).toEqual({
      entail: [{ label: 'entail', premise: `${LONG_A}.`, hypothesis: `The final list of funded projects was published in March.`, verbalizer: 'Therefore' }],
      contradict: [],
      neutral: [],
    })
  })

  it('sorts verbalizers into labels, case-insensitively, allowing space before the comma', () => {
    expect(mineNli(`Intro. ${LONG_A}. however , ${LONG_B}. `).contradict).toEqual([
      { label: 'contradict', premise: `${LONG_A}.`, hypothesis: 'The final list of funded projects was published in March.', verbalizer: 'however' },
    ])
    expect(mineNli(`Intro. ${LONG_A}. In addition, ${LONG_B}. `).neutral.map((item) => item.verbalizer)).toEqual(['In addition'])
    expect(mineNli(`Intro. ${LONG_A}. Secondly, ${LONG_B}. `).neutral).toHaveLength(1)
  })

  it('rejects short sentences, commas inside sentences, a missing comma, and the first sentence of the text', () => {
    expect(mineNli(`Intro. The committee met today. Therefore, ${LONG_B}. `).entail).toEqual([])
    expect(mineNli(`Intro. ${LONG_A}, in the end. Therefore, ${LONG_B}. `).entail).toEqual([])
    expect(mineNli(`Intro. ${LONG_A}. Therefore ${LONG_B}. `).entail).toEqual([])
    expect(mineNli(`${LONG_A}. Therefore, ${LONG_B}. `).entail).toEqual([])
    // The pattern ends in whitespace, so a pair at the very end of a text without a trailing space is not mined.
    expect(mineNli(`Intro. ${LONG_A}. Therefore, ${LONG_B}.`).entail).toEqual([])
  })

  it('finds several non-overlapping pairs; a match consumes its closing whitespace, so the next needs a sentence between', () => {
    const separated = `Intro. ${LONG_A}. Thus, ${LONG_B}. Filler. ${LONG_A} again. Hence, ${LONG_B} too. `
    expect(mineNli(separated).entail.map((item) => item.verbalizer)).toEqual(['Thus', 'Hence'])
    const adjacent = `Intro. ${LONG_A}. Thus, ${LONG_B}. ${LONG_A} again. Hence, ${LONG_B} too. `
    expect(mineNli(adjacent).entail.map((item) => item.verbalizer)).toEqual(['Thus'])
  })
})
