import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writePdfFixture } from '../../fixtures/corpus/writePdfFixture.js'

/** A deterministic generator of prose-like text: a Zipf-distributed vocabulary of made-up words. */
export class ProseGenerator {
  private state: number
  private readonly vocabulary: string[]
  private readonly cumulative: Float64Array

  constructor(seed: number, vocabularySize = 20_000) {
    this.state = (seed * 2654435761) >>> 0 || 1
    const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vi', 'so', 'de', 'pa', 'gri', 'str', 'on', 'el', 'ax', 'um', 'is', 'or', 'en', 'ly']
    const common = 'the of and to in is that for it as with was on be by at this from or an are which have not but had'.split(' ')
    this.vocabulary = [...common]
    while (this.vocabulary.length < vocabularySize) {
      const parts = 1 + this.nextInt(4)
      let word = ''
      for (let i = 0; i < parts; i++) word += syllables[this.nextInt(syllables.length)]
      this.vocabulary.push(word)
    }
    this.cumulative = new Float64Array(vocabularySize)
    let sum = 0
    for (let i = 0; i < vocabularySize; i++) this.cumulative[i] = sum += 1 / (i + 1)
  }

  nextInt(n: number): number {
    // xorshift32
    let x = this.state
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.state = x >>> 0
    return this.state % n
  }

  private word(): string {
    const target = (this.nextInt(1 << 30) / (1 << 30)) * (this.cumulative[this.cumulative.length - 1] as number)
    let low = 0
    let high = this.cumulative.length - 1
    while (low < high) {
      const mid = (low + high) >> 1
      if ((this.cumulative[mid] as number) < target) low = mid + 1
      else high = mid
    }
    return this.vocabulary[low] as string
  }

  sentence(): string {
    const length = 8 + this.nextInt(18)
    const words: string[] = []
    for (let i = 0; i < length; i++) words.push(this.word())
    const first = words[0] as string
    words[0] = first.charAt(0).toUpperCase() + first.slice(1)
    return words.join(' ') + (this.nextInt(10) === 0 ? '?' : '.')
  }

  paragraph(): string {
    const sentences: string[] = []
    const count = 3 + this.nextInt(6)
    for (let i = 0; i < count; i++) sentences.push(this.sentence())
    return sentences.join(' ')
  }

  /** Paragraphs up to about `chars` characters. */
  paragraphs(chars: number): string[] {
    const out: string[] = []
    let total = 0
    while (total < chars) {
      const paragraph = this.paragraph()
      out.push(paragraph)
      total += paragraph.length + 2
    }
    return out
  }

  /** The text with about `share` of its words replaced: a near duplicate. */
  mutate(text: string, share: number): string {
    return text.replace(/[a-z]+/g, (word) => (this.nextInt(1000) < share * 1000 ? this.word() : word))
  }
}

export interface GeneratedFiles {
  dir: string
  files: number
  bytes: number
}

/** Plain text files of `fileBytes` each; every 20th is a lightly edited copy of an earlier one (near duplicates). */
export async function writeTextCorpus(dir: string, totalBytes: number, fileBytes: number, seed: number): Promise<GeneratedFiles> {
  await mkdir(dir, { recursive: true })
  const generator = new ProseGenerator(seed)
  const written: string[] = []
  let bytes = 0
  let files = 0
  while (bytes < totalBytes) {
    const text = files % 20 === 19 && written.length > 0 ? generator.mutate(written[generator.nextInt(written.length)] as string, 0.01) : generator.paragraphs(fileBytes).join('\n\n') + '\n'
    if (written.length < 8) written.push(text)
    await writeFile(join(dir, `doc-${String(files).padStart(5, '0')}.txt`), text)
    bytes += Buffer.byteLength(text)
    files++
  }
  return { dir, files, bytes }
}

/** HTML pages with navigation, a cookie banner, scripts and a footer around an article. */
export async function writeHtmlCorpus(dir: string, totalBytes: number, fileBytes: number, seed: number): Promise<GeneratedFiles> {
  await mkdir(dir, { recursive: true })
  const generator = new ProseGenerator(seed)
  let bytes = 0
  let files = 0
  while (bytes < totalBytes) {
    const sections = generator
      .paragraphs(fileBytes)
      .map((p, i) => (i % 6 === 0 ? `<h2>${generator.sentence()}</h2>` : '') + `<p>${p}</p>`)
      .join('\n')
    const html =
      `<!doctype html><html><head><meta charset="utf-8"><title>${generator.sentence()}</title><script>window.dataLayer = [];</script><style>body{font:14px sans-serif}</style></head>` +
      `<body><div class="cookie-banner">We use cookies. <button>Accept</button></div><nav class="menu"><a href="/">Home</a><a href="/docs">Docs</a><a href="/about">About</a></nav>` +
      `<main><article><h1>${generator.sentence()}</h1>\n${sections}</article></main><aside class="sidebar">Related: ${generator.sentence()}</aside><footer>© Example Corp</footer></body></html>\n`
    await writeFile(join(dir, `page-${String(files).padStart(5, '0')}.html`), html)
    bytes += Buffer.byteLength(html)
    files++
  }
  return { dir, files, bytes }
}

/** PDFs of `pagesPerFile` pages with running headers and footers, written by pdfkit. */
export async function writePdfCorpus(dir: string, totalBytes: number, pagesPerFile: number, seed: number): Promise<GeneratedFiles & { textChars: number }> {
  await mkdir(dir, { recursive: true })
  const generator = new ProseGenerator(seed)
  let bytes = 0
  let files = 0
  let textChars = 0
  while (bytes < totalBytes) {
    const pages = Array.from({ length: pagesPerFile }, (_, n) => {
      const paragraphs = generator.paragraphs(2600)
      textChars += paragraphs.reduce((sum, p) => sum + p.length, 0)
      return { header: `Example Corp annual report ${files}`, footer: `Page ${n + 1} of ${pagesPerFile}`, paragraphs }
    })
    const pdf = await writePdfFixture({ pages, fontSize: 9 })
    await writeFile(join(dir, `report-${String(files).padStart(4, '0')}.pdf`), pdf)
    bytes += pdf.length
    files++
  }
  return { dir, files, bytes, textChars }
}
