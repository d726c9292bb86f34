import { describe, expect, it } from 'vitest'
import { readEpub } from '../../../../../src-main/core/corpus/formats/readEpub.js'
import { DEFAULT_EXTRACTION_LIMITS, type ExtractedDocument } from '../../../../../src-main/core/corpus/formats/types.js'
import { memorySource } from '../../../../fixtures/corpus/memorySource.js'
import { writeEpubFixture, writeZip } from '../../../../fixtures/corpus/zipFixtures.js'

const options = { limits: DEFAULT_EXTRACTION_LIMITS }

async function read(bytes: Uint8Array): Promise<ExtractedDocument[]> {
  const documents: ExtractedDocument[] = []
  for await (const document of readEpub(memorySource('/in/book.epub', bytes), options)) documents.push(document)
  return documents
}

async function readError(bytes: Uint8Array): Promise<Error & { code?: string; file?: string }> {
  return read(bytes).then(
    () => expect.fail('the EPUB was read'),
    (error: unknown) => error as Error,
  )
}

const chapters = [
  { title: 'Chapter One', html: '<h1>One</h1><p>It was a dark night.</p><p>Rain &amp; wind.</p>' },
  { title: 'Chapter Two', html: '<p>Morning came.</p>' },
]

const expectedBook: ExtractedDocument[] = [
  {
    locator: '',
    title: 'A Test Book',
    blocks: [
      { text: 'One\n\nIt was a dark night.\n\nRain & wind.', section: 'Chapter One' },
      { text: 'Morning came.', section: 'Chapter Two' },
    ],
  },
]

const XML = '<?xml version="1.0" encoding="UTF-8"?>'
const CONTAINER = `${XML}<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="book.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`

function packageDocument(manifest: string, spine: string, metadata = '<dc:title>Bare</dc:title>'): string {
  return (
    `${XML}<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">${metadata}</metadata>` +
    `<manifest>${manifest}</manifest><spine>${spine}</spine></package>`
  )
}

const page = (body: string, title = ''): string => `${XML}<html xmlns="http://www.w3.org/1999/xhtml"><head><title>${title}</title></head><body>${body}</body></html>`

describe('readEpub', () => {
  it('reads an EPUB 3 in spine order, titling chapters from the navigation document', async () => {
    expect(await read(await writeEpubFixture({ title: 'A Test Book', chapters }))).toEqual(expectedBook)
  })

  it('reads an EPUB 2, titling chapters from the NCX', async () => {
    expect(await read(await writeEpubFixture({ title: 'A Test Book', chapters, version: 2 }))).toEqual(expectedBook)
  })

  it('falls back to the first heading, the page title, then the file name', async () => {
    const bytes = await writeZip([
      { name: 'mimetype', data: 'application/epub+zip', compress: false },
      { name: 'META-INF/container.xml', data: CONTAINER },
      {
        name: 'book.opf',
        data: packageDocument(
          '<item id="a" href="a.xhtml" media-type="application/xhtml+xml"/><item id="b" href="sub/b%20c.xhtml" media-type="application/xhtml+xml"/>' +
            '<item id="c" href="c.xhtml" media-type="application/xhtml+xml"/><item id="gone" href="gone.xhtml" media-type="application/xhtml+xml"/>' +
            '<item id="img" href="cover.jpg" media-type="image/jpeg"/>',
          '<itemref idref="img"/><itemref idref="a"/><itemref idref="b"/><itemref idref="c"/><itemref idref="gone"/>',
        ),
      },
      { name: 'a.xhtml', data: page('<h2>Heading A</h2><p>Text A.</p>', 'Page A') },
      { name: 'sub/b c.xhtml', data: page('<p>Text B.</p>', 'Page B') },
      { name: 'C.XHTML', data: page('<p>Text C.</p>') },
      { name: 'cover.jpg', data: new Uint8Array([0xff, 0xd8, 0xff]) },
    ])
    expect(await read(bytes)).toEqual([
      {
        locator: '',
        title: 'Bare',
        blocks: [
          { text: 'Heading A\n\nText A.', section: 'Heading A' },
          { text: 'Text B.', section: 'Page B' },
          { text: 'Text C.', section: 'c.xhtml' },
        ],
        warnings: ['chapter gone.xhtml is listed but missing from the archive'],
      },
    ])
  })

  it('explains what is missing from a broken EPUB', async () => {
    expect(await readError(new TextEncoder().encode('not a zip'))).toMatchObject({ code: 'unreadable_file', file: '/in/book.epub', message: /^not a valid EPUB: not a zip archive/ })
    expect(await readError(await writeZip([{ name: 'mimetype', data: 'application/epub+zip' }]))).toMatchObject({
      message: 'not a valid EPUB: META-INF/container.xml missing',
    })
    expect(await readError(await writeZip([{ name: 'META-INF/container.xml', data: CONTAINER }]))).toMatchObject({
      message: 'not a valid EPUB: package document book.opf missing',
    })
    expect(await readError(await writeZip([{ name: 'META-INF/container.xml', data: `${XML}<container><rootfiles/></container>` }]))).toMatchObject({
      message: 'not a valid EPUB: META-INF/container.xml names no package document',
    })
  })

  it('refuses a DRM-encrypted EPUB but accepts obfuscated fonts', async () => {
    const encryption = (algorithm: string, uri: string): string =>
      `${XML}<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">` +
      `<enc:EncryptedData><enc:EncryptionMethod Algorithm="${algorithm}"/><enc:CipherData><enc:CipherReference URI="${uri}"/></enc:CipherData></enc:EncryptedData></encryption>`
    const book = (encryptionXml: string): Promise<Uint8Array> =>
      writeZip([
        { name: 'META-INF/container.xml', data: CONTAINER },
        { name: 'META-INF/encryption.xml', data: encryptionXml },
        { name: 'book.opf', data: packageDocument('<item id="a" href="a.xhtml" media-type="application/xhtml+xml"/>', '<itemref idref="a"/>') },
        { name: 'a.xhtml', data: page('<p>Readable.</p>') },
      ])
    expect(await readError(await book(encryption('http://www.w3.org/2001/04/xmlenc#aes128-cbc', 'a.xhtml')))).toMatchObject({ message: 'EPUB is DRM-encrypted' })
    const [document] = await read(await book(encryption('http://www.idpf.org/2008/embedding', 'fonts/a.otf')))
    expect(document?.blocks).toEqual([{ text: 'Readable.', section: 'a.xhtml' }])
  })
})
