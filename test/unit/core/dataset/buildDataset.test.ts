import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BuildDatasetInput, type DatasetDocument, buildDataset, planDataset } from '../../../../src-main/core/dataset/buildDataset.js'
import type { InstructionItem } from '../../../../src-main/core/dataset/readInstructionMix.js'
import { type DatasetSummary, type TrainLine, exportDataset } from '../../../../src-main/core/dataset/writeDataset.js'
import { randomStream } from '../../../../src-main/core/train/random.js'
import { readTrainingJsonl } from '../../../../src-main/core/train/trainingData/readTrainingJsonl.js'
import { plainConversation } from '../../../../src-main/core/train/trainingData/tokenizeExamples.js'

/** A stand-in tokenizer: one token per whitespace-separated word. */
const words = (text: string): string[] => text.split(/\s+/).filter((w) => w !== '')
const countTokens = (text: string): number => words(text).length
function splitText(text: string, maxTokens: number): string[] {
  const all = words(text)
  const pieces: string[] = []
  for (let i = 0; i < all.length; i += maxTokens) pieces.push(all.slice(i, i + maxTokens).join(' '))
  return pieces
}

const SEQ_LEN = 256
const EOS = '</s>'

function fixture(documentCount: number): Pick<BuildDatasetInput, 'documents' | 'clusters' | 'qaPairs' | 'instructions'> {
  const random = randomStream(77)
  const filler = (n: number): string => Array.from({ length: n }, (_, i) => `w${i % 13}`).join(' ')
  const documents: DatasetDocument[] = []
  const qaPairs = new Map<number, { question: string; answer: string }[]>()
  for (let id = 1; id <= documentCount; id++) {
    // Every tenth document is longer than a sequence, so its items have to be split.
    const length = id % 10 === 0 ? 300 + Math.floor(random() * 200) : 10 + Math.floor(random() * 60)
    const text = `DOCMARK${id}X ${filler(length)}`
    documents.push({ id, text, tokenCount: countTokens(text), rcText: `RCMARK${id}X Read: ${text} Question: what? Answer: that.` })
    const pairs = id % 4 === 0 ? [] : Array.from({ length: 1 + (id % 3) }, (_, k) => ({ question: `QMARK${id}X${k} asks what?`, answer: `AMARK${id}X${k} answers.` }))
    qaPairs.set(id, pairs)
  }
  const clusters: number[][] = []
  for (let id = 1; id + 2 <= Math.min(documentCount, 90); id += 3) clusters.push([id, id + 1, id + 2])
  const instructions: InstructionItem[] = Array.from({ length: 40 }, (_, i) =>
    i % 3 === 0
      ? { kind: 'text', text: `INSTR${i}X ${filler(20 + i)}`, source: { file: 'mix.jsonl', line: i + 1 } }
      : {
          kind: 'chat',
          messages: [
            { role: 'user', content: `INSTR${i}X ask ${filler(i)}` },
            { role: 'assistant', content: `reply ${filler(5 + i)}` },
          ],
          source: { file: 'mix.jsonl', line: i + 1 },
        },
  )
  // One chat instruction too long for any sequence: it is left out.
  instructions.push({ kind: 'chat', messages: [{ role: 'user', content: 'LONGINSTRX' }, { role: 'assistant', content: filler(400) }], source: { file: 'mix.jsonl', line: 41 } })
  return { documents, clusters, qaPairs, instructions }
}

function input(overrides: Partial<BuildDatasetInput> = {}): BuildDatasetInput {
  return { ...fixture(150), mode: 'both', ratio: '1:2', heldOutFraction: 0.1, seqLen: SEQ_LEN, seed: 5, countTokens, splitText, eosText: EOS, ...overrides }
}

async function readJsonl<T>(path: string): Promise<T[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T)
}

describe('buildDataset', () => {
  let folder: string
  let datasetDir: string
  let summary: DatasetSummary
  let train: TrainLine[]
  let trainText: string
  const heldOutIds = new Set<number>()

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'lectern-dataset-'))
    datasetDir = join(folder, 'dataset')
    summary = await buildDataset(input(), datasetDir)
    trainText = await readFile(join(datasetDir, 'train.jsonl'), 'utf8')
    train = await readJsonl<TrainLine>(join(datasetDir, 'train.jsonl'))
    for (const d of await readJsonl<{ document_id: number }>(join(datasetDir, 'heldout.jsonl'))) heldOutIds.add(d.document_id)
  })
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true })
  })

  it('keeps held-out documents and their QA out of train.jsonl, and writes them for evaluation', async () => {
    expect(heldOutIds.size).toBe(summary.heldOut.documents)
    expect(heldOutIds.size).toBeGreaterThan(3)
    for (const id of heldOutIds) {
      for (const marker of [`DOCMARK${id}X`, `RCMARK${id}X`, `QMARK${id}X`, `AMARK${id}X`]) expect(trainText).not.toContain(marker)
    }
    for (let id = 1; id <= 150; id++) {
      if (heldOutIds.has(id)) continue
      expect(trainText).toContain(`DOCMARK${id}X`)
      expect(trainText).toContain(`RCMARK${id}X`)
    }
    const heldOutDocuments = await readJsonl<{ text: string; document_id: number }>(join(datasetDir, 'heldout.jsonl'))
    for (const d of heldOutDocuments) expect(d.text.startsWith(`DOCMARK${d.document_id}X `)).toBe(true)
    const heldOutQa = await readJsonl<{ question: string; answer: string; document_id: number }>(join(datasetDir, 'heldout-qa.jsonl'))
    expect(heldOutQa.length).toBe(summary.heldOut.qaPairs)
    expect(heldOutQa.length).toBeGreaterThan(0)
    for (const qa of heldOutQa) {
      expect(heldOutIds.has(qa.document_id)).toBe(true)
      expect(qa.question).toContain(`QMARK${qa.document_id}X`)
      expect(qa.answer).toContain(`AMARK${qa.document_id}X`)
    }
  })

  it('holds out whole source documents: every passage of a held-out source, none of the others', () => {
    const base = fixture(150)
    // Passages 1–150 come from 30 sources of five passages each.
    const sourceOf = (id: number): number => 1000 + Math.floor((id - 1) / 5)
    const plan = planDataset(input({ ...base, documents: base.documents.map((d) => ({ ...d, sourceId: sourceOf(d.id) })) }))
    const heldOutSources = new Set(plan.heldOutDocuments.map((d) => d.document_id))
    expect(plan.summary.heldOut.documents).toBe(heldOutSources.size)
    expect(plan.summary.heldOut.passages).toBe(heldOutSources.size * 5)
    const text = plan.train.map((line) => JSON.stringify(line)).join('\n')
    for (let id = 1; id <= 150; id++) {
      if (heldOutSources.has(sourceOf(id))) expect(text).not.toContain(`DOCMARK${id}X`)
      else expect(text).toContain(`DOCMARK${id}X`)
    }
  })

  it('keeps the held-out documents held out when documents are added', () => {
    const small = planDataset(input())
    const larger = planDataset(input({ ...fixture(400) }))
    const before = new Set(small.heldOutDocuments.map((d) => d.document_id))
    const after = new Set(larger.heldOutDocuments.filter((d) => d.document_id <= 150).map((d) => d.document_id))
    expect(after).toEqual(before)
  })

  it('writes lines in packed order, no sequence over seqLen, every item or all its pieces once', () => {
    const sequenceTokens = new Map<number, number>()
    let previous = 0
    for (const line of train) {
      expect(line.sequence).toBeGreaterThanOrEqual(previous)
      previous = line.sequence
      const tokens = 'text' in line ? countTokens(line.text) : countTokens(plainConversation(line.messages).text)
      sequenceTokens.set(line.sequence, (sequenceTokens.get(line.sequence) ?? 0) + tokens + 1)
    }
    expect(sequenceTokens.size).toBe(summary.sequences)
    for (const tokens of sequenceTokens.values()) expect(tokens).toBeLessThanOrEqual(SEQ_LEN)
    const placed = new Map<number, number[]>()
    for (const line of train) placed.set(line.source.item, [...(placed.get(line.source.item) ?? []), line.source.piece ?? -1])
    for (const [, pieces] of placed) {
      if (pieces.length === 1 && pieces[0] === -1) continue
      expect([...pieces].sort((a, b) => a - b)).toEqual(pieces.map((_, i) => i))
    }
    expect(placed.size).toBe(summary.items.regexRc + summary.items.llmRc + summary.items.instruction)
    expect(summary.items.split).toBeGreaterThan(0)
    expect(summary.fillRatio).toBeGreaterThan(0.9)
    expect(summary.tokens.total).toBe(summary.tokens.regexRc + summary.tokens.llmRc + summary.tokens.instruction + summary.tokens.eos)
  })

  it('mixes in instructions at the requested token ratio and leaves out chats longer than a sequence', () => {
    expect(summary.ratio.requested).toBe('1:2')
    expect(summary.ratio.targetGeneralTokens).toBe(summary.ratio.domainTokens * 2)
    expect(Math.abs(summary.ratio.generalTokens - summary.ratio.targetGeneralTokens)).toBeLessThanOrEqual(60)
    expect(summary.ratio.achievedGeneralPerDomain).toBeCloseTo(2, 2)
    expect(summary.ratio.instructionPasses).toBeGreaterThan(1)
    expect(summary.ratio.instructionsTooLong).toBe(1)
    expect(trainText).not.toContain('LONGINSTRX')
    expect(summary.tokens.instruction).toBe(summary.ratio.generalTokens)
  })

  it('is byte-identical for the same seed and differs for another', async () => {
    const again = join(folder, 'again')
    const other = join(folder, 'other')
    await buildDataset(input(), again)
    await buildDataset(input({ seed: 6 }), other)
    for (const name of ['train.jsonl', 'heldout.jsonl', 'heldout-qa.jsonl', 'summary.json']) {
      expect(await readFile(join(again, name))).toEqual(await readFile(join(datasetDir, name)))
    }
    expect(await readFile(join(other, 'train.jsonl'))).not.toEqual(await readFile(join(datasetDir, 'train.jsonl')))
  })

  it('leaves exactly the dataset files, with no temporary file, also when rebuilt in place', async () => {
    const before = await readFile(join(datasetDir, 'train.jsonl'))
    await buildDataset(input(), datasetDir)
    expect((await readdir(datasetDir)).sort()).toEqual(['heldout-qa.jsonl', 'heldout.jsonl', 'summary.json', 'train.jsonl'])
    expect(await readFile(join(datasetDir, 'train.jsonl'))).toEqual(before)
  })

  it('is read by the trainer, which keeps each line\'s packed sequence and ignores the other fields', async () => {
    const read = await readTrainingJsonl(join(datasetDir, 'train.jsonl'))
    expect(read.examples.length).toBe(train.length)
    expect(read.skipped).toEqual([])
    expect(read.counts.text + read.counts.chat).toBe(train.length)
    expect(read.counts.chat).toBeGreaterThan(0)
    expect(read.examples.map((e) => e.sequence)).toEqual(train.map((line) => line.sequence))
    // The reader's own `source` (file:line) replaces the dataset's provenance field.
    expect(read.examples[0]?.source).toEqual({ file: join(datasetDir, 'train.jsonl'), line: 1 })
  })

  it('exports one text per packed sequence joined by EOS', async () => {
    const out = join(folder, 'export-text.jsonl')
    const { lines } = await exportDataset(datasetDir, out, 'text')
    const exported = await readJsonl<{ text: string }>(out)
    expect(lines).toBe(summary.sequences)
    expect(exported.length).toBe(summary.sequences)
    const firstSequence = train.filter((line) => line.sequence === 0)
    expect(exported[0]!.text.split(EOS).length).toBe(firstSequence.length)
    const separators = exported.reduce((sum, line) => sum + line.text.split(EOS).length - 1, 0)
    expect(separators).toBe(train.length - summary.sequences)
  })

  it('exports one line per item in chat format, clusters with QA as conversations', async () => {
    const out = join(folder, 'export-chat.jsonl')
    await exportDataset(datasetDir, out, 'chat')
    const exported = await readJsonl<{ text?: string; messages?: { role: string; content: string }[] }>(out)
    const clustersWithChat = new Set(train.filter((line) => line.chat !== undefined).map((line) => line.source.item))
    expect(clustersWithChat.size).toBeGreaterThan(0)
    const splitChatLines = train.filter((line) => clustersWithChat.has(line.source.item)).length - clustersWithChat.size
    expect(exported.length).toBe(train.length - splitChatLines)
    const conversations = exported.filter((line) => line.messages !== undefined && line.messages[0]!.content.includes('DOCMARK'))
    expect(conversations.length).toBe(clustersWithChat.size)
    for (const conversation of conversations) {
      const roles = conversation.messages!.map((m) => m.role)
      expect(roles).toEqual(roles.map((_, i) => (i % 2 === 0 ? 'user' : 'assistant')))
      expect(conversation.messages![1]!.content).toMatch(/^AMARK\d+X\d answers\.$/)
    }
    expect((await readFile(out, 'utf8')).includes('RCMARK')).toBe(true)
  })

  it('refuses to export a folder without a summary', async () => {
    await expect(exportDataset(join(folder, 'nothing'), join(folder, 'x.jsonl'), 'text')).rejects.toMatchObject({ code: 'not_found' })
  })

  it('builds the regex and llm modes alone', () => {
    const regex = planDataset(input({ mode: 'regex', instructions: null }))
    expect(regex.summary.items).toMatchObject({ llmRc: 0, instruction: 0 })
    expect(regex.train.every((line) => line.source.kind === 'regex-rc')).toBe(true)
    const llm = planDataset(input({ mode: 'llm', clusters: null }))
    expect(llm.summary.items.regexRc).toBe(0)
    expect(llm.summary.items.llmRc).toBe(150 - llm.summary.heldOut.documents)
  })

  it('retries a cut whose pieces count more tokens than asked, so no sequence overflows', () => {
    const overshootingSplit = (text: string, maxTokens: number): string[] => splitText(text, maxTokens + 2)
    const plan = planDataset(input({ splitText: overshootingSplit }))
    expect(plan.summary.items.split).toBeGreaterThan(0)
    const sequenceTokens = new Map<number, number>()
    for (const line of plan.train) {
      const tokens = 'text' in line ? countTokens(line.text) : countTokens(plainConversation(line.messages).text)
      expect(tokens).toBeLessThanOrEqual(SEQ_LEN - 1)
      sequenceTokens.set(line.sequence, (sequenceTokens.get(line.sequence) ?? 0) + tokens + 1)
    }
    for (const tokens of sequenceTokens.values()) expect(tokens).toBeLessThanOrEqual(SEQ_LEN)
  })

  it('refuses inconsistent inputs', () => {
    expect(() => planDataset(input({ clusters: [[1, 999]] }))).toThrow(/document 999, which is not among the documents/)
    expect(() => planDataset(input({ clusters: [[1, 2], [2, 3]] }))).toThrow(/Document 2 is in more than one cluster/)
    const documents = input().documents.map((d) => (d.id === 7 ? { id: d.id, text: d.text, tokenCount: d.tokenCount } : d))
    expect(() => planDataset(input({ documents, mode: 'regex', heldOutFraction: 0 }))).toThrow(/Document 7 has no reading-comprehension text/)
    expect(() => planDataset(input({ ratio: '1-2' }))).toThrow(/Mixing ratio "1-2"/)
  })
})
