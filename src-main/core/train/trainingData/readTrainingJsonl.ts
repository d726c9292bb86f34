import { open } from 'node:fs/promises'
import { LecternError } from '../../../shared/errors.js'
import { chatMessageField, describeJsonValue, fileLines, jsonlLineError, jsonlLines, type LineFail, stringField } from '../../io/jsonlLines.js'
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
  for await (const entry of jsonlLines(lines, file, signal)) {
    lineNumber = entry.line
    if (entry.blank) {
      blankLines++
      continue
    }
    const { value } = entry
    const parsed = parseExample(value, (reason) => jsonlLineError(file, lineNumber, reason))
    if (typeof parsed === 'string') {
      skipped.push({ line: lineNumber, reason: parsed })
      continue
    }
    parsed.source = { file, line: lineNumber }
    const sequence = (value as Record<string, unknown>)['sequence']
    if (sequence !== undefined) {
      if (!Number.isSafeInteger(sequence) || (sequence as number) < 0) throw jsonlLineError(file, lineNumber, `\`sequence\` must be an integer ≥ 0, got ${describeJsonValue(sequence)}`)
      parsed.sequence = sequence as number
    }
    examples.push(parsed)
    counts[parsed.kind]++
  }
  const summary = summarize(file, examples.length, counts, lineNumber, blankLines, skipped)
  if (examples.length === 0) throw new LecternError('invalid_argument', `${file}: no usable training examples. ${summary}`, { file })
  return { file, examples, lines: lineNumber, blankLines, skipped, counts, summary }
}

/** The example on a line, or the reason it has nothing to train on (a string); malformed lines throw `fail(reason)`. */
function parseExample(value: unknown, fail: LineFail): TrainingExample | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`expected a JSON object (${FORMS}), got ${describeJsonValue(value)}`)
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
    const text = stringField(record['text'], '`text`', fail)
    return text.trim() === '' ? 'empty `text`' : { kind: 'text', text }
  }

  if (has('messages')) {
    const messages = record['messages']
    if (!Array.isArray(messages)) throw fail(`\`messages\` must be an array of {"role", "content"} objects, got ${describeJsonValue(messages)}`)
    if (messages.length === 0) return 'empty `messages`'
    const parsed = messages.map((m: unknown, i) => chatMessageField(m, i, fail))
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
  const prompt = stringField(record['prompt'], '`prompt`', fail)
  const response = stringField(record[responseKey], `\`${responseKey}\``, fail)
  return response.trim() === '' ? `empty \`${responseKey}\`` : { kind: 'completion', prompt, response }
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
