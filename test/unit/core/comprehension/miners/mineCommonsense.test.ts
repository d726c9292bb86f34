import { describe, expect, it } from 'vitest'
import { mineCommonsense } from '../../../../../src-main/core/comprehension/miners/mineCommonsense.js'

const EFFECT = 'The yield of the maize crop fell sharply in the dry year'
const CAUSE = 'the lack of rain during the months when plants were flowering'

describe('mineCommonsense', () => {
  it('mines cause-effect pairs from the NLI shape: cause = first sentence, effect = second', () => {
    const text = `Intro. ${CAUSE} was severe everywhere. For this reason, ${EFFECT}. `
    expect(mineCommonsense(text).causeEffect).toEqual([
      { kind: 'causeEffect', cause: `${CAUSE} was severe everywhere.`, effect: `${EFFECT}.`, verbalizer: 'For this reason' },
    ])
    expect(mineCommonsense(`Intro. ${CAUSE} was severe. However, ${EFFECT}. `).causeEffect).toEqual([])
  })

  it('faithful effect-cause: the effect ends in punctuation before the connective (§1.3)', () => {
    expect(mineCommonsense(`Intro. ${EFFECT}. Owing to ${CAUSE}. `)).toEqual({
      causeEffect: [],
      effectCause: [{ kind: 'effectCause', effect: `${EFFECT}.`, cause: `${CAUSE}.`, verbalizer: 'Owing to' }],
    })
    expect(mineCommonsense(`Intro. ${EFFECT} due to ${CAUSE}. `).effectCause).toEqual([])
    expect(mineCommonsense(`Intro. ${EFFECT}. Due to ${CAUSE}; it was bad. `).effectCause).toEqual([])
  })

  it('within-sentence effect-cause catches "X due to Y."', () => {
    expect(mineCommonsense(`Intro. ${EFFECT} on account of ${CAUSE}. `, { effectCause: 'withinSentence' }).effectCause).toEqual([
      { kind: 'effectCause', effect: EFFECT, cause: `${CAUSE}.`, verbalizer: 'on account of' },
    ])
    expect(mineCommonsense(`Intro. The crop fell due to ${CAUSE}. `, { effectCause: 'withinSentence' }).effectCause).toEqual([])
  })
})
