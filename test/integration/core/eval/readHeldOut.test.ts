import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readHeldOutQa, readHeldOutTexts } from '../../../../src-main/core/eval/readHeldOut.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

describe('held-out readers', () => {
  it('read the lines the dataset build writes, skipping blank ones', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'heldout.jsonl'), `${JSON.stringify({ text: 'Bile is stored in the gallbladder.', document_id: 4 })}\n\n${JSON.stringify({ text: 'Ünïcode ok', document_id: 5 })}\n`)
    await writeFile(join(dir, 'heldout-qa.jsonl'), `${JSON.stringify({ question: 'Where is bile stored?', answer: 'the gallbladder', document_id: 4 })}\n`)
    expect(await readHeldOutTexts(join(dir, 'heldout.jsonl'))).toEqual([
      { text: 'Bile is stored in the gallbladder.', document_id: 4 },
      { text: 'Ünïcode ok', document_id: 5 },
    ])
    expect(await readHeldOutQa(join(dir, 'heldout-qa.jsonl'))).toEqual([{ question: 'Where is bile stored?', answer: 'the gallbladder', document_id: 4 }])
    // Builds that record the source chunk add `chunk_id`.
    await writeFile(join(dir, 'heldout-qa.jsonl'), `${JSON.stringify({ question: 'Where is bile stored?', answer: 'the gallbladder', document_id: 4, chunk_id: 17 })}\n`)
    expect(await readHeldOutQa(join(dir, 'heldout-qa.jsonl'))).toEqual([{ question: 'Where is bile stored?', answer: 'the gallbladder', document_id: 4, chunk_id: 17 }])
  })

  it('name the file and line of a bad record, and a missing file', async () => {
    const dir = await tempDir()
    const path = join(dir, 'heldout-qa.jsonl')
    await writeFile(path, `${JSON.stringify({ question: 'q', answer: 'a', document_id: 1 })}\n${JSON.stringify({ question: 'q', document_id: 1 })}\n`)
    await expect(readHeldOutQa(path)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/heldout-qa\.jsonl:2: has no `answer`/) })
    await writeFile(path, '{"question": 3, "answer": "a", "document_id": 1}\n')
    await expect(readHeldOutQa(path)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/:1: `question` must be a string/) })
    await writeFile(path, '{"question": "q", "answer": "a", "document_id": "x"}\n')
    await expect(readHeldOutQa(path)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/:1: `document_id` must be an integer/) })
    await writeFile(path, '{"question": "q", "answer": "a", "document_id": 1, "chunk_id": 1.5}\n')
    await expect(readHeldOutQa(path)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/:1: `chunk_id` must be an integer/) })
    await expect(readHeldOutTexts(join(dir, 'nope.jsonl'))).rejects.toMatchObject({ code: 'not_found' })
  })
})
