import { describe, expect, it } from 'vitest'
import { estimateTokens } from '../../../../src-main/core/corpus/estimateTokens.js'
import { randomStream } from '../../../../src-main/core/train/random.js'


// Pieces of every kind the estimate distinguishes, including astral characters and lone surrogates' halves.
const PIECES = ['a', 'Z', 'q', 'é', 'ж', '7', '0', ' ', '\t', '\n', '.', ',', '—', '你', 'こ', '한', '😀', '\uD83D', '\uDE00', '×', '“']

function randomText(random: () => number, length: number): string {
  let text = ''
  for (let i = 0; i < length; i++) text += PIECES[Math.floor(random() * PIECES.length)] as string
  return text
}

describe('estimateTokens', () => {
  it.each([
    ['', 0],
    ['   \t ', 0],
    ['hello', 1],
    ['abcdef', 1],
    ['abcdefg', 2],
    ['abcdefghijkl', 2],
    ['abcdefghijklm', 3],
    ['internationalization', 4],
    ['two words', 2],
  ])('counts an ASCII word as one token per 6 letters: %j → %i', (text, expected) => {
    expect(estimateTokens(text)).toBe(expected)
  })

  it.each([
    ['123', 1],
    ['1234', 2],
    ['123456', 2],
    ['1234567', 3],
    ['3 14', 2],
  ])('counts digits as one token per 3: %j → %i', (text, expected) => {
    expect(estimateTokens(text)).toBe(expected)
  })

  it('splits words where letters and digits meet', () => {
    expect(estimateTokens('abc123')).toBe(2)
    expect(estimateTokens('a1b2')).toBe(4)
    expect(estimateTokens('version12345')).toBe(4)
  })

  it('counts each punctuation mark and symbol as one token', () => {
    expect(estimateTokens('Hello, world!')).toBe(4)
    expect(estimateTokens('...')).toBe(3)
    expect(estimateTokens('a—b')).toBe(3)
    expect(estimateTokens('“Hi”')).toBe(3)
    expect(estimateTokens('2×3÷4')).toBe(5)
    expect(estimateTokens('The year 2024 was great!')).toBe(7)
  })

  it.each([
    ['café', 2],
    ['naïve', 2],
    ['Привет', 2],
    ['Straße', 2],
    ['Ελληνικά', 3],
    ['über alles', 3],
  ])('counts a word with non-ASCII letters as one token per 3 letters: %j → %i', (text, expected) => {
    expect(estimateTokens(text)).toBe(expected)
  })

  it('counts one token per CJK character', () => {
    expect(estimateTokens('你好世界')).toBe(4)
    expect(estimateTokens('こんにちは')).toBe(5)
    expect(estimateTokens('한국어')).toBe(3)
    expect(estimateTokens('你好，世界。')).toBe(6)
    expect(estimateTokens('AI模型')).toBe(3)
  })

  it('counts a run of line breaks as one token', () => {
    expect(estimateTokens('a\nb')).toBe(3)
    expect(estimateTokens('a\n\n\nb')).toBe(3)
    expect(estimateTokens('\n\n')).toBe(1)
    expect(estimateTokens('a\nb\nc')).toBe(5)
    expect(estimateTokens('one.\n\ntwo.')).toBe(5)
  })

  it('counts an astral character as one token', () => {
    expect(estimateTokens('😀')).toBe(1)
    expect(estimateTokens('a😀b')).toBe(3)
    expect(estimateTokens('😀😀')).toBe(2)
    expect(estimateTokens('\u{20000}')).toBe(1)
  })

  it('counts only the range between start and end', () => {
    expect(estimateTokens('hello world', 6)).toBe(1)
    expect(estimateTokens('hello, world', 0, 5)).toBe(1)
    expect(estimateTokens('hello, world', 0, 6)).toBe(2)
    expect(estimateTokens('abcdefghijkl', 0, 6)).toBe(1)
    expect(estimateTokens('abcdefghijkl', 0, 7)).toBe(2)
    expect(estimateTokens('abcdefghijkl', 3, 3)).toBe(0)
  })

  it('counts a range exactly as it counts the same slice', () => {
    const random = randomStream(42)
    for (let trial = 0; trial < 300; trial++) {
      const text = randomText(random, 40)
      const a = Math.floor(random() * (text.length + 1))
      const b = Math.floor(random() * (text.length + 1))
      const start = Math.min(a, b)
      const end = Math.max(a, b)
      expect(estimateTokens(text, start, end), JSON.stringify({ text, start, end })).toBe(estimateTokens(text.slice(start, end)))
    }
  })

  it('never lowers the count when text is appended', () => {
    const random = randomStream(7)
    for (let trial = 0; trial < 100; trial++) {
      const text = randomText(random, 60)
      let previous = 0
      for (let end = 0; end <= text.length; end++) {
        const count = estimateTokens(text, 0, end)
        expect(count, JSON.stringify(text.slice(0, end))).toBeGreaterThanOrEqual(previous)
        previous = count
      }
    }
  })
})
