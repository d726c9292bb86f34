import { describe, expect, it } from 'vitest'
import { readDocx } from '../../../../../src-main/core/corpus/formats/readDocx.js'
import { DEFAULT_EXTRACTION_LIMITS, type ExtractedDocument } from '../../../../../src-main/core/corpus/formats/types.js'
import { memorySource } from '../../../../fixtures/corpus/memorySource.js'
import { writeDocxFixture, writeZip, writeZipBomb } from '../../../../fixtures/corpus/zipFixtures.js'

const options = { limits: DEFAULT_EXTRACTION_LIMITS }

async function read(bytes: Uint8Array): Promise<ExtractedDocument[]> {
  const documents: ExtractedDocument[] = []
  for await (const document of readDocx(memorySource('/in/report.docx', bytes), options)) documents.push(document)
  return documents
}

async function readError(bytes: Uint8Array): Promise<Error & { code?: string; file?: string }> {
  return read(bytes).then(
    () => expect.fail('the DOCX was read'),
    (error: unknown) => error as Error,
  )
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'

function docxWithBody(body: string, extra: { name: string; data: string }[] = []): Promise<Uint8Array> {
  return writeZip([{ name: 'word/document.xml', data: `<?xml version="1.0"?><w:document ${W}><w:body>${body}</w:body></w:document>` }, ...extra])
}

describe('readDocx', () => {
  it('splits the document into blocks at headings, with tables and footnotes', async () => {
    const bytes = await writeDocxFixture({
      title: 'Annual Report',
      paragraphs: [
        { text: 'Preface text.' },
        { text: 'Introduction', style: 'Heading1' },
        { text: 'First paragraph.' },
        { text: 'Second\tparagraph.' },
        { table: [['Name', 'Value'], ['alpha', '1']] },
        { text: 'Details', style: 'Heading2' },
        { text: 'More & more <text>.' },
      ],
      footnotes: ['A note.', 'Another note.'],
    })
    expect(await read(bytes)).toEqual([
      {
        locator: '',
        title: 'Annual Report',
        blocks: [
          { text: 'Preface text.' },
          { text: 'Introduction\n\nFirst paragraph.\n\nSecond\tparagraph.\n\nName\tValue\nalpha\t1', section: 'Introduction' },
          { text: 'Details\n\nMore & more <text>.', section: 'Details' },
          { text: 'A note.\n\nAnother note.', section: 'Footnotes' },
        ],
      },
    ])
  })

  it('takes the title from the first heading when the properties have none', async () => {
    const bytes = await writeDocxFixture({ paragraphs: [{ text: 'The Title', style: 'Title' }, { text: 'Body.' }] })
    const [document] = await read(bytes)
    expect(document).toEqual({ locator: '', title: 'The Title', blocks: [{ text: 'The Title\n\nBody.', section: 'The Title' }] })
  })

  it('handles runs, white space, breaks, symbols, fallbacks and outline levels', async () => {
    const body =
      '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>' +
      '<w:r><w:t>  trimmed  </w:t></w:r><w:r><w:t xml:space="preserve"> kept </w:t></w:r>' +
      '<w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t><w:cr/><w:t>non</w:t><w:noBreakHyphen/><w:t>breaking</w:t>' +
      '<w:sym w:font="Wingdings" w:char="F04A"/></w:r>' +
      '<w:r><w:instrText> PAGE </w:instrText></w:r><w:del><w:r><w:delText>gone</w:delText></w:r></w:del></w:p>' +
      '<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:t>shape text</w:t></mc:Choice>' +
      '<mc:Fallback><w:t>shape text again</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>' +
      '<w:p><w:pPr><w:pStyle w:val="berschrift1"/></w:pPr><w:r><w:t>Kapitel</w:t></w:r></w:p>' +
      '<w:p><w:r><w:t>Inhalt</w:t></w:r></w:p>' +
      '<w:p><w:pPr><w:outlineLvl w:val="1"/></w:pPr><w:r><w:t>Outlined</w:t></w:r></w:p>' +
      '<w:p><w:pPr><w:pStyle w:val="MyHeading"/></w:pPr><w:r><w:t>Styled</w:t></w:r></w:p>' +
      '<w:p/><w:p><w:r><w:t>   </w:t></w:r></w:p>'
    const styles =
      `<?xml version="1.0"?><w:styles ${W}><w:style w:type="paragraph" w:styleId="Custom"><w:name w:val="heading 3"/></w:style>` +
      '<w:style w:type="paragraph" w:styleId="MyHeading"><w:name w:val="My heading"/><w:basedOn w:val="Custom"/></w:style></w:styles>'
    const [document] = await read(await docxWithBody(body, [{ name: 'word/styles.xml', data: styles }]))
    expect(document).toEqual({
      locator: '',
      title: 'Kapitel',
      blocks: [
        { text: 'trimmed kept a\tb\nc\nnon-breaking\n\nshape text' },
        { text: 'Kapitel\n\nInhalt', section: 'Kapitel' },
        { text: 'Outlined', section: 'Outlined' },
        { text: 'Styled', section: 'Styled' },
      ],
    })
  })

  it('joins the paragraphs of a cell and flattens nested tables', async () => {
    const cell = (content: string): string => `<w:tc>${content}</w:tc>`
    const paragraph = (text: string): string => `<w:p><w:r><w:t>${text}</w:t></w:r></w:p>`
    const inner = `<w:tbl><w:tr>${cell(paragraph('i1'))}${cell(paragraph('i2'))}</w:tr></w:tbl>`
    const body = `<w:tbl><w:tr>${cell(paragraph('one') + paragraph('two'))}${cell(inner + paragraph(''))}</w:tr><w:tr>${cell('<w:p/>')}</w:tr></w:tbl>`
    const [document] = await read(await docxWithBody(body))
    expect(document?.blocks).toEqual([{ text: 'one two\ti1 i2' }])
  })

  it('refuses a file that is not a zip, or a zip without a document', async () => {
    expect(await readError(new TextEncoder().encode('plain text'))).toMatchObject({
      code: 'unreadable_file',
      file: '/in/report.docx',
      message: 'not a valid DOCX: not a zip archive',
    })
    expect(await readError(await writeZip([{ name: 'other.xml', data: '<x/>' }]))).toMatchObject({
      message: 'not a valid DOCX: word/document.xml missing',
    })
  })

  it('refuses a DOCX that is a zip bomb', async () => {
    expect((await readError(await writeZipBomb())).message).toMatch(/^archive bomb: zeros\.bin would inflate/)
  })
})
