import { describe, expect, it } from 'vitest'
import { mineKeywordSentences, mineWordToText } from '../../../../../src-main/core/comprehension/miners/mineWordToText.js'
import { randomStream } from '../../../../../src-main/core/train/random.js'

describe('mineWordToText', () => {
  it('mines a definition: a word of at least 10 characters, then the definition sentence', () => {
    expect(mineWordToText(' Nitrification is defined as the conversion of ammonia into nitrate. ').definition).toEqual([
      { kind: 'definition', word: 'Nitrification', definition: 'the conversion of ammonia into nitrate.', verbalizer: 'is defined as' },
    ])
    expect(mineWordToText(' Fixation is defined as the conversion of nitrogen into ammonia. ').definition).toEqual([])
    expect(mineWordToText(' Nitrification is defined as short text. ').definition).toEqual([])
  })

  it('mines a topic sentence: at least 20 characters before the verbalizer', () => {
    expect(mineWordToText('Intro. The last chapter of the guide talks about methods for measuring carbon. ').topic).toEqual([
      { kind: 'topic', sentence: 'The last chapter of the guide', topic: 'methods for measuring carbon.', verbalizer: 'talks about' },
    ])
    expect(mineWordToText('Intro. The chapter is about methods for measuring carbon. ').topic).toEqual([])
    expect(mineWordToText('Intro. The last chapter, in short, is about methods for measuring carbon. ').topic).toEqual([])
  })

  it('keeps keyword sentences with at least 3 distinct domain words, at most 2', () => {
    const keywords = new Set(['nitrification', 'ammonia', 'bacteria', 'nitrate'])
    const sentences = [
      'Nitrification by soil bacteria turns ammonia into nitrate.',
      'Bacteria oxidise ammonia quickly in warm soil.',
      'In nitrification, bacteria need oxygen to oxidise ammonia.',
      'Ammonia, nitrate and bacteria all matter here.',
    ]
    const items = mineKeywordSentences(sentences, keywords, randomStream(1, 'test'))
    expect(items).toHaveLength(2)
    for (const item of items) {
      expect(sentences).toContain(item.sentence)
      expect(item.sentence).not.toBe(sentences[1])
    }
    expect(mineKeywordSentences([sentences[0] ?? ''], keywords, randomStream(1, 'test'))).toEqual([
      { kind: 'keywords', tripleset: 'nitrification, bacteria, ammonia', sentence: sentences[0] },
    ])
    expect(mineKeywordSentences(sentences, new Set(), randomStream(1, 'test'))).toEqual([])
  })
})
