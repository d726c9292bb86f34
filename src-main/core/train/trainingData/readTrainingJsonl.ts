import { open } from 'node:fs/promises'
import { LecternError } from '../../../shared/errors.js'
import type { ChatMessage } from '../../model/tokenizers/Tokenizer.js'

/** Where an example came from, so later errors (a chat template that fails on it) can name file:line. */
export interface ExampleSource {
  file: string
  /** 1-based. */
  line: number
}

/**
 * One training example, by what the loss covers:
 * - `text` (`{"text": …}`): continued pre-training, every token counts.
 * - `completion` (`{"prompt": …, "response" | "completion": …}`): only the response (and the EOS after it) counts.
 * - `chat` (`{"messages": [{role, content}…]}`): only the assistant turns (and their end-of-turn) count.
 */
export type TrainingExample = (
  | { kind: 'text'; text: string; source?: ExampleSource }
  | { kind: 'completion'; prompt: string; response: string; source?: ExampleSource }
  | { kind: 'chat'; messages: ChatMessage[]; source?: ExampleSource }
) & {
  /** The packed sequence a built dataset put the example in (`lectern dataset`); a new value starts a new window. */
  sequence?: number
}

export type TrainingExampleKind = TrainingExample['kind']

/** A line that holds a well-formed example with nothing to learn from, left out of training and reported. */
export interface SkippedExample {
  line: number
  reason: string
}

export interface TrainingJsonl {
  file: string
  examples: TrainingExample[]
  /** Lines read, blank ones included. */
  lines: number
  blankLines: number
  /** Examples left out because their trained part is empty or whitespace: empty `text`, response or assistant turns. */
  skipped: SkippedExample[]
  counts: Record<TrainingExampleKind, number>
  /** One line for logs: "120 examples (100 text, 20 chat) from data.jsonl; skipped 2 blank lines, 1 empty example (line 7: empty `text`)". */
  summary: string
}

export interface ReadTrainingJsonlOptions {
  /** Stops reading between lines. Defaults to none. */
  signal?: AbortSignal
}

/** Shape errors say which forms are accepted. */
const FORMS = '{"text": …}, {"prompt": …, "response": …} (or "completion") or {"messages": [{"role": …, "content": …}, …]}'

/**
 * Reads a JSONL training file line by line (the file is never held whole). Each non-blank line is one example in
 * one of the forms of `TrainingExample`; other fields on a line are ignored. Blank lines are skipped, examples whose
 * trained part is empty are skipped, and both are counted in the result. The first malformed line stops the read
 * with a LecternError `invalid_argument` naming `file:line` and the reason; a file with no usable example is refused.
 */
export async function readTrainingJsonl(path: string, options: ReadTrainingJsonlOptions = {}): Promise<TrainingJsonl> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new LecternError('not_found', `${path}: no such training data file`, { file: path, cause: error })
    throw new LecternError('io', `${path}: cannot open the training data (${(error as Error).message})`, { file: path, cause: error })
  }
  try {
    return await readTrainingJsonlLines(fileLines(handle.createReadStream({ autoClose: false }), path), path, options)
  } finally {
    await handle.close()
  }
}

/**
 * The parsing behind `readTrainingJsonl`, over lines already split (line `i` of the iterable is line `i + 1` of
 * `file`, which is only used in messages).
 */
export async function readTrainingJsonlLines(lines: Iterable<string> | AsyncIterable<string>, file: string, options: ReadTrainingJsonlOptions = {}): Promise<TrainingJsonl> {
  const { signal } = options
  const examples: TrainingExample[] = []
  const skipped: SkippedExample[] = []
  const counts: Record<TrainingExampleKind, number> = { text: 0, completion: 0, chat: 0 }
  let lineNumber = 0
  let blankLines = 0
  for await (const raw of lines) {
    lineNumber++
    if (lineNumber % 1024 === 0) signal?.throwIfAborted()
    // A UTF-8 byte order mark may start the file; JSON.parse would reject it.
    const text = lineNumber === 1 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw
    if (text.trim() === '') {
      blankLines++
      continue
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw lineError(file, lineNumber, `not valid JSON (${(error as Error).message})`)
    }
    const parsed = parseExample(value, (reason) => lineError(file, lineNumber, reason))
    if (typeof parsed === 'string') {
      skipped.push({ line: lineNumber, reason: parsed })
      continue
    }
    parsed.source = { file, line: lineNumber }
    const sequence = (value as Record<string, unknown>)['sequence']
    if (sequence !== undefined) {
      if (!Number.isSafeInteger(sequence) || (sequence as number) < 0) throw lineError(file, lineNumber, `\`sequence\` must be an integer ≥ 0, got ${describe(sequence)}`)
      parsed.sequence = sequence as number
    }
    examples.push(parsed)
    counts[parsed.kind]++
  }
  signal?.throwIfAborted()
  const summary = summarize(file, examples.length, counts, lineNumber, blankLines, skipped)
  if (examples.length === 0) throw new LecternError('invalid_argument', `${file}: no usable training examples. ${summary}`, { file })
  return { file, examples, lines: lineNumber, blankLines, skipped, counts, summary }
}

/** The example on a line, or the reason it has nothing to train on (a string); malformed lines throw `fail(reason)`. */
function parseExample(value: unknown, fail: (reason: string) => Error): TrainingExample | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`expected a JSON object (${FORMS}), got ${describe(value)}`)
  const record = value as Record<string, unknown>
  const has = (key: string): boolean => Object.hasOwn(record, key)
  const forms = [has('text') && '`text`', has('messages') && '`messages`', (has('prompt') || has('response') || has('completion')) && '`prompt`/`response`'].filter(
    (f): f is string => f !== false,
  )
  if (forms.length === 0) {
    const keys = Object.keys(record)
    throw fail(`no training fields: expected ${FORMS}; the line has ${keys.length === 0 ? 'no fields' : `only ${keys.map((k) => `\`${k}\``).join(', ')}`}`)
  }
  if (forms.length > 1) throw fail(`has both ${forms.join(' and ')}; an example is exactly one of ${FORMS}`)

  if (has('text')) {
    const text = string(record['text'], '`text`', fail)
    return text.trim() === '' ? 'empty `text`' : { kind: 'text', text }
  }

  if (has('messages')) {
    const messages = record['messages']
    if (!Array.isArray(messages)) throw fail(`\`messages\` must be an array of {"role", "content"} objects, got ${describe(messages)}`)
    if (messages.length === 0) return 'empty `messages`'
    const parsed = messages.map((m: unknown, i): ChatMessage => {
      const where = `\`messages[${i}]\``
      if (typeof m !== 'object' || m === null || Array.isArray(m)) throw fail(`${where} must be an object with "role" and "content", got ${describe(m)}`)
      const message = m as Record<string, unknown>
      if (!Object.hasOwn(message, 'role')) throw fail(`${where} has no \`role\``)
      if (!Object.hasOwn(message, 'content')) throw fail(`${where} has no \`content\``)
      const role = string(message['role'], `${where}.role`, fail)
      if (role === '') throw fail(`${where}.role is empty`)
      return { role, content: string(message['content'], `${where}.content`, fail) }
    })
    const assistant = parsed.filter((m) => m.role === 'assistant')
    if (assistant.length === 0) {
      const roles = [...new Set(parsed.map((m) => m.role))].join(', ')
      throw fail(`\`messages\` has no "assistant" turn (roles: ${roles}); only assistant turns are trained on`)
    }
    return assistant.every((m) => m.content.trim() === '') ? 'every assistant turn is empty' : { kind: 'chat', messages: parsed }
  }

  if (!has('prompt')) throw fail(`has \`${has('response') ? 'response' : 'completion'}\` but no \`prompt\``)
  if (has('response') && has('completion')) throw fail('has both `response` and `completion`; give one')
  const responseKey = has('response') ? 'response' : has('completion') ? 'completion' : undefined
  if (responseKey === undefined) throw fail('has `prompt` but no `response` (or `completion`)')
  const prompt = string(record['prompt'], '`prompt`', fail)
  const response = string(record[responseKey], `\`${responseKey}\``, fail)
  return response.trim() === '' ? `empty \`${responseKey}\`` : { kind: 'completion', prompt, response }
}

function string(value: unknown, what: string, fail: (reason: string) => Error): string {
  if (typeof value !== 'string') throw fail(`${what} must be a string, got ${describe(value)}`)
  return value
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return `${typeof value === 'string' ? 'a string' : `a ${typeof value}`} (${JSON.stringify(value).slice(0, 40)})`
}

function lineError(file: string, line: number, reason: string): LecternError {
  return new LecternError('invalid_argument', `${file}:${line}: ${reason}`, { file })
}

function summarize(file: string, exampleCount: number, counts: Record<TrainingExampleKind, number>, lines: number, blankLines: number, skipped: readonly SkippedExample[]): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
  const kinds = (['text', 'completion', 'chat'] as const).filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${k === 'completion' ? 'prompt/response' : k}`)
  let out = `${plural(exampleCount, 'example')}${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''} from ${plural(lines, 'line')} of ${file}`
  const left: string[] = []
  if (blankLines > 0) left.push(plural(blankLines, 'blank line'))
  if (skipped.length > 0) {
    const shown = skipped.slice(0, 3).map((s) => `line ${s.line}: ${s.reason}`)
    left.push(`${plural(skipped.length, 'empty example')} (${shown.join('; ')}${skipped.length > shown.length ? '; …' : ''})`)
  }
  if (left.length > 0) out += `; skipped ${left.join(' and ')}`
  return out
}

/**
 * Splits a byte stream at `\n` (dropping a `\r` before it) and decodes each line as strict UTF-8, so a bad byte
 * is reported with its line number.
 */
async function* fileLines(stream: AsyncIterable<Buffer>, file: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let pending: Buffer[] = []
  let line = 0
  const decode = (bytes: Buffer): string => {
    line++
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length
    try {
      return decoder.decode(bytes.subarray(0, end))
    } catch {
      throw lineError(file, line, 'not valid UTF-8')
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
