import { createReadStream } from 'node:fs'
import { type FileHandle, mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { LecternError } from '../../shared/errors.js'
import type { ChatMessage } from '../model/tokenizers/Tokenizer.js'
import { plainConversation } from '../train/trainingData/tokenizeExamples.js'

export const DATASET_FILES = {
  train: 'train.jsonl',
  heldOut: 'heldout.jsonl',
  heldOutQa: 'heldout-qa.jsonl',
  summary: 'summary.json',
} as const

/** regex-rc: AdaptLLM texts (§1.4); llm-rc: ETRC clusters (§2.2); instruction: the general instruction mix. */
export type SourceKind = 'regex-rc' | 'llm-rc' | 'instruction'

/** Where a `train.jsonl` line came from. The trainer ignores it; export and inspection use it. */
export interface TrainLineSource {
  kind: SourceKind
  /** The item's index in the built dataset; the pieces of a split item share it. */
  item: number
  /** The documents whose text (and QA) the line holds, for the two RC kinds. */
  documents?: number[]
  /** The user's instruction file and line, for instructions. */
  file?: string
  line?: number
  /** For a piece of an item longer than a sequence: which piece, of how many. */
  piece?: number
  pieces?: number
}

/**
 * One line of `train.jsonl`: an example field the trainer reads (`text` or `messages`), the sequence the packer
 * put it in, its source, and for an ETRC cluster with QA pairs its chat rendering (`chat`, on the first piece only
 * when the cluster was split), which `exportDataset` uses for the chat format.
 */
export type TrainLine = ({ text: string } | { messages: ChatMessage[] }) & { sequence: number; source: TrainLineSource; chat?: ChatMessage[] }

export interface HeldOutDocument {
  text: string
  document_id: number
}

export interface HeldOutQa {
  question: string
  answer: string
  document_id: number
  /** The chunk the pair was generated from; absent in datasets built before it was recorded. */
  chunk_id?: number
}

export interface DatasetSummary {
  version: 1
  mode: 'regex' | 'llm' | 'both'
  seed: number
  seqLen: number
  /** Joins the items of a sequence in the text export. */
  eosText: string
  sequences: number
  /** Lines of train.jsonl: items, with each piece of a split item counted. */
  lines: number
  /** Placed tokens (EOS separators included) over sequences · seqLen. */
  fillRatio: number
  tokens: { regexRc: number; llmRc: number; instruction: number; eos: number; total: number }
  items: { regexRc: number; llmRc: number; instruction: number; split: number }
  ratio: {
    requested: string
    domainTokens: number
    targetGeneralTokens: number
    generalTokens: number
    /** General tokens per domain token; the requested value is general / domain of `requested`. */
    achievedGeneralPerDomain: number
    /** "1:x" with x rounded to two decimals. */
    achieved: string
    /** Shuffled passes over the instruction pool; above 1 when it had to be repeated. */
    instructionPasses: number
    /** Chat instructions left out because they do not fit in one sequence. */
    instructionsTooLong: number
  }
  /** `documents` counts source documents, `passages` their passages (chunks) written to heldout.jsonl. */
  heldOut: { fraction: number; documents: number; passages: number; tokens: number; qaPairs: number }
}

export interface DatasetContents {
  /** In packed order: the lines of sequence 0, then sequence 1, … */
  train: readonly TrainLine[]
  heldOutDocuments: readonly HeldOutDocument[]
  heldOutQa: readonly HeldOutQa[]
  summary: DatasetSummary
}

/**
 * Writes a built dataset into `datasetDir`. Every file is written to a temporary name and synced first; then the
 * old `summary.json` is removed, the data files are renamed into place, and `summary.json` comes last. The summary
 * is the commit mark: a crash leaves either the previous dataset or no summary, never a summary over files it does
 * not describe, and readers (`exportDataset`) refuse a folder without one.
 */
export async function writeDataset(datasetDir: string, contents: DatasetContents): Promise<void> {
  await mkdir(datasetDir, { recursive: true })
  const files: [name: string, lines: Iterable<string>][] = [
    [DATASET_FILES.train, jsonLines(contents.train)],
    [DATASET_FILES.heldOut, contents.heldOutDocuments.map((d) => JSON.stringify({ text: d.text, document_id: d.document_id }))],
    [DATASET_FILES.heldOutQa, contents.heldOutQa.map((qa) => JSON.stringify({ question: qa.question, answer: qa.answer, document_id: qa.document_id, ...(qa.chunk_id === undefined ? {} : { chunk_id: qa.chunk_id }) }))],
  ]
  const temporary = (name: string): string => join(datasetDir, `.${name}.partial`)
  try {
    for (const [name, lines] of files) await writeLinesDurably(temporary(name), lines)
    await writeLinesDurably(temporary(DATASET_FILES.summary), [JSON.stringify(contents.summary, null, 2)])
    await rm(join(datasetDir, DATASET_FILES.summary), { force: true })
    for (const [name] of files) await rename(temporary(name), join(datasetDir, name))
    await rename(temporary(DATASET_FILES.summary), join(datasetDir, DATASET_FILES.summary))
  } catch (error) {
    await Promise.all([...files.map(([name]) => name), DATASET_FILES.summary].map((name) => rm(temporary(name), { force: true })))
    if (error instanceof LecternError) throw error
    throw new LecternError('io', `${datasetDir}: cannot write the dataset (${(error as Error).message})`, { file: datasetDir, cause: error })
  }
}

export type ExportFormat = 'text' | 'chat'

/**
 * Exports a built dataset for other trainers:
 * - `text`: one `{"text"}` line per packed sequence, its items joined by the tokenizer's EOS text (from the
 *   summary). Chat instructions are written in the trainer's plain conversation format (`role: content` blocks).
 * - `chat`: one line per item. ETRC clusters with QA pairs become their conversation (`{"messages"}`: the
 *   documents and first question from the user, then answers and questions alternating), once per cluster even
 *   when the cluster was split for packing. Chat instructions stay `{"messages"}`. AdaptLLM texts, clusters
 *   without QA and plain-text instructions stay `{"text"}`: their questions and answers are woven into one text
 *   whose every token is trained, so cutting them into a single user → assistant pair would invent a prompt/response
 *   split the method does not have.
 * The output is written to a temporary file and renamed into place. Returns the number of lines written.
 */
export async function exportDataset(datasetDir: string, outPath: string, format: ExportFormat): Promise<{ lines: number }> {
  if (format !== 'text' && format !== 'chat') throw new LecternError('invalid_argument', `Unknown export format "${String(format)}"; expected "text" or "chat"`)
  const summary = await readSummary(datasetDir)
  const trainPath = join(datasetDir, DATASET_FILES.train)
  const out: string[] = []
  if (format === 'text') {
    let current: { sequence: number; texts: string[] } | undefined
    for await (const line of readTrainLines(trainPath)) {
      const text = 'text' in line ? line.text : plainConversation(line.messages).text
      if (current !== undefined && current.sequence === line.sequence) current.texts.push(text)
      else {
        if (current !== undefined) out.push(JSON.stringify({ text: current.texts.join(summary.eosText) }))
        current = { sequence: line.sequence, texts: [text] }
      }
    }
    if (current !== undefined) out.push(JSON.stringify({ text: current.texts.join(summary.eosText) }))
  } else {
    const itemsWithChat = new Set<number>()
    for await (const line of readTrainLines(trainPath)) if (line.chat !== undefined) itemsWithChat.add(line.source.item)
    for await (const line of readTrainLines(trainPath)) {
      if (line.chat !== undefined) out.push(JSON.stringify({ messages: line.chat }))
      else if (itemsWithChat.has(line.source.item)) continue
      else out.push(JSON.stringify('text' in line ? { text: line.text } : { messages: line.messages }))
    }
  }
  const temporary = join(dirname(outPath), `.${basename(outPath)}.partial`)
  try {
    await writeLinesDurably(temporary, out)
    await rename(temporary, outPath)
  } catch (error) {
    await rm(temporary, { force: true })
    throw new LecternError('io', `${outPath}: cannot write the export (${(error as Error).message})`, { file: outPath, cause: error })
  }
  return { lines: out.length }
}

async function readSummary(datasetDir: string): Promise<DatasetSummary> {
  const path = join(datasetDir, DATASET_FILES.summary)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LecternError('not_found', `${path}: no dataset summary, so no complete dataset in ${datasetDir}; build the dataset first`, { file: path, cause: error })
    }
    throw new LecternError('io', `${path}: cannot read the dataset summary (${(error as Error).message})`, { file: path, cause: error })
  }
  let summary: unknown
  try {
    summary = JSON.parse(text)
  } catch (error) {
    throw new LecternError('invalid_argument', `${path}: not valid JSON (${(error as Error).message})`, { file: path, cause: error })
  }
  if (typeof summary !== 'object' || summary === null || (summary as { version?: unknown }).version !== 1 || typeof (summary as { eosText?: unknown }).eosText !== 'string') {
    throw new LecternError('invalid_argument', `${path}: not a Lectern dataset summary (version 1 with an eosText)`, { file: path })
  }
  return summary as DatasetSummary
}

/** The lines of a written train.jsonl, checked for the fields export relies on. */
async function* readTrainLines(path: string): AsyncGenerator<TrainLine> {
  const stream = createReadStream(path, { encoding: 'utf8' })
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  let lineNumber = 0
  try {
    for await (const raw of lines) {
      lineNumber++
      if (raw.trim() === '') continue
      const fail = (reason: string): LecternError => new LecternError('invalid_argument', `${path}:${lineNumber}: ${reason}`, { file: path })
      let value: unknown
      try {
        value = JSON.parse(raw)
      } catch (error) {
        throw fail(`not valid JSON (${(error as Error).message})`)
      }
      const line = value as Partial<Record<keyof TrainLine | 'text' | 'messages', unknown>>
      if (typeof line !== 'object' || line === null) throw fail('expected a JSON object')
      if (typeof line.text !== 'string' && !Array.isArray(line.messages)) throw fail('has neither `text` nor `messages`')
      if (!Number.isSafeInteger(line.sequence)) throw fail('has no integer `sequence`; it was not written by the dataset build')
      const source = line.source as Partial<TrainLineSource> | undefined
      if (typeof source !== 'object' || source === null || !Number.isSafeInteger(source.item)) throw fail('has no `source` with an integer `item`')
      yield value as TrainLine
    }
  } catch (error) {
    if (error instanceof LecternError) throw error
    throw new LecternError('io', `${path}: cannot read the training data (${(error as Error).message})`, { file: path, cause: error })
  } finally {
    lines.close()
    stream.destroy()
  }
}

function* jsonLines(values: Iterable<unknown>): Generator<string> {
  for (const value of values) yield JSON.stringify(value)
}

/** Writes `lines` (each followed by "\n") to `path` in large chunks and syncs it to disk. */
async function writeLinesDurably(path: string, lines: Iterable<string>): Promise<void> {
  const handle = await open(path, 'w')
  try {
    const CHUNK_CHARS = 1 << 20
    let chunk: string[] = []
    let chunkChars = 0
    for (const line of lines) {
      chunk.push(line, '\n')
      chunkChars += line.length + 1
      if (chunkChars >= CHUNK_CHARS) {
        await writeAll(handle, chunk.join(''))
        chunk = []
        chunkChars = 0
      }
    }
    if (chunk.length > 0) await writeAll(handle, chunk.join(''))
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** `FileHandle.write` may write fewer bytes than asked; loop until all are written. */
async function writeAll(handle: FileHandle, text: string): Promise<void> {
  const bytes = Buffer.from(text, 'utf8')
  let offset = 0
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset)
    offset += bytesWritten
  }
}
