import { describe, expect, it } from 'vitest'
import { decodeText, readText } from '../../../../../src-main/core/corpus/formats/readText.js'
import { DEFAULT_EXTRACTION_LIMITS, type ExtractedDocument } from '../../../../../src-main/core/corpus/formats/types.js'
import { UnreadableFileError } from '../../../../../src-main/core/corpus/formats/UnreadableFileError.js'
import { memorySource } from '../../../../fixtures/corpus/memorySource.js'

const SAMPLE = 'Grüße, “Zoë”!\n\nSecond paragraph — done.'

function utf16(text: string, byteOrder: 'le' | 'be', withBom: boolean): Uint8Array {
  const bytes = new Uint8Array((text.length + (withBom ? 1 : 0)) * 2)
  const view = new DataView(bytes.buffer)
  const units = withBom ? '\uFEFF' + text : text
  for (let i = 0; i < units.length; i++) view.setUint16(i * 2, units.charCodeAt(i), byteOrder === 'le')
  return bytes
}

function decodeError(bytes: Uint8Array): UnreadableFileError {
  try {
    decodeText(bytes, '/corpus/file.txt')
  } catch (error) {
    expect(error).toBeInstanceOf(UnreadableFileError)
    return error as UnreadableFileError
  }
  throw new Error('expected decodeText to throw')
}

async function readAll(bytes: Uint8Array | string): Promise<ExtractedDocument[]> {
  const documents: ExtractedDocument[] = []
  for await (const document of readText(memorySource('/corpus/notes.txt', bytes), { limits: DEFAULT_EXTRACTION_LIMITS })) documents.push(document)
  return documents
}

describe('decodeText', () => {
  it('reads UTF-8 with and without BOM', () => {
    const utf8 = new TextEncoder().encode(SAMPLE)
    expect(decodeText(utf8, 'a.txt')).toEqual({ text: SAMPLE, encoding: 'utf-8', warnings: [] })
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8]), 'a.txt')).toEqual({ text: SAMPLE, encoding: 'utf-8', warnings: [] })
  })

  it.each([
    ['le', true],
    ['le', false],
    ['be', true],
    ['be', false],
  ] as const)('reads UTF-16%s (BOM: %s)', (byteOrder, withBom) => {
    const decoded = decodeText(utf16(SAMPLE, byteOrder, withBom), 'a.txt')
    expect(decoded).toEqual({ text: SAMPLE, encoding: `utf-16${byteOrder}`, warnings: [] })
  })

  it('reads Windows-1252 smart quotes and accents', () => {
    const bytes = new Uint8Array([0x93, ...new TextEncoder().encode('caf'), 0xe9, 0x94, 0x20, 0x96, 0x20, 0x80, 0x35])
    expect(decodeText(bytes, 'a.txt')).toEqual({ text: '“café” – €5', encoding: 'windows-1252', warnings: [] })
  })

  it('reads Latin-1 as its Windows-1252 superset', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('na'), 0xef, 0x76, 0x65, 0x20, 0xa9, 0x20, 0xfc, 0xdf])
    expect(decodeText(bytes, 'a.txt')).toEqual({ text: 'naïve © üß', encoding: 'windows-1252', warnings: [] })
  })

  it('replaces invalid sequences in otherwise valid UTF-8 and says where', () => {
    const before = new TextEncoder().encode('Grüße ')
    const bytes = new Uint8Array([...before, 0xff, ...new TextEncoder().encode(' and ñ '), 0xc3, 0x28])
    const decoded = decodeText(bytes, 'a.txt')

    expect(decoded.encoding).toBe('utf-8')
    expect(decoded.text).toBe('Grüße \uFFFD and ñ \uFFFD(')
    expect(decoded.warnings).toEqual([`invalid UTF-8 at byte ${before.length}: 2 invalid sequences replaced with U+FFFD`])
  })

  it('rejects binary junk', () => {
    let seed = 42
    const random = new Uint8Array(4096).map(() => (seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 23)
    random[100] = 0
    expect(decodeError(random).message).toMatch(/^binary content, not text \(/)
  })

  it('rejects control characters without NULs', () => {
    const bytes = new Uint8Array(1000).map((_, i) => (i % 5 === 0 ? 0x01 : 0x41))
    expect(decodeError(bytes).message).toBe('binary content, not text (20% control characters)')
  })

  it('rejects a NUL byte that UTF-16 does not explain', () => {
    const bytes = new TextEncoder().encode('plain text with a \0 NUL inside')
    expect(decodeError(bytes).message).toBe('binary content, not text (NUL byte at offset 18)')
  })

  it('accepts tabs, form feeds, CRLF and ANSI colours', () => {
    const text = 'a\tb\r\n\fc \u001b[31mred\u001b[0m\n'.repeat(50)
    expect(decodeText(new TextEncoder().encode(text), 'a.txt').text).toBe(text)
  })
})

describe('readText', () => {
  it('yields the whole text as one block', async () => {
    expect(await readAll(SAMPLE)).toEqual([{ locator: '', blocks: [{ text: SAMPLE }] }])
  })

  it('yields nothing for an empty or blank file', async () => {
    expect(await readAll(new Uint8Array())).toEqual([])
    expect(await readAll(' \n\t\r\n ')).toEqual([])
  })

  it('passes decoding warnings on', async () => {
    const [document] = await readAll(new Uint8Array([...new TextEncoder().encode('é'), 0xff]))
    expect(document?.warnings).toEqual(['invalid UTF-8 at byte 2: 1 invalid sequence replaced with U+FFFD'])
  })

  it('throws UnreadableFileError naming the file for binary content', async () => {
    const error: unknown = await readAll(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0x14, 0])).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(UnreadableFileError)
    expect((error as UnreadableFileError).file).toBe('/corpus/notes.txt')
  })
})
