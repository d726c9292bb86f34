import { describe, expect, it } from 'vitest'
import { spmMergesFromScores, spmScoresFromMerges } from '../../../../../src-main/core/model/tokenizers/spmMerges.js'

const tokens = ['<s>', 'a', 'b', 'c', 'ab', 'bc', 'abc']

describe('SentencePiece scores ↔ BPE merges', () => {
  it('lists every split of every token, best score first, splits of one token by the ids of their halves', () => {
    const merges = spmMergesFromScores(tokens, [0, -10, -11, -12, -1, -2, -3], () => true)
    expect(merges).toEqual([
      ['a', 'b'],
      ['b', 'c'],
      ['a', 'bc'],
      ['ab', 'c'],
    ])
  })

  it('scores normal tokens by the first merge that makes them, then the rest by id', () => {
    const merges: [string, string][] = [
      ['a', 'b'],
      ['b', 'c'],
      ['a', 'bc'],
      ['ab', 'c'],
    ]
    expect(spmScoresFromMerges(tokens, [3, 1, 1, 1, 1, 1, 1], merges, 'tokenizer.json')).toEqual([0, -3, -4, -5, 0, -1, -2])
  })

  it('keeps the merge order through scores and back', () => {
    const scores = spmScoresFromMerges(tokens, [3, 1, 1, 1, 1, 1, 1], spmMergesFromScores(tokens, [0, 0, 0, 0, -1, -2, -3], () => true), 'x')
    expect(spmMergesFromScores(tokens, scores, () => true)).toEqual(spmMergesFromScores(tokens, [0, 0, 0, 0, -1, -2, -3], () => true))
  })
})
