import { describe, expect, it } from 'vitest'
import { readCsv, readJsonl, readTsv } from '../../../../../src-main/core/corpus/formats/readRecords.js'
import { DEFAULT_EXTRACTION_LIMITS, type ExtractedDocument, type FormatReader, type SourceBytes } from '../../../../../src-main/core/corpus/formats/types.js'
import { memorySource } from '../../../../fixtures/corpus/memorySource.js'

async function read(reader: FormatReader, content: string | Uint8Array, textField?: string, source?: SourceBytes): Promise<ExtractedDocument[]> {
  const documents: ExtractedDocument[] = []
  const options = { limits: DEFAULT_EXTRACTION_LIMITS, textField }
  for await (const document of reader(source ?? memorySource('/in/records', content), options)) documents.push(document)
  return documents
}

async function readError(reader: FormatReader, content: string, textField?: string): Promise<Error & { code?: string; file?: string }> {
  return read(reader, content, textField).then(
    () => expect.fail('the file was read'),
    (error: unknown) => error as Error,
  )
}

/** A source whose stream arrives in tiny pieces, splitting lines and UTF-8 sequences. */
function trickleSource(content: Uint8Array, pieceBytes: number): SourceBytes {
  return {
    displayPath: '/in/trickle',
    sizeBytes: content.byteLength,
    readAll: () => Promise.reject(new Error('streaming readers must not call readAll')),
    async *stream() {
      for (let offset = 0; offset < content.byteLength; offset += pieceBytes) yield content.subarray(offset, offset + pieceBytes)
    },
  }
}

describe('readJsonl', () => {
  it('yields one document per record, with line locators and titles', async () => {
    const content = '{"text":"first","title":"One"}\r\n\n{"content":"second"}\n{"body":["a","b"],"title":"  "}\n{"text":42}'
    expect(await read(readJsonl, content)).toEqual([
      { locator: 'line 1', title: 'One', blocks: [{ text: 'first' }] },
      { locator: 'line 3', blocks: [{ text: 'second' }] },
      { locator: 'line 4', blocks: [{ text: 'a\n\nb' }] },
      { locator: 'line 5', blocks: [{ text: '42' }] },
    ])
  })

  it('reports bad lines and records without text on their own documents', async () => {
    const content = '{"text":"ok"}\n{"text": broken\n{"id":3}\n[1,2]\n{"text":""}\n{"text":{"x":1}}\n{"text":"fine"}\n'
    expect(await read(readJsonl, content)).toEqual([
      { locator: 'line 1', blocks: [{ text: 'ok' }] },
      { locator: 'line 2', blocks: [], warnings: [expect.stringMatching(/^line 2: not valid JSON \(.+\)$/)] },
      { locator: 'line 3', blocks: [], warnings: ['line 3: no text, content, body field'] },
      { locator: 'line 4', blocks: [], warnings: ['line 4: not a JSON object'] },
      { locator: 'line 5', blocks: [], warnings: ['line 5: field "text" is empty'] },
      { locator: 'line 6', blocks: [], warnings: ['line 6: field "text" is not text'] },
      { locator: 'line 7', blocks: [{ text: 'fine' }] },
    ])
  })

  it('holds skipped records back until a record has text', async () => {
    const documents = await read(readJsonl, '{"id":1}\n{"text":"late"}\n')
    expect(documents).toEqual([
      { locator: 'line 1', blocks: [], warnings: ['line 1: no text, content, body field'] },
      { locator: 'line 2', blocks: [{ text: 'late' }] },
    ])
  })

  it('follows a nested field path, or a key that contains a dot', async () => {
    const content = '{"meta":{"body":"nested"}}\n{"meta.body":"dotted"}\n{"meta":"flat"}\n'
    expect(await read(readJsonl, content, 'meta.body')).toEqual([
      { locator: 'line 1', blocks: [{ text: 'nested' }] },
      { locator: 'line 2', blocks: [{ text: 'dotted' }] },
      { locator: 'line 3', blocks: [], warnings: ['line 3: no "meta.body" field'] },
    ])
  })

  it('refuses a file where no record has the text field, naming the fields', async () => {
    expect(await readError(readJsonl, '{"id":1,"question":"q"}\n{"id":2,"answer":"a"}\n')).toMatchObject({
      code: 'unreadable_file',
      file: '/in/records',
      message: 'no text field: records have id, question, answer; pass --text-field',
    })
    expect((await readError(readJsonl, '{"text":"x"}\n', 'prompt')).message).toBe('no "prompt" field: records have text; pass --text-field')
    expect((await readError(readJsonl, 'nope\n')).message).toMatch(/^not valid JSON Lines \(line 1: not valid JSON/)
  })

  it('caps the warnings at 100 and counts the rest', async () => {
    const content = '{"text":"ok"}\n' + 'bad\n'.repeat(150)
    const documents = await read(readJsonl, content)
    expect(documents).toHaveLength(1 + 100 + 1)
    expect(documents.at(-2)?.locator).toBe('line 101')
    expect(documents.at(-1)).toEqual({ locator: '', blocks: [], warnings: ['… and 50 more records skipped'] })
  })

  it('streams: lines and UTF-8 sequences split across pieces', async () => {
    const bytes = new TextEncoder().encode('\uFEFF{"text":"héllo – 日本 🎉"}\n{"text":"second"}\n')
    const documents = await read(readJsonl, '', undefined, trickleSource(bytes, 3))
    expect(documents).toEqual([
      { locator: 'line 1', blocks: [{ text: 'héllo – 日本 🎉' }] },
      { locator: 'line 2', blocks: [{ text: 'second' }] },
    ])
  })
})

describe('readCsv', () => {
  it('reads rows with quoted multi-line fields and a BOM, matching headers in any case', async () => {
    const content = '\uFEFFId,Title,Text\n1,First,"Line one\nline two, with comma"\n\n2,,"He said ""hi"""\n'
    expect(await read(readCsv, content)).toEqual([
      { locator: 'row 1', title: 'First', blocks: [{ text: 'Line one\nline two, with comma' }] },
      { locator: 'row 2', blocks: [{ text: 'He said "hi"' }] },
    ])
  })

  it('uses the named column, reports empty and malformed rows, and keeps counting rows', async () => {
    const content = 'id,question,answer\n1,Q1,A1\n2,,A2\n3,"Q3\n'
    expect(await read(readCsv, content, 'Question')).toEqual([
      { locator: 'row 1', blocks: [{ text: 'Q1' }] },
      { locator: 'row 2', blocks: [], warnings: ['row 2: empty "question"'] },
      { locator: 'row 3', blocks: [], warnings: [expect.stringMatching(/^row 3 \(line \d+: Quote Not Closed/)] },
    ])
  })

  it('refuses a CSV without a text column, naming the columns', async () => {
    expect(await readError(readCsv, 'id,question\n1,q\n')).toMatchObject({
      code: 'unreadable_file',
      message: 'no text field: columns are id, question; pass --text-field',
    })
    expect((await readError(readCsv, 'id,question\n')).message).toBe('no text field: columns are id, question; pass --text-field')
  })

  it('reads Windows-1252 bytes that are not UTF-8', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('text\n'), 0x93, 0x63, 0x61, 0x66, 0xe9, 0x94, 0x0a])
    expect(await read(readCsv, bytes)).toEqual([
      { locator: 'row 1', blocks: [{ text: '\u201Ccafé\u201D' }] },
      { locator: '', blocks: [], warnings: ['not valid UTF-8: read as Windows-1252'] },
    ])
    const late = new Uint8Array([...new TextEncoder().encode('text\nfirst\n'), 0x93, 0x0a])
    const documents = await read(readCsv, '', undefined, trickleSource(late, 4))
    expect(documents.map((document) => document.blocks[0]?.text ?? document.warnings)).toEqual([
      'first',
      '\u201C',
      ['not valid UTF-8 after byte 8: the rest read as Windows-1252'],
    ])
  })

  it('reads TSV', async () => {
    expect(await read(readTsv, 'title\tbody\nA\tfirst, with comma\nB\tsecond\n')).toEqual([
      { locator: 'row 1', title: 'A', blocks: [{ text: 'first, with comma' }] },
      { locator: 'row 2', title: 'B', blocks: [{ text: 'second' }] },
    ])
  })
})
