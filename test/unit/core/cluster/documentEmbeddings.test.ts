import { describe, expect, it } from 'vitest'
import { documentEmbeddings } from '../../../../src-main/core/cluster/documentEmbeddings.js'

/** Unit vector along axis `axis` of `dimension`, times `sign`. */
function axis(dimension: number, index: number, sign = 1): number[] {
  return Array.from({ length: dimension }, (_, i) => (i === index ? sign : 0))
}

describe('documentEmbeddings', () => {
  it('weights chunks by token count and normalizes the mean', () => {
    const result = documentEmbeddings({
      vectors: Float32Array.from([...axis(3, 0), ...axis(3, 1)]),
      dimension: 3,
      documentIds: ['a', 'a'],
      tokenCounts: [300, 100],
    })
    expect(result.documentIds).toEqual(['a'])
    expect(result.zeroRows).toEqual([])
    const expected = [3 / Math.sqrt(10), 1 / Math.sqrt(10), 0]
    expected.forEach((value, i) => expect(result.vectors[i]).toBeCloseTo(value, 6))
  })

  it('groups chunks that are not adjacent and orders documents by their first chunk', () => {
    const result = documentEmbeddings({
      vectors: Float32Array.from([...axis(4, 0), ...axis(4, 2), ...axis(4, 1), ...axis(4, 3)]),
      dimension: 4,
      documentIds: [7, 3, 7, 3],
      tokenCounts: [1, 5, 1, 5],
    })
    expect(result.documentIds).toEqual([7, 3])
    expect(Array.from(result.vectors).map((v) => Number(v.toFixed(6)))).toEqual([0.707107, 0.707107, 0, 0, 0, 0, 0.707107, 0.707107])
  })

  it('keeps a lone chunk as it is', () => {
    const vector = [0.6, 0, -0.8]
    const result = documentEmbeddings({ vectors: Float32Array.from(vector), dimension: 3, documentIds: ['x'], tokenCounts: [42] })
    vector.forEach((value, i) => expect(result.vectors[i]).toBeCloseTo(value, 6))
  })

  it('gives a zero row, flagged, to a document whose chunks cancel out or carry no tokens', () => {
    const result = documentEmbeddings({
      vectors: Float32Array.from([...axis(2, 0), ...axis(2, 0, -1), ...axis(2, 1), ...axis(2, 0)]),
      dimension: 2,
      documentIds: ['cancels', 'cancels', 'fine', 'empty'],
      tokenCounts: [10, 10, 4, 0],
    })
    expect(result.documentIds).toEqual(['cancels', 'fine', 'empty'])
    expect(result.zeroRows).toEqual([0, 2])
    expect(Array.from(result.vectors)).toEqual([0, 0, 0, 1, 0, 0])
  })

  it('rejects mismatched lengths and bad token counts', () => {
    const vectors = Float32Array.from([...axis(2, 0), ...axis(2, 1)])
    expect(() => documentEmbeddings({ vectors, dimension: 2, documentIds: ['a'], tokenCounts: [1, 1] })).toThrow(/1 document ids for 2/)
    expect(() => documentEmbeddings({ vectors, dimension: 2, documentIds: ['a', 'b'], tokenCounts: [1] })).toThrow(/1 token counts for 2/)
    expect(() => documentEmbeddings({ vectors, dimension: 2, documentIds: ['a', 'b'], tokenCounts: [1, -1] })).toThrow(/chunk 1 has token count -1/)
    expect(() => documentEmbeddings({ vectors, dimension: 3, documentIds: ['a', 'b'], tokenCounts: [1, 1] })).toThrow(/whole rows/)
  })
})
