import { createReadStream } from 'node:fs'
import { access } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { LecternError } from '../../shared/errors.js'
import { chatMessageField, describeJsonValue, jsonlLineError, jsonlLines, type LineFail, stringField } from '../io/jsonlLines.js'
import type { ChatMessage } from '../model/tokenizers/Tokenizer.js'

/** The line of the user's file an instruction came from, carried into `train.jsonl` as its source. */
export interface InstructionSource {
  file: string
  /** 1-based. */
  line: number
}

/**
 * One general-instruction example. Alpaca-style `{"instruction", "input"?, "output"}` lines become a two-turn chat
 * (user: the instruction, then the input after a blank line; assistant: the output).
 */
export type InstructionItem = { kind: 'chat'; messages: ChatMessage[]; source: InstructionSource } | { kind: 'text'; text: string; source: InstructionSource }

export interface ReadInstructionMixOptions {
  /** Stops reading between lines. */
  signal?: AbortSignal
}

const ACCEPTED_FORMS = '{"instruction": …, "output": …} (optionally with "input"), {"messages": [{"role": …, "content": …}, …]} or {"text": …}'

/**
 * Reads a JSONL file of general instruction data, line by line. Blank lines are skipped; the first malformed line
 * stops the read with a LecternError `invalid_argument` naming `file:line` and the reason; a file without any
 * example is refused.
 */
export async function readInstructionMix(path: string, options: ReadInstructionMixOptions = {}): Promise<InstructionItem[]> {
  try {
    await access(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new LecternError('not_found', `${path}: no such instruction data file`, { file: path, cause: error })
    throw new LecternError('io', `${path}: cannot open the instruction data (${(error as Error).message})`, { file: path, cause: error })
  }
  const stream = createReadStream(path, { encoding: 'utf8' })
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  try {
    return await readInstructionMixLines(lines, path, options)
  } catch (error) {
    if (error instanceof LecternError || (error as Error).name === 'AbortError') throw error
    throw new LecternError('io', `${path}: cannot read the instruction data (${(error as Error).message})`, { file: path, cause: error })
  } finally {
    lines.close()
    stream.destroy()
  }
}

/** The parsing behind `readInstructionMix`, over lines already split; line `i` of the iterable is line `i + 1` of `file`. */
export async function readInstructionMixLines(
  lines: Iterable<string> | AsyncIterable<string>,
  file: string,
  options: ReadInstructionMixOptions = {},
): Promise<InstructionItem[]> {
  const items: InstructionItem[] = []
  let lineNumber = 0
  for await (const entry of jsonlLines(lines, file, options.signal)) {
    lineNumber = entry.line
    if (entry.blank) continue
    const line = entry.line
    items.push(parseInstruction(entry.value, { file, line }, (reason) => jsonlLineError(file, line, reason)))
  }
  if (items.length === 0) {
    throw new LecternError('invalid_argument', `${file}: no instruction examples (${lineNumber === 0 ? 'the file is empty' : 'every line is blank'}); expected lines of ${ACCEPTED_FORMS}`, {
      file,
    })
  }
  return items
}

function parseInstruction(value: unknown, source: InstructionSource, fail: LineFail): InstructionItem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`expected a JSON object (${ACCEPTED_FORMS}), got ${describeJsonValue(value)}`)
  const record = value as Record<string, unknown>
  const has = (key: string): boolean => Object.hasOwn(record, key)
  const forms = [has('instruction') || has('output') ? '`instruction`/`output`' : '', has('messages') ? '`messages`' : '', has('text') ? '`text`' : ''].filter((f) => f !== '')
  if (forms.length === 0) {
    const keys = Object.keys(record)
    throw fail(`no instruction fields: expected ${ACCEPTED_FORMS}; the line has ${keys.length === 0 ? 'no fields' : `only ${keys.map((k) => `\`${k}\``).join(', ')}`}`)
  }
  if (forms.length > 1) throw fail(`has both ${forms.join(' and ')}; a line is exactly one of ${ACCEPTED_FORMS}`)

  if (has('text')) {
    const text = stringField(record['text'], '`text`', fail)
    if (text.trim() === '') throw fail('`text` is empty')
    return { kind: 'text', text, source }
  }

  if (has('messages')) return { kind: 'chat', messages: parseMessages(record['messages'], fail), source }

  if (!has('instruction')) throw fail('has `output` but no `instruction`')
  if (!has('output')) throw fail('has `instruction` but no `output`')
  const instruction = stringField(record['instruction'], '`instruction`', fail)
  const output = stringField(record['output'], '`output`', fail)
  const input = has('input') && record['input'] !== null ? stringField(record['input'], '`input`', fail) : ''
  if (instruction.trim() === '' && input.trim() === '') throw fail('`instruction` is empty')
  if (output.trim() === '') throw fail('`output` is empty')
  const prompt = input.trim() === '' ? instruction : instruction.trim() === '' ? input : `${instruction}\n\n${input}`
  return {
    kind: 'chat',
    messages: [
      { role: 'user', content: prompt },
      { role: 'assistant', content: output },
    ],
    source,
  }
}

function parseMessages(value: unknown, fail: LineFail): ChatMessage[] {
  if (!Array.isArray(value)) throw fail(`\`messages\` must be an array of {"role", "content"} objects, got ${describeJsonValue(value)}`)
  if (value.length === 0) throw fail('`messages` is empty')
  const messages = value.map((entry: unknown, i) => chatMessageField(entry, i, fail))
  // The trainer learns only from assistant turns, so a conversation without a non-empty one teaches nothing.
  if (!messages.some((m) => m.role === 'assistant' && m.content.trim() !== '')) {
    const roles = [...new Set(messages.map((m) => m.role))].join(', ')
    throw fail(`\`messages\` has no non-empty "assistant" turn (roles: ${roles})`)
  }
  return messages
}
