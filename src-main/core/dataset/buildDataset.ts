import { LecternError } from '../../shared/errors.js'
import { shuffled } from '../comprehension/miners/seededChoice.js'
import type { ChatMessage } from '../model/tokenizers/Tokenizer.js'
import { randomStream } from '../train/random.js'
import { plainConversation } from '../train/trainingData/tokenizeExamples.js'
import { type QaPair, formatCluster } from './formatCluster.js'
import { type MixRatio, DEFAULT_MIX_RATIO, formatMixRatio, mixInstructions, parseMixRatio } from './mixInstructions.js'
import { packDataset } from './packDataset.js'
import type { InstructionItem } from './readInstructionMix.js'
import { DEFAULT_HELD_OUT_FRACTION, splitHeldOut, withoutHeldOut } from './splitHeldOut.js'
import { type DatasetContents, type DatasetSummary, type HeldOutDocument, type HeldOutQa, type SourceKind, type TrainLine, type TrainLineSource, writeDataset } from './writeDataset.js'

export interface DatasetDocument {
  id: number
  text: string
  /** Tokens of `text`; used for the held-out statistics. */
  tokenCount: number
  /** The document's AdaptLLM reading-comprehension text (§1.4), which regex mode trains on. */
  rcText?: string
  /**
   * The source document a passage (chunk) comes from: the held-out split is drawn over sources, so every passage of a
   * held-out source is held out and no overlapping passage of it reaches training. Defaults to `id`.
   */
  sourceId?: number
}

/** regex: AdaptLLM texts; llm: ETRC clusters with LLM-written QA; both: the two item sets together. */
export type DatasetMode = 'regex' | 'llm' | 'both'

export interface BuildDatasetInput {
  documents: readonly DatasetDocument[]
  /** ETRC clusters as lists of document ids; documents in no cluster form clusters of their own. `null`: all singletons. */
  clusters: readonly (readonly number[])[] | null
  qaPairs: ReadonlyMap<number, readonly QaPair[]>
  mode: DatasetMode
  /** The general instruction pool; `null` for none. */
  instructions: readonly InstructionItem[] | null
  /** Domain:general tokens, as "a:b" or parsed. Defaults to 1:1. */
  ratio?: string | MixRatio
  /** Defaults to 0.05. */
  heldOutFraction?: number
  /** Tokens per training sequence, EOS separators included. */
  seqLen: number
  seed: number
  /** Tokens the trainer spends on a text before its EOS (a BOS included when the tokenizer adds one). */
  countTokens: (text: string) => number
  /** Cuts a text on token boundaries into consecutive pieces of at most `maxTokens` tokens each. */
  splitText: (text: string, maxTokens: number) => string[]
  /** The tokenizer's EOS token as text, for the text export. */
  eosText: string
  /**
   * The text a chat instruction is counted as. Defaults to the trainer's plain conversation format; pass the
   * model's chat template when it has one.
   */
  renderChat?: (messages: readonly ChatMessage[]) => string
  /** The packer's pool size; see `packDataset`. */
  poolSize?: number
}

/** Builds the dataset (see `planDataset`) and writes it into `outDir`. */
export async function buildDataset(input: BuildDatasetInput, outDir: string): Promise<DatasetSummary> {
  const contents = planDataset(input)
  await writeDataset(outDir, contents)
  return contents.summary
}

/** An item to pack, with its token count (before the EOS). */
type PlannedItem = { tokens: number } & (
  | { kind: 'regex-rc'; text: string; documents: number[] }
  | { kind: 'llm-rc'; text: string; documents: number[]; chat: ChatMessage[] | null }
  | { kind: 'instruction'; instruction: InstructionItem }
)

/**
 * The dataset as data, in memory:
 * 1. documents are split into training and held-out ones (`splitHeldOut`); held-out documents and their QA pairs
 *    go to the evaluation files only, and are removed from their clusters before anything is formatted;
 * 2. domain items: each training document's `rcText` (regex), each cluster formatted by `formatCluster` (llm);
 * 3. general instructions are drawn to the token ratio (`mixInstructions`); chat instructions too long for one
 *    sequence are left out, as a conversation cut in two would lose its prompt;
 * 4. all items are shuffled together (so the packer's sliding pool sees both kinds), packed (`packDataset`, long
 *    texts split by `splitText`), and laid out as `train.jsonl` lines in packed order.
 * Every random choice is drawn from a stream named after what it decides, so the same input and seed give the
 * same dataset.
 */
export function planDataset(input: BuildDatasetInput): DatasetContents {
  const { documents, mode, seqLen, seed, countTokens, splitText, eosText } = input
  if (mode !== 'regex' && mode !== 'llm' && mode !== 'both') throw new LecternError('invalid_argument', `Unknown dataset mode "${String(mode)}"; expected regex, llm or both`)
  if (!Number.isSafeInteger(seqLen) || seqLen < 2) throw new LecternError('invalid_argument', `The sequence length must be an integer of at least 2 tokens; got ${seqLen}`)
  const ratio = typeof input.ratio === 'string' ? parseMixRatio(input.ratio) : (input.ratio ?? DEFAULT_MIX_RATIO)
  const heldOutFraction = input.heldOutFraction ?? DEFAULT_HELD_OUT_FRACTION
  const renderChat = input.renderChat ?? ((messages: readonly ChatMessage[]) => plainConversation(messages).text)
  const tokensOf = (text: string, what: string): number => {
    const tokens = countTokens(text)
    if (!Number.isSafeInteger(tokens) || tokens < 0) throw new LecternError('internal', `Counting the tokens of ${what} gave ${tokens}; expected an integer ≥ 0`)
    return tokens
  }

  const byId = new Map<number, DatasetDocument>()
  for (const document of documents) {
    if (byId.has(document.id)) throw new LecternError('invalid_argument', `Document ${document.id} is listed twice`)
    byId.set(document.id, document)
  }
  const sourceOf = (document: DatasetDocument): number => document.sourceId ?? document.id
  const heldOutSources = splitHeldOut([...new Set(documents.map(sourceOf))], { fraction: heldOutFraction, seed })
  const heldOut = new Set(documents.filter((d) => heldOutSources.has(sourceOf(d))).map((d) => d.id))

  const domainItems: PlannedItem[] = []
  if (mode === 'regex' || mode === 'both') {
    for (const document of documents) {
      if (heldOut.has(document.id)) continue
      if (document.rcText === undefined) throw new LecternError('invalid_argument', `Document ${document.id} has no reading-comprehension text, which the regex mode trains on`)
      if (document.rcText.trim() === '') continue
      const tokens = tokensOf(document.rcText, `the reading-comprehension text of document ${document.id}`)
      domainItems.push({ kind: 'regex-rc', text: document.rcText, documents: [document.id], tokens })
    }
  }
  if (mode === 'llm' || mode === 'both') {
    for (const cluster of withoutHeldOut(completeClusters(input.clusters, documents, byId), heldOut)) {
      const clusterDocuments = cluster.map((id) => ({ text: byId.get(id)!.text, qaPairs: input.qaPairs.get(id) ?? [] }))
      const formatted = formatCluster(clusterDocuments, randomStream(seed, 'etrc-cluster', cluster[0]!))
      if (formatted.text.trim() === '') continue
      const tokens = tokensOf(formatted.text, `the cluster of documents ${cluster.join(', ')}`)
      domainItems.push({ kind: 'llm-rc', text: formatted.text, documents: cluster, chat: formatted.messages, tokens })
    }
  }
  const domainTokens = domainItems.reduce((sum, item) => sum + item.tokens, 0)

  const pool: InstructionItem[] = []
  const poolTokens: number[] = []
  let instructionsTooLong = 0
  for (const instruction of input.instructions ?? []) {
    const tokens = tokensOf(instructionText(instruction, renderChat), `${instruction.source.file}:${instruction.source.line}`)
    if (instruction.kind === 'chat' && tokens > seqLen - 1) instructionsTooLong++
    else {
      pool.push(instruction)
      poolTokens.push(tokens)
    }
  }
  const mix = mixInstructions(poolTokens, domainTokens, ratio, randomStream(seed, 'instruction-mix'))
  const instructionItems: PlannedItem[] = mix.picks.map((index) => ({ kind: 'instruction', instruction: pool[index]!, tokens: poolTokens[index]! }))

  const items = shuffled(randomStream(seed, 'item-order'), [...domainItems, ...instructionItems])
  if (items.length === 0) throw new LecternError('invalid_argument', 'Nothing to train on: no document is left for training and no instruction was drawn')
  const itemTokens = items.map((item) => item.tokens)
  const pieceTexts = new Map<number, string[]>()
  const packing = packDataset(itemTokens, {
    seqLen,
    ...(input.poolSize === undefined ? {} : { poolSize: input.poolSize }),
    splitItem: (index, maxTokens) => {
      const item = items[index]!
      const { pieces, tokens } = splitWithin(itemText(item, renderChat), maxTokens, splitText, (piece, i) => tokensOf(piece, `piece ${i + 1} of ${describeItem(item)}`), describeItem(item))
      pieceTexts.set(index, pieces)
      return tokens
    },
  })

  const tokensByKind: Record<SourceKind, number> = { 'regex-rc': 0, 'llm-rc': 0, instruction: 0 }
  const train: TrainLine[] = []
  packing.sequences.forEach((sequence, sequenceIndex) => {
    for (const unit of sequence.units) {
      const item = items[unit.item]!
      tokensByKind[item.kind] += unit.tokens
      const source: TrainLineSource = { kind: item.kind, item: unit.item }
      if (item.kind === 'instruction') {
        source.file = item.instruction.source.file
        source.line = item.instruction.source.line
      } else source.documents = item.documents
      let example: { text: string } | { messages: ChatMessage[] }
      if (unit.piece !== null) {
        // Only texts are split: chat instructions longer than a sequence were left out of the pool.
        const pieces = pieceTexts.get(unit.item)!
        source.piece = unit.piece
        source.pieces = pieces.length
        example = { text: pieces[unit.piece]! }
      } else if (item.kind === 'instruction' && item.instruction.kind === 'chat') example = { messages: item.instruction.messages }
      else example = { text: itemText(item, renderChat) }
      const line: TrainLine = { ...example, sequence: sequenceIndex, source }
      if (item.kind === 'llm-rc' && item.chat !== null && (unit.piece ?? 0) === 0) line.chat = item.chat
      train.push(line)
    }
  })

  const heldOutDocuments: HeldOutDocument[] = []
  const heldOutQa: HeldOutQa[] = []
  let heldOutTokens = 0
  for (const document of documents) {
    if (!heldOut.has(document.id)) continue
    heldOutDocuments.push({ text: document.text, document_id: sourceOf(document) })
    heldOutTokens += document.tokenCount
    for (const qa of input.qaPairs.get(document.id) ?? []) heldOutQa.push({ question: qa.question, answer: qa.answer, document_id: sourceOf(document), chunk_id: document.id })
  }

  const countKind = (kind: SourceKind): number => items.filter((item) => item.kind === kind).length
  const summary: DatasetSummary = {
    version: 1,
    mode,
    seed,
    seqLen,
    eosText,
    sequences: packing.sequences.length,
    lines: train.length,
    fillRatio: packing.fillRatio,
    tokens: {
      regexRc: tokensByKind['regex-rc'],
      llmRc: tokensByKind['llm-rc'],
      instruction: tokensByKind.instruction,
      eos: train.length,
      total: packing.usedTokens,
    },
    items: { regexRc: countKind('regex-rc'), llmRc: countKind('llm-rc'), instruction: countKind('instruction'), split: packing.splitItems.size },
    ratio: {
      requested: formatMixRatio(ratio),
      domainTokens: mix.domainTokens,
      targetGeneralTokens: mix.targetTokens,
      generalTokens: mix.generalTokens,
      achievedGeneralPerDomain: mix.achievedGeneralPerDomain,
      achieved: `1:${mix.achievedGeneralPerDomain.toFixed(2)}`,
      instructionPasses: mix.passes,
      instructionsTooLong,
    },
    heldOut: { fraction: heldOutFraction, documents: heldOutSources.size, passages: heldOutDocuments.length, tokens: heldOutTokens, qaPairs: heldOutQa.length },
  }
  return { train, heldOutDocuments, heldOutQa, summary }
}

/**
 * Pieces of `text` that each count at most `maxTokens` tokens. A piece cut on token boundaries can count a little
 * more once it is tokenized on its own (the tokens at its edges may merge differently), so the cut is retried with
 * a budget lowered by the overshoot until every piece fits. Pieces of only whitespace are dropped.
 */
function splitWithin(
  text: string,
  maxTokens: number,
  splitText: (text: string, maxTokens: number) => string[],
  count: (piece: string, index: number) => number,
  what: string,
): { pieces: string[]; tokens: number[] } {
  for (let budget = maxTokens; budget >= 1; ) {
    const pieces = splitText(text, budget).filter((piece) => piece.trim() !== '')
    const tokens = pieces.map(count)
    const overshoot = Math.max(0, ...tokens) - maxTokens
    if (overshoot <= 0) return { pieces, tokens }
    budget -= Math.max(1, overshoot)
  }
  throw new LecternError('internal', `Cannot cut ${what} into pieces of at most ${maxTokens} tokens`)
}

/** The given clusters, checked, followed by a singleton cluster for each document in none (in document order). */
function completeClusters(clusters: readonly (readonly number[])[] | null, documents: readonly DatasetDocument[], byId: ReadonlyMap<number, DatasetDocument>): number[][] {
  const clustered = new Set<number>()
  const out: number[][] = []
  ;(clusters ?? []).forEach((cluster, index) => {
    for (const id of cluster) {
      if (!byId.has(id)) throw new LecternError('invalid_argument', `Cluster ${index + 1} names document ${id}, which is not among the documents`)
      if (clustered.has(id)) throw new LecternError('invalid_argument', `Document ${id} is in more than one cluster (again in cluster ${index + 1})`)
      clustered.add(id)
    }
    if (cluster.length > 0) out.push([...cluster])
  })
  for (const document of documents) if (!clustered.has(document.id)) out.push([document.id])
  return out
}

function instructionText(instruction: InstructionItem, renderChat: (messages: readonly ChatMessage[]) => string): string {
  return instruction.kind === 'text' ? instruction.text : renderChat(instruction.messages)
}

function itemText(item: PlannedItem, renderChat: (messages: readonly ChatMessage[]) => string): string {
  return item.kind === 'instruction' ? instructionText(item.instruction, renderChat) : item.text
}

function describeItem(item: PlannedItem): string {
  switch (item.kind) {
    case 'regex-rc':
      return `the reading-comprehension text of document ${item.documents[0]}`
    case 'llm-rc':
      return `the cluster of documents ${item.documents.join(', ')}`
    case 'instruction':
      return `the instruction at ${item.instruction.source.file}:${item.instruction.source.line}`
  }
}
