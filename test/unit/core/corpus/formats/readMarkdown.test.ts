import { describe, expect, it } from 'vitest'
import { markdownToBlocks, readMarkdown } from '../../../../../src-main/core/corpus/formats/readMarkdown.js'
import { DEFAULT_EXTRACTION_LIMITS, type ExtractedDocument } from '../../../../../src-main/core/corpus/formats/types.js'
import { memorySource } from '../../../../fixtures/corpus/memorySource.js'

async function readAll(text: string): Promise<ExtractedDocument[]> {
  const documents: ExtractedDocument[] = []
  for await (const document of readMarkdown(memorySource('/corpus/guide.md', text), { limits: DEFAULT_EXTRACTION_LIMITS })) documents.push(document)
  return documents
}

const GUIDE = `---
title: "Field Guide"
tags: [birds, spring]
---
Welcome to the *guide*.

# Getting started

Read the [manual](https://example.com/manual "Manual") and run \`setup --all\`.
A second line with ![a heron](heron.png), **bold**, _italic_, ~~gone~~ and a\\*star.
Fish &amp; chips.

- Binoculars
- Notebook with **pencil**
  - spare pencil
1. Wake up early

\`\`\`sh
count-birds --park "Central"
  --verbose
\`\`\`

## Species

| Name | Colour |
|------|:------:|
| Robin | *red* |
| Jay | blue |

> Quiet, please.

<div class="note"><p>Binoculars are <b>optional</b>.</p></div>

#### Footnote heading

The end.
`

describe('markdownToBlocks', () => {
  it('gives plain text split into sections at headings, without front matter', () => {
    expect(markdownToBlocks(GUIDE)).toEqual({
      title: 'Field Guide',
      blocks: [
        { text: 'Welcome to the guide.' },
        {
          section: 'Getting started',
          text:
            'Getting started\n\n' +
            'Read the manual and run setup --all.\nA second line with a heron, bold, italic, gone and a*star.\nFish & chips.\n\n' +
            'Binoculars\nNotebook with pencil\nspare pencil\n\n' +
            'Wake up early\n\n' +
            'count-birds --park "Central"\n  --verbose',
        },
        {
          section: 'Species',
          text: 'Species\n\nName | Colour\nRobin | red\nJay | blue\n\nQuiet, please.\n\nBinoculars are optional.\n\nFootnote heading\n\nThe end.',
        },
      ],
    })
  })

  it('takes the title from the first heading without front matter', () => {
    expect(markdownToBlocks('Setext Title\n============\n\nBody text.')).toEqual({
      title: 'Setext Title',
      blocks: [{ section: 'Setext Title', text: 'Setext Title\n\nBody text.' }],
    })
  })

  it('keeps a document that starts with a horizontal rule', () => {
    expect(markdownToBlocks('---\n\nJust text.').blocks).toEqual([{ text: 'Just text.' }])
    expect(markdownToBlocks('---\nNot YAML\n---\nMore.')).toEqual({
      title: 'Not YAML',
      blocks: [{ section: 'Not YAML', text: 'Not YAML\n\nMore.' }],
    })
  })
})

describe('readMarkdown', () => {
  it('reads one document', async () => {
    expect(await readAll('# Hi\n\nThere.')).toEqual([{ locator: '', title: 'Hi', blocks: [{ section: 'Hi', text: 'Hi\n\nThere.' }] }])
  })

  it('yields nothing for a file with only front matter', async () => {
    expect(await readAll('---\ntitle: Empty\n---\n')).toEqual([])
  })
})
