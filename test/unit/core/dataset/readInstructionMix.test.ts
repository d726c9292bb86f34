import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readInstructionMix, readInstructionMixLines } from '../../../../src-main/core/dataset/readInstructionMix.js'

describe('readInstructionMix', () => {
  let folder: string
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'lectern-instructions-'))
  })
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true })
  })

  it('reads the instruction/output, chat and text forms, skipping blank lines', async () => {
    const path = join(folder, 'mix.jsonl')
    const lines = [
      JSON.stringify({ instruction: 'Name a colour.', output: 'Blue.' }),
      '',
      JSON.stringify({ instruction: 'Translate.', input: 'Bonjour', output: 'Hello' }),
      JSON.stringify({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }] }),
      '   ',
      JSON.stringify({ text: 'A plain general text.', extra: 1 }),
    ]
    await writeFile(path, lines.join('\r\n') + '\n')
    const items = await readInstructionMix(path)
    expect(items).toEqual([
      { kind: 'chat', messages: [{ role: 'user', content: 'Name a colour.' }, { role: 'assistant', content: 'Blue.' }], source: { file: path, line: 1 } },
      { kind: 'chat', messages: [{ role: 'user', content: 'Translate.\n\nBonjour' }, { role: 'assistant', content: 'Hello' }], source: { file: path, line: 3 } },
      {
        kind: 'chat',
        messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }],
        source: { file: path, line: 4 },
      },
      { kind: 'text', text: 'A plain general text.', source: { file: path, line: 6 } },
    ])
  })

  it.each([
    ['{"instruction": "x"', 'not valid JSON'],
    ['[1, 2]', 'expected a JSON object'],
    ['{"prompt": "x"}', 'no instruction fields'],
    ['{"instruction": "x"}', 'no `output`'],
    ['{"output": "x"}', 'no `instruction`'],
    ['{"instruction": "x", "output": 3}', '`output` must be a string'],
    ['{"instruction": "x", "output": "  "}', '`output` is empty'],
    ['{"text": ""}', '`text` is empty'],
    ['{"text": "a", "messages": []}', 'has both'],
    ['{"messages": []}', '`messages` is empty'],
    ['{"messages": [{"role": "user"}]}', 'has no `content`'],
    ['{"messages": [{"role": "user", "content": "hi"}]}', 'no non-empty "assistant" turn'],
  ])('refuses %s naming file:line and the reason', async (bad, reason) => {
    const lines = [JSON.stringify({ text: 'fine' }), '', bad, JSON.stringify({ text: 'never read' })]
    const error = await readInstructionMixLines(lines, 'mix.jsonl').catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'LecternError', code: 'invalid_argument', file: 'mix.jsonl' })
    expect((error as Error).message).toContain('mix.jsonl:3: ')
    expect((error as Error).message).toContain(reason)
  })

  it('refuses an empty file and a file of blank lines', async () => {
    const empty = join(folder, 'empty.jsonl')
    await writeFile(empty, '')
    await expect(readInstructionMix(empty)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('the file is empty') })
    await expect(readInstructionMixLines(['', '  '], 'blank.jsonl')).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('every line is blank') })
  })

  it('reports a missing file as not_found', async () => {
    await expect(readInstructionMix(join(folder, 'absent.jsonl'))).rejects.toMatchObject({ code: 'not_found' })
  })

  it('reports an unreadable path as io', async () => {
    await expect(readInstructionMix(folder)).rejects.toMatchObject({ code: 'io', file: folder })
  })
})
