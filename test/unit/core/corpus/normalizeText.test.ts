import { describe, expect, it } from 'vitest'
import { cleanDocument, normalizeText, PARAGRAPH_BREAK } from '../../../../src-main/core/corpus/normalizeText.js'

describe('normalizeText', () => {
  it('composes to NFC', () => {
    expect(normalizeText('caf' + 'e\u0301')).toBe('café')
    expect(normalizeText('A\u030Angstro\u0308m')).toBe('Ångström')
    expect(normalizeText('e\u0301').length).toBe(1)
  })

  it.each([
    ['\uFB01nd', 'find'],
    ['\uFB02ow', 'flow'],
    ['o\uFB00er', 'offer'],
    ['o\uFB03ce', 'office'],
    ['ba\uFB04e', 'baffle'],
    ['\uFB01\uFB02\uFB00\uFB03', 'fifl' + 'ffffi'],
  ])('spells out ligatures in %j', (raw, expected) => {
    expect(normalizeText(raw)).toBe(expected)
  })

  it('removes soft hyphens, zero-width characters and BOMs', () => {
    expect(normalizeText('hy\u00ADphen\u00ADated')).toBe('hyphenated')
    expect(normalizeText('zero\u200Bwidth\u200Cnon\u200Djoiner\u2060word')).toBe('zerowidthnonjoinerword')
    expect(normalizeText('\uFEFFstarts with a BOM')).toBe('starts with a BOM')
  })

  it('turns no-break and other wide spaces into plain spaces', () => {
    expect(normalizeText('10\u00A0km')).toBe('10 km')
    expect(normalizeText('a\u2002b\u2003c\u2009d\u202Fe\u205Ff\u3000g')).toBe('a b c d e f g')
    // Two of them in a row are a run of spaces inside a line: collapsed.
    expect(normalizeText('a\u00A0\u00A0b')).toBe('a b')
  })

  it('removes C0 and C1 control characters but keeps newlines and tabs', () => {
    expect(normalizeText('a\u0000b\u0007c\u001Bd\u007Fe')).toBe('abcde')
    expect(normalizeText('a\u0080b\u0085c\u009Fd')).toBe('abcd')
    expect(normalizeText('col1\tcol2\nnext')).toBe('col1\tcol2\nnext')
  })

  it('unifies CRLF, CR, form feed and vertical tab to \\n', () => {
    expect(normalizeText('one\r\ntwo\rthree\ffour\vfive')).toBe('one\ntwo\nthree\nfour\nfive')
    expect(normalizeText('a\r\n\r\nb')).toBe('a\n\nb')
  })

  it('turns Unicode line and paragraph separators into a line break and a paragraph break', () => {
    expect(normalizeText('a\u2028b')).toBe('a\nb')
    expect(normalizeText('a\u2029b')).toBe('a\n\nb')
  })

  it('trims trailing spaces and tabs on every line', () => {
    expect(normalizeText('first  \nsecond\t\nthird \t ')).toBe('first\nsecond\nthird')
  })

  it('collapses runs of spaces inside a line but keeps leading indentation', () => {
    expect(normalizeText('a  b \t c\t\td')).toBe('a b c d')
    expect(normalizeText('code:\n    if (x)  {\n\t\treturn   1')).toBe('code:\n    if (x) {\n\t\treturn 1')
    expect(normalizeText('  indented first line')).toBe('  indented first line')
  })

  it('keeps single spaces and single tabs inside a line', () => {
    expect(normalizeText('a b\tc')).toBe('a b\tc')
  })

  it('leaves at most one blank line in a row', () => {
    expect(normalizeText('a\n\n\nb')).toBe('a\n\nb')
    expect(normalizeText('a\n\n\n\n\n\nb\n\n\n\nc')).toBe('a\n\nb\n\nc')
    // Lines holding only spaces are blank lines too.
    expect(normalizeText('a\n  \n\t\n \nb')).toBe('a\n\nb')
    expect(normalizeText('a\n\nb')).toBe('a\n\nb')
  })

  it('removes leading and trailing blank lines', () => {
    expect(normalizeText('\n\n\nbody\n\n\n')).toBe('body')
    expect(normalizeText('\r\n  \r\nbody \r\n')).toBe('body')
  })

  it('cleans text that is nothing but whitespace and invisibles to the empty string', () => {
    expect(normalizeText('')).toBe('')
    expect(normalizeText('   \n\t\n ')).toBe('')
    expect(normalizeText('\u200B\u00AD\uFEFF')).toBe('')
  })

  it('returns already-clean text unchanged', () => {
    const clean = [
      'Plain ASCII text.\n\nA second paragraph with a tab\there.',
      'Grüße aus Köln — “quoted” ✓ 日本語',
      '    indented code\n\tand a tab',
    ]
    for (const text of clean) {
      expect(normalizeText(text)).toBe(text)
      expect(normalizeText(normalizeText(text))).toBe(text)
    }
  })

  it('is idempotent on messy input', () => {
    const messy = '\uFEFF  Title\u00A0\u00A0here \r\n\r\n\r\n\u000Cpara\uFB01  two\u00AD\t\n\n\n\n e\u0301 \n'
    const once = normalizeText(messy)
    expect(once).toBe('  Title here\n\npara' + 'fi two\n\n é')
    expect(normalizeText(once)).toBe(once)
  })
})

describe('cleanDocument', () => {
  it('joins cleaned blocks with a paragraph break', () => {
    const document = cleanDocument([{ text: 'First  block. \r\n' }, { text: '\n\nSecond\u00ADblock.' }, { text: 'Third.' }])
    expect(PARAGRAPH_BREAK).toBe('\n\n')
    expect(document.text).toBe('First block.\n\nSecondblock.\n\nThird.')
  })

  it('drops blocks that clean to nothing', () => {
    const document = cleanDocument([{ text: '  \n ', page: 1 }, { text: 'Kept.', page: 2 }, { text: '\u200B\uFEFF', page: 3 }, { text: '', page: 4 }, { text: 'Also kept.', page: 5 }])
    expect(document.text).toBe('Kept.\n\nAlso kept.')
    expect(document.segments.map((s) => s.page)).toEqual([2, 5])
  })

  it('gives each block a segment that slices the joined text to exactly the cleaned block', () => {
    const blocks = [
      { text: '\uFB01rst page\r\n\r\n\r\nwith two paragraphs  ', page: 1, section: 'Intro' },
      { text: '   ', page: 2, section: 'Empty' },
      { text: 'page   three\u00A0text', page: 3, section: 'Body' },
      { text: 'no page, no section' },
    ]
    const document = cleanDocument(blocks)
    expect(document.segments).toEqual([
      { start: 0, end: 31, page: 1, section: 'Intro' },
      { start: 33, end: 48, page: 3, section: 'Body' },
      { start: 50, end: 69, page: null, section: null },
    ])
    const kept = blocks.filter((b) => b.text.trim() !== '')
    document.segments.forEach((segment, i) => {
      expect(document.text.slice(segment.start, segment.end)).toBe(normalizeText((kept[i] as { text: string }).text))
    })
    expect(document.text.slice(0, 31)).toBe('first page\n\nwith two paragraphs')
    expect(document.text.slice(33, 48)).toBe('page three text')
  })

  it('collapses whitespace in section names and turns blank ones into null', () => {
    const document = cleanDocument([
      { text: 'a', section: 'Chapter\n1:  The\tStart' },
      { text: 'b', section: ' \n ' },
      { text: 'c', section: '' },
      { text: 'd', section: 'Caf\u0065\u0301\u00A0\u00A0Society' },
    ])
    expect(document.segments.map((s) => s.section)).toEqual(['Chapter 1: The Start', null, null, 'Café Society'])
  })

  it('gives an empty document for no blocks', () => {
    expect(cleanDocument([])).toEqual({ text: '', segments: [] })
  })
})
