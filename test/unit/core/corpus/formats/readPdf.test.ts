import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { readPdf } from '../../../../../src-main/core/corpus/formats/readPdf.js'
import { DEFAULT_EXTRACTION_LIMITS, type ExtractedDocument } from '../../../../../src-main/core/corpus/formats/types.js'
import { UnreadableFileError } from '../../../../../src-main/core/corpus/formats/UnreadableFileError.js'
import { memorySource } from '../../../../fixtures/corpus/memorySource.js'
import { writePdfFixture, type PdfFixturePage } from '../../../../fixtures/corpus/writePdfFixture.js'

const options = { limits: DEFAULT_EXTRACTION_LIMITS }

async function readAll(bytes: Uint8Array): Promise<ExtractedDocument[]> {
  const documents: ExtractedDocument[] = []
  for await (const document of readPdf(memorySource('/corpus/report.pdf', bytes), options)) documents.push(document)
  return documents
}

async function readError(bytes: Uint8Array): Promise<UnreadableFileError> {
  const error: unknown = await readAll(bytes).then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(UnreadableFileError)
  return error as UnreadableFileError
}

const REPORT_PAGES: PdfFixturePage[] = [
  {
    paragraphs: [
      'Quarterly results were strong. The team reviewed every exam-\nple carefully before the launch.',
      'Revenue grew in all regions.\nCosts stayed flat.',
    ],
  },
  { paragraphs: ['The second page describes the market.', 'It has two paragraphs of its own.'] },
  { paragraphs: ['Page three concludes the report.', 'Thanks for reading.'] },
].map((page, index) => ({ ...page, header: 'ACME Corp — Confidential', footer: `Page ${index + 1} of 3` }))

describe('readPdf', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('gives one block per page without running header, footer and hyphenation, paragraphs apart', async () => {
    const documents = await readAll(await writePdfFixture({ pages: REPORT_PAGES }))

    expect(documents).toHaveLength(1)
    expect(documents[0]?.locator).toBe('')
    expect(documents[0]?.warnings).toBeUndefined()
    expect(documents[0]?.blocks).toEqual([
      {
        page: 1,
        text:
          'Quarterly results were strong. The team reviewed every example carefully before the launch.\n\n' +
          'Revenue grew in all regions. Costs stayed flat.',
      },
      { page: 2, text: 'The second page describes the market.\n\nIt has two paragraphs of its own.' },
      { page: 3, text: 'Page three concludes the report.\n\nThanks for reading.' },
    ])
  })

  it('keeps a hyphen before an uppercase word and removes bare page numbers', async () => {
    const pages = [
      { footer: '1', paragraphs: ['Read the so-\nCalled guide first.'] },
      { footer: '2', paragraphs: ['Then the second part.'] },
    ]
    const [document] = await readAll(await writePdfFixture({ pages }))

    expect(document?.blocks).toEqual([
      { page: 1, text: 'Read the so- Called guide first.' },
      { page: 2, text: 'Then the second part.' },
    ])
  })

  it('skips pages without text with a warning', async () => {
    const pages = [{ paragraphs: ['Only this page has text.'] }, { paragraphs: [] }]
    const [document] = await readAll(await writePdfFixture({ pages }))

    expect(document?.blocks).toEqual([{ page: 1, text: 'Only this page has text.' }])
    expect(document?.warnings).toEqual(['no text layer on page 2 (scanned images?); OCR is not supported'])
  })

  it('rejects a PDF whose pages have no text at all', async () => {
    const error = await readError(await writePdfFixture({ pages: [{ paragraphs: [] }, { paragraphs: [] }] }))

    expect(error.message).toBe('PDF has no text layer (scanned images?); OCR is not supported')
    expect(error.file).toBe('/corpus/report.pdf')
  })

  it('rejects an encrypted PDF', async () => {
    const error = await readError(await writePdfFixture({ pages: REPORT_PAGES, userPassword: 'secret' }))

    expect(error.message).toBe('PDF is encrypted: a password is required')
  })

  it('rejects a truncated PDF as damaged', async () => {
    const bytes = await writePdfFixture({ pages: REPORT_PAGES })
    const error = await readError(bytes.subarray(0, Math.floor(bytes.length / 2)))

    expect(error.message).toMatch(/^damaged PDF: /)
  })

  it('rejects bytes that are not a PDF as damaged', async () => {
    const error = await readError(new TextEncoder().encode('just some text, no PDF header'))

    expect(error.message).toMatch(/^damaged PDF: /)
  })

  it('leaves the caller’s bytes intact and prints nothing to the console', async () => {
    const printed = vi.fn()
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) vi.spyOn(console, method).mockImplementation(printed)
    const writeStdout = vi.spyOn(process.stdout, 'write')
    const bytes = await writePdfFixture({ pages: REPORT_PAGES })
    const copy = bytes.slice()

    await readAll(bytes)
    await readAll(bytes.subarray(0, bytes.length - 200)).catch(() => undefined)

    expect(bytes).toEqual(copy)
    expect(printed).not.toHaveBeenCalled()
    expect(writeStdout).not.toHaveBeenCalled()
  })

  it('works inside a worker thread', async () => {
    const bytes = await writePdfFixture({ pages: REPORT_PAGES.slice(0, 1) })
    const readerPath = fileURLToPath(new URL('../../../../../src-main/core/corpus/formats/readPdf.ts', import.meta.url))
    const workerCode = `
      const { parentPort, workerData } = require('node:worker_threads')
      import('tsx/esm/api')
        .then(({ tsImport }) => tsImport(workerData.readerPath, workerData.parentUrl))
        .then(async ({ readPdf }) => {
          const source = { displayPath: 'w.pdf', sizeBytes: workerData.bytes.length, readAll: async () => workerData.bytes, stream: async function* () {} }
          const pages = []
          for await (const document of readPdf(source, { limits: {} })) pages.push(...document.blocks.map((block) => block.page))
          parentPort.postMessage({ pages })
        })
        .catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }))
    `
    const worker = new Worker(workerCode, { eval: true, workerData: { bytes, readerPath, parentUrl: import.meta.url } })
    const reply = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    await worker.terminate()

    expect(reply).toEqual({ pages: [1] })
  }, 30_000)
})
