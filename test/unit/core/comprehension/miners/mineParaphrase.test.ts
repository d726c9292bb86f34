import { describe, expect, it } from 'vitest'
import { mineParaphrase } from '../../../../../src-main/core/comprehension/miners/mineParaphrase.js'

const FIRST = 'Crop rotation restores soil structure, slowly, over several seasons'
const SECOND = 'a field that alternates crops keeps its soil loose, porous and rich'

describe('mineParaphrase', () => {
  it('mines similar pairs whose sentences may contain commas', () => {
    expect(mineParaphrase(`Intro. ${FIRST}. In other words, ${SECOND}. `)).toEqual({
      similar: [{ kind: 'similar', sentence1: `${FIRST}.`, sentence2: `${SECOND}.`, verbalizer: 'In other words' }],
      different: [],
    })
  })

  it('mines different pairs with the contradiction verbalizers', () => {
    expect(mineParaphrase(`Intro. ${FIRST}. On the contrary, ${SECOND}. `).different).toEqual([
      { kind: 'different', sentence1: `${FIRST}.`, sentence2: `${SECOND}.`, verbalizer: 'On the contrary' },
    ])
  })

  it('matches a real "i.e." but not words shaped i?e? (the dots are escaped on purpose, §1.3)', () => {
    expect(mineParaphrase(`Intro. ${FIRST}. i.e., ${SECOND}. `).similar.map((item) => item.verbalizer)).toEqual(['i.e.'])
    expect(mineParaphrase(`Intro. ${FIRST}. Idea, ${SECOND}. `).similar).toEqual([])
  })

  it('rejects a sentence shorter than 50 characters', () => {
    expect(mineParaphrase(`Intro. Rotation helps soil. Namely, ${SECOND}. `).similar).toEqual([])
  })
})
