import type { ChatMessage } from '../model/tokenizers/Tokenizer.js'
import { LecternError } from '../../shared/errors.js'

/** One line of a JSONL file: its parsed value, or `blank` for an empty or whitespace-only line. */
export type JsonlLine = { line: number; blank: false; value: unknown } | { line: number; blank: true }

/** Makes the error for a malformed line, which a reader throws. */
export type LineFail = (reason: string) => Error

/**
 * Parses lines already split (line `i` of the iterable is line `i + 1` of `file`, which is only used in messages):
 * a UTF-8 byte order mark before the first line is dropped, blank lines are yielded as such, and the first line that
 * is not valid JSON throws `jsonlLineError`. `signal` is checked every 1024 lines and once at the end.
 */
export async function* jsonlLines(lines: Iterable<string> | AsyncIterable<string>, file: string, signal?: AbortSignal): AsyncGenerator<JsonlLine> {
  let line = 0
  for await (const raw of lines) {
    line++
    if (line % 1024 === 0) signal?.throwIfAborted()
    // A UTF-8 byte order mark may start the file; JSON.parse would reject it.
    const text = line === 1 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw
    if (text.trim() === '') {
      yield { line, blank: true }
      continue
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw jsonlLineError(file, line, `not valid JSON (${(error as Error).message})`)
    }
    yield { line, blank: false, value }
  }
  signal?.throwIfAborted()
}

/** The LecternError `invalid_argument` for a malformed line, naming `file:line` and the reason. */
export function jsonlLineError(file: string, line: number, reason: string): LecternError {
  return new LecternError('invalid_argument', `${file}:${line}: ${reason}`, { file })
}

/** A JSON value for an error message: "null", "an array", "an object", or its type and (shortened) text. */
export function describeJsonValue(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return `${typeof value === 'string' ? 'a string' : `a ${typeof value}`} (${JSON.stringify(value).slice(0, 40)})`
}

/** `value` when it is a string; otherwise throws `fail` saying that `what` must be one. */
export function stringField(value: unknown, what: string, fail: LineFail): string {
  if (typeof value !== 'string') throw fail(`${what} must be a string, got ${describeJsonValue(value)}`)
  return value
}

/** Entry `index` of a `messages` array: an object with a non-empty string `role` and a string `content`. */
export function chatMessageField(entry: unknown, index: number, fail: LineFail): ChatMessage {
  const where = `\`messages[${index}]\``
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw fail(`${where} must be an object with "role" and "content", got ${describeJsonValue(entry)}`)
  const message = entry as Record<string, unknown>
  if (!Object.hasOwn(message, 'role')) throw fail(`${where} has no \`role\``)
  if (!Object.hasOwn(message, 'content')) throw fail(`${where} has no \`content\``)
  const role = stringField(message['role'], `${where}.role`, fail)
  if (role === '') throw fail(`${where}.role is empty`)
  return { role, content: stringField(message['content'], `${where}.content`, fail) }
}

/**
 * Splits a byte stream at `\n` (dropping a `\r` before it) and decodes each line as strict UTF-8, so a bad byte
 * is reported with its line number.
 */
export async function* fileLines(stream: AsyncIterable<Buffer>, file: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let pending: Buffer[] = []
  let line = 0
  const decode = (bytes: Buffer): string => {
    line++
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length
    try {
      return decoder.decode(bytes.subarray(0, end))
    } catch {
      throw jsonlLineError(file, line, 'not valid UTF-8')
    }
  }
  for await (const chunk of stream) {
    let start = 0
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl)
      yield decode(pending.length === 0 ? piece : Buffer.concat([...pending, piece]))
      pending = []
      start = nl + 1
    }
    if (start < chunk.length) pending.push(chunk.subarray(start))
  }
  if (pending.length > 0) yield decode(Buffer.concat(pending))
}
