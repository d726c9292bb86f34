import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Tokenizer } from '../../../../src-main/core/model/tokenizers/Tokenizer.js'
import { nextBatch, packSequences, readTrainingJsonl, tokenizeExamples } from '../../../../src-main/core/train/trainingData.js'
import { LecternError } from '../../../../src-main/shared/errors.js'
import { tinySpmTokenizerMetadata } from '../../../fixtures/tokenizers/tinyTokenizers.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lectern-training-data-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

async function readError(path: string): Promise<LecternError> {
  const error: unknown = await readTrainingJsonl(path).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(LecternError)
  return error as LecternError
}

describe('readTrainingJsonl on real files', () => {
  it('reads CRLF lines, a BOM, blank lines and a missing final newline', async () => {
    const path = await file('crlf.jsonl', '\uFEFF{"text": "the model"}\r\n\r\n{"prompt": "a", "response": "b"}\r\n{"text": "on"}')
    const out = await readTrainingJsonl(path)
    expect(out.examples.map((e) => [e.kind, e.source?.line])).toEqual([
      ['text', 1],
      ['completion', 3],
      ['text', 4],
    ])
    expect(out.examples[0]).toMatchObject({ text: 'the model' })
    expect([out.lines, out.blankLines]).toEqual([4, 1])
  })

  it('reassembles lines and multi-byte characters split across read chunks', async () => {
    // Each line is longer than a 64 KiB read chunk, and '€' (3 bytes) falls on every byte offset.
    const texts = Array.from({ length: 5 }, (_, i) => `${'x'.repeat(i)}${'€ab'.repeat(30_000)}${i}`)
    const path = await file('long.jsonl', texts.map((text) => JSON.stringify({ text })).join('\n') + '\n')
    const out = await readTrainingJsonl(path)
    expect(out.examples.map((e) => (e.kind === 'text' ? e.text : ''))).toEqual(texts)
    expect(out.lines).toBe(5)
  })

  it('names file:line for bad JSON, bad UTF-8 and bad fields', async () => {
    const badJson = await file('bad-json.jsonl', '{"text": "a"}\n\n{"text": "b",}\n')
    let error = await readError(badJson)
    expect(error.code).toBe('invalid_argument')
    expect(error.file).toBe(badJson)
    expect(error.message).toMatch(new RegExp(`^${badJson.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: not valid JSON`))

    const badUtf8 = await file('bad-utf8.jsonl', Buffer.concat([Buffer.from('{"text": "a"}\n{"text": "b"}\n{"text": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]))
    error = await readError(badUtf8)
    expect(error.message).toBe(`${badUtf8}:3: not valid UTF-8`)

    const badField = await file('bad-field.jsonl', '{"text": "a"}\n{"prompt": "q", "response": 3}\n')
    error = await readError(badField)
    expect(error.message).toBe(`${badField}:2: \`response\` must be a string, got a number (3)`)
  })

  it('refuses an empty file and a missing one', async () => {
    const empty = await file('empty.jsonl', '\n\n')
    const error = await readError(empty)
    expect([error.code, error.file]).toEqual(['invalid_argument', empty])
    expect(error.message).toContain('no usable training examples')
    const missing = await readError(join(dir, 'nope.jsonl'))
    expect([missing.code, missing.file]).toEqual(['not_found', join(dir, 'nope.jsonl')])
  })

  it('feeds tokenization, packing and batching end to end', async () => {
    const path = await file(
      'mixed.jsonl',
      [
        JSON.stringify({ text: 'the model is on' }),
        JSON.stringify({ prompt: 'what is it?\n', response: 'the model' }),
        JSON.stringify({ messages: [{ role: 'user', content: 'and' }, { role: 'assistant', content: 'that is it' }] }),
      ].join('\n'),
    )
    const tokenizer = Tokenizer.fromGguf(tinySpmTokenizerMetadata(), 'tiny-spm.gguf')
    const packed = packSequences(tokenizeExamples((await readTrainingJsonl(path)).examples, tokenizer), 16)
    const batch = nextBatch(packed, { epoch: 0, position: 0 }, packed.sequenceCount, 1)
    const counted = tokenizer.decode([...batch.targets].filter((_, i) => batch.weights[i]! > 0), { renderSpecial: true })
    for (const part of ['the model is on', 'the model', 'that is it']) expect(counted).toContain(part)
    expect(counted).not.toContain('what')
    expect(counted).not.toContain('and')
  })
})
