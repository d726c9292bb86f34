import { describe, expect, it } from 'vitest'
import { htmlToBlocks, readHtml } from '../../../../../src-main/core/corpus/formats/readHtml.js'
import { DEFAULT_EXTRACTION_LIMITS, type ExtractedDocument } from '../../../../../src-main/core/corpus/formats/types.js'
import { memorySource } from '../../../../fixtures/corpus/memorySource.js'

async function readAll(bytes: Uint8Array | string): Promise<ExtractedDocument[]> {
  const documents: ExtractedDocument[] = []
  for await (const document of readHtml(memorySource('/corpus/page.html', bytes), { limits: DEFAULT_EXTRACTION_LIMITS })) documents.push(document)
  return documents
}

const NEWS_PAGE = `<!doctype html>
<html><head><title>Rain  &amp; Shine</title><meta charset="utf-8"><script>track("visit")</script><style>p { color: red }</style></head>
<body class="layout-with-sidebar">
  <header><nav><a href="/">Home</a> <a href="/news">News</a></nav><h1>Daily Weather</h1></header>
  <div id="cookie-banner">We use cookies. <button>Accept</button></div>
  <main>
    <article>
      <header><h1>Rain   expected</h1><p class="byline">By Ann Lee</p></header>
      <p>Clouds arrive on <b>Monday</b>
         with <a href="/more">heavy rain</a> &mdash; bring an umbrella.</p>
      <p>Line one<br>Line two<br><br>After a double break</p>
      <h2>Outlook</h2>
      <ul><li>Tuesday: dry</li><li>Wednesday: wind</li></ul>
      <table><tr><th>Day</th><th>Max</th></tr><tr><td>Tue</td><td>18 °C</td></tr></table>
      <h4>Small print</h4>
      <pre>  forecast --city=Lyon
    --days 3

done</pre>
      <div class="share-buttons">Share on social media</div>
      <footer>Filed under weather</footer>
    </article>
  </main>
  <aside>Most read: something else</aside>
  <footer>© 2024 Weather Inc.</footer>
  <noscript>Enable JavaScript</noscript>
</body></html>`

describe('htmlToBlocks', () => {
  it('keeps the main article, split into sections at headings, without page furniture', () => {
    expect(htmlToBlocks(NEWS_PAGE)).toEqual({
      title: 'Rain & Shine',
      blocks: [
        {
          section: 'Rain expected',
          text:
            'Rain expected\n\nBy Ann Lee\n\nClouds arrive on Monday with heavy rain — bring an umbrella.\n\n' +
            'Line one\nLine two\n\nAfter a double break',
        },
        {
          section: 'Outlook',
          text: 'Outlook\n\nTuesday: dry\n\nWednesday: wind\n\nDay | Max\n\nTue | 18 °C\n\nSmall print\n\n  forecast --city=Lyon\n    --days 3\n\ndone',
        },
      ],
    })
  })

  it('keeps every article when there is no main element', () => {
    const html = '<body><nav>Menu</nav><article><p>First story.</p></article><div>Ad</div><article><p>Second story.</p></article></body>'
    expect(htmlToBlocks(html)).toEqual({ blocks: [{ text: 'First story.\n\nSecond story.' }] })
  })

  it('drops boilerplate by id, class and role when the body has no main content element', () => {
    const html = `<body>
      <div role="navigation">Skip to content</div>
      <div class="breadcrumb">Home › Docs</div>
      <h1>Install</h1><p>Run the installer.</p>
      <div id="comments"><p>Great post!</p></div>
      <div class="related-posts">See also</div>
      <div class="newsletter subscribe-box">Subscribe now</div>
    </body>`
    expect(htmlToBlocks(html)).toEqual({ title: 'Install', blocks: [{ section: 'Install', text: 'Install\n\nRun the installer.' }] })
  })

  it('keeps the whole body and headers in keepWholeBody mode, parsing XHTML', () => {
    const xhtml = `<?xml version="1.0" encoding="utf-8"?>
      <html xmlns="http://www.w3.org/1999/xhtml"><head><title>Chapter 1</title></head>
      <body><header><h2>The Beginning</h2></header><p>It was a dark night.<br/>Very dark.</p><nav class="menu"><p>Notes</p></nav></body></html>`
    expect(htmlToBlocks(xhtml, { xml: true, keepWholeBody: true })).toEqual({
      title: 'Chapter 1',
      blocks: [{ section: 'The Beginning', text: 'The Beginning\n\nIt was a dark night.\nVery dark.\n\nNotes' }],
    })
  })

  it('gives no blocks for a page without text', () => {
    expect(htmlToBlocks('<html><body><script>1</script> </body></html>')).toEqual({ blocks: [] })
  })
})

describe('readHtml', () => {
  it('reads a page into one document with its title', async () => {
    const [document] = await readAll('<title>T</title><p>Hello&nbsp;world &amp; friends</p>')
    expect(document).toEqual({ locator: '', title: 'T', blocks: [{ text: 'Hello\u00A0world & friends' }] })
  })

  it('honours a declared charset', async () => {
    const head = new TextEncoder().encode('<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><p>')
    const [document] = await readAll(new Uint8Array([...head, 0x93, 0x63, 0x61, 0x66, 0xe9, 0x94]))
    expect(document?.blocks).toEqual([{ text: '“café”' }])
  })

  it('detects the encoding when none is declared', async () => {
    const [document] = await readAll(new Uint8Array([...new TextEncoder().encode('<p>'), 0xe9, 0x74, 0xe9]))
    expect(document?.blocks).toEqual([{ text: 'été' }])
  })

  it('yields nothing for an empty page', async () => {
    expect(await readAll('')).toEqual([])
  })
})
