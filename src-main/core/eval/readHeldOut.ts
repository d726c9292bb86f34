import { createReadStream } from 'node:fs'
import { LecternError } from '../../shared/errors.js'
import type { HeldOutDocument, HeldOutQa } from '../dataset/writeDataset.js'
import { describeJsonValue, fileLines, jsonlLineError, jsonlLines, stringField, type LineFail } from '../io/jsonlLines.js'

/** The passages of `heldout.jsonl` (`{"text","document_id"}` per line), in file order. */
export function readHeldOutTexts(path: string, signal?: AbortSignal): Promise<HeldOutDocument[]> {
  return readHeldOutLines(path, signal, (record, fail) => ({ text: textField(record, 'text', fail), document_id: documentId(record, fail) }))
}

/** The pairs of `heldout-qa.jsonl` (`{"question","answer","document_id"}` per line, `chunk_id` optional), in file order. */
export function readHeldOutQa(path: string, signal?: AbortSignal): Promise<HeldOutQa[]> {
  return readHeldOutLines(path, signal, (record, fail) => ({
    question: textField(record, 'question', fail),
    answer: textField(record, 'answer', fail),
    document_id: documentId(record, fail),
    ...chunkId(record, fail),
  }))
}

async function readHeldOutLines<T>(path: string, signal: AbortSignal | undefined, parse: (record: Record<string, unknown>, fail: LineFail) => T): Promise<T[]> {
  const stream = createReadStream(path)
  const out: T[] = []
  try {
    for await (const entry of jsonlLines(fileLines(stream, path), path, signal)) {
      if (entry.blank) continue
      const line = entry.line
      const fail: LineFail = (reason) => jsonlLineError(path, line, reason)
      const value = entry.value
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`expected an object, got ${describeJsonValue(value)}`)
      out.push(parse(value as Record<string, unknown>, fail))
    }
  } catch (error) {
    if (error instanceof LecternError || (error as Error).name === 'AbortError') throw error
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new LecternError('not_found', `${path}: no such held-out file; build the dataset first`, { file: path, cause: error })
    throw new LecternError('io', `${path}: cannot read the held-out data (${(error as Error).message})`, { file: path, cause: error })
  } finally {
    stream.destroy()
  }
  return out
}

function textField(record: Record<string, unknown>, name: string, fail: LineFail): string {
  // Checked here: `describeJsonValue` has no words for a missing (undefined) value.
  if (!Object.hasOwn(record, name)) throw fail(`has no \`${name}\``)
  return stringField(record[name], `\`${name}\``, fail)
}

function documentId(record: Record<string, unknown>, fail: LineFail): number {
  if (!Object.hasOwn(record, 'document_id')) throw fail('has no `document_id`')
  const value = record['document_id']
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw fail(`\`document_id\` must be an integer, got ${describeJsonValue(value)}`)
  return value
}

function chunkId(record: Record<string, unknown>, fail: LineFail): { chunk_id?: number } {
  if (!Object.hasOwn(record, 'chunk_id')) return {}
  const value = record['chunk_id']
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw fail(`\`chunk_id\` must be an integer, got ${describeJsonValue(value)}`)
  return { chunk_id: value }
}
