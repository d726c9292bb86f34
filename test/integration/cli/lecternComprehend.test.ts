import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readTrainingJsonl } from '../../../src-main/core/train/trainingData/readTrainingJsonl.js'
import type { ClusterSummary, ComprehendSummary, DatasetSummary } from '../../../src-main/shared/types/comprehension.js'
import type { JobDetail } from '../../../src-main/shared/types/jobs.js'
import { writeComprehensionCorpus, writeInstructionMix } from '../../fixtures/corpus/comprehensionProse.js'
import { writeTinyGgufModel } from '../../fixtures/tinyModels.js'
import { runCliProcess, startCli } from '../../support/cli.js'
import { useTempDirs } from '../../support/tempDir.js'

const tempDir = useTempDirs()
let fixtureRoot: string

let imported: string
let generator: string
let hfDir: string

function query<T>(projectDir: string, sql: string): T[] {
  const db = new BetterSqlite3(join(projectDir, 'project.db'), { readonly: true, fileMustExist: true })
  try {
    return db.prepare(sql).all() as T[]
  } finally {
    db.close()
  }
}

function countRows(projectDir: string, table: string): number {
  try {
    return query<{ n: number }>(projectDir, `SELECT COUNT(*) AS n FROM ${table}`)[0]?.n ?? 0
  } catch {
    return 0
  }
}

async function jobResult<T>(args: string[]): Promise<T> {
  const result = await runCliProcess([...args, '--json'])
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  return (JSON.parse(result.stdout) as JobDetail).result as T
}

/** A copy of the imported project, so each test starts from the same corpus. */
async function freshProject(): Promise<string> {
  const dir = join(await tempDir(), 'project')
  await cp(imported, dir, { recursive: true })
  return dir
}

function generatedPairs(projectDir: string): unknown[] {
  return query(projectDir, 'SELECT chunk_id, ordinal, question, answer, status, reject_reason FROM qa_pairs ORDER BY chunk_id, ordinal')
}

beforeAll(async () => {
  const root = (fixtureRoot = await mkdtemp(join(tmpdir(), 'lectern-rc-')))
  await writeComprehensionCorpus(join(root, 'corpus'), ['harbour', 'orchard', 'foundry'], 3)
  const model = await writeTinyGgufModel(join(root, 'model'), { architecture: 'llama', hyperparameters: { contextLength: 4096 } })
  generator = model.ggufPath
  hfDir = model.hfDir
  imported = join(root, 'imported')
  expect((await runCliProcess(['init', imported, '--name', 'rc'])).code).toBe(0)
  expect((await runCliProcess(['import', imported, join(root, 'corpus'), '--chunk-tokens', '192', '--overlap', '16'])).code).toBe(0)
}, 180_000)
afterAll(async () => {
  if (fixtureRoot) await rm(fixtureRoot, { recursive: true, force: true })
})

describe('lectern comprehend, cluster and dataset on a real project', () => {
  it('mines AdaptLLM tasks for every chunk once, and previews without storing', async () => {
    const project = await freshProject()
    const chunks = countRows(project, 'chunks')
    const preview = await jobResult<ComprehendSummary>(['comprehend', project, '--mode', 'regex', '--preview', '2'])
    expect(preview.rcPreview).toHaveLength(2)
    expect(preview.rcPreview![0]!.text).toMatch(/\[d\d+s\d+\]/)
    expect(countRows(project, 'rc_texts')).toBe(0)

    const mined = await jobResult<ComprehendSummary>(['comprehend', project, '--mode', 'regex'])
    expect(mined.processed).toBe(chunks)
    expect(mined.remaining).toBe(0)
    expect(mined.produced).toBeGreaterThan(chunks)
    expect(mined.totals.rcChunks).toBe(chunks)
    expect((await jobResult<ComprehendSummary>(['comprehend', project, '--mode', 'regex'])).processed).toBe(0)
    // A preview looks at chunks already mined too, and stores nothing.
    const again = await jobResult<ComprehendSummary>(['comprehend', project, '--mode', 'regex', '--preview', '2'])
    expect(again.rcPreview!.map((rc) => rc.text)).toEqual(preview.rcPreview!.map((rc) => rc.text))

    const text = await runCliProcess(['comprehend', project, '--mode', 'regex'])
    expect(text.stdout).toMatch(/Mined\s+0 tasks from 0 chunks; 0 chunks left/)
    const status = await runCliProcess(['status', project])
    expect(status.stdout).toMatch(new RegExp(`Mined RC\\s+${chunks} of ${chunks} chunks`))
  })

  it('generates QA pairs with a tiny GGUF: every output parses into the schema, every pair keeps its chunk', async () => {
    const project = await freshProject()
    const summary = await jobResult<ComprehendSummary>(['comprehend', project, '--mode', 'llm', '--generator', generator, '--ascii-only', '--pairs', '1', '--limit', '6', '--temperature', '0.8'])
    expect(summary.processed).toBe(6)
    expect(summary.failed).toEqual({})
    const generations = query<{ chunk_id: number; status: string; raw_output: string }>(project, 'SELECT chunk_id, status, raw_output FROM qa_generations')
    expect(generations).toHaveLength(6)
    for (const g of generations) {
      expect(g.status).toBe('ok')
      const parsed = JSON.parse(g.raw_output) as unknown
      const items = Array.isArray(parsed) ? parsed : (parsed as { pairs: unknown[] }).pairs
      expect(items.length).toBeGreaterThanOrEqual(1)
      expect(items.length).toBe(1)
    }
    const pairs = query<{ chunk_id: number; status: string; reject_reason: string | null }>(project, 'SELECT chunk_id, status, reject_reason FROM qa_pairs')
    expect(pairs.length).toBeGreaterThanOrEqual(6)
    const chunkIds = new Set(generations.map((g) => g.chunk_id))
    for (const pair of pairs) {
      expect(chunkIds.has(pair.chunk_id)).toBe(true)
      // Random weights write noise: whatever the filters reject says why.
      if (pair.status === 'rejected') expect(pair.reject_reason).not.toBeNull()
    }
    expect(summary.produced + summary.rejected).toBe(pairs.length)
  }, 120_000)

  it('killed mid-generation (SIGKILL) and run again, has the pairs of an uninterrupted run: none missing, none twice', async () => {
    const reference = await freshProject()
    const killed = await freshProject()
    const args = ['--mode', 'llm', '--generator', generator, '--ascii-only', '--pairs', '1', '--seed', '9', '--threads', '1']
    await jobResult<ComprehendSummary>(['comprehend', reference, ...args])
    const total = countRows(reference, 'qa_generations')
    expect(total).toBe(countRows(reference, 'chunks'))

    const { child, done } = startCli(['comprehend', killed, ...args])
    const poll = setInterval(() => {
      if (countRows(killed, 'qa_generations') > total * 0.3) child.kill('SIGKILL')
    }, 5)
    const outcome = await done
    clearInterval(poll)
    expect(outcome.signal).toBe('SIGKILL')
    const partial = countRows(killed, 'qa_generations')
    expect(partial).toBeGreaterThan(0)
    expect(partial).toBeLessThan(total)

    const again = await jobResult<ComprehendSummary>(['comprehend', killed, ...args])
    expect(again.processed).toBe(total - partial)
    expect(generatedPairs(killed)).toEqual(generatedPairs(reference))
    expect(query(killed, 'SELECT chunk_id, status, raw_output FROM qa_generations ORDER BY chunk_id')).toEqual(
      query(reference, 'SELECT chunk_id, status, raw_output FROM qa_generations ORDER BY chunk_id'),
    )
  }, 240_000)

  it('embeds and clusters the chunks, then builds a dataset whose held-out documents never reach training', async () => {
    const project = await freshProject()
    await jobResult<ComprehendSummary>(['comprehend', project, '--mode', 'llm', '--generator', generator, '--ascii-only', '--pairs', '1', '--limit', '10', '--min-grounding', '0'])
    const chunks = countRows(project, 'chunks')

    const clustered = await jobResult<ClusterSummary>(['cluster', project, '--embedder', generator, '--threshold', '0.2', '--max-docs', '4', '--kmeans', '3'])
    expect(clustered.embedded).toBe(chunks)
    expect(clustered.largestCluster).toBeLessThanOrEqual(4)
    expect(countRows(project, 'cluster_members')).toBe(2 * chunks)
    // Members of one cluster come from different documents.
    const members = query<{ cluster: number; document_id: number }>(
      project,
      `SELECT m.cluster, c.document_id FROM cluster_members m JOIN cluster_runs r ON r.id = m.run_id JOIN chunks c ON c.id = m.chunk_id WHERE r.kind = 'extend'`,
    )
    const byCluster = new Map<number, number[]>()
    for (const m of members) byCluster.set(m.cluster, [...(byCluster.get(m.cluster) ?? []), m.document_id])
    for (const documents of byCluster.values()) expect(new Set(documents).size).toBe(documents.length)
    const again = await jobResult<ClusterSummary>(['cluster', project])
    expect(again.embedded).toBe(0)
    expect(again.reusedEmbeddings).toBe(chunks)

    const mix = join(await tempDir(), 'mix.jsonl')
    await writeInstructionMix(mix, 30)
    const exported = join(await tempDir(), 'export.jsonl')
    const dataset = await jobResult<DatasetSummary>(['dataset', project, '--mix', mix, '--seq-len', '512', '--heldout', '0.25', '--tokenizer', generator, '--out', exported])
    expect(dataset.sequences).toBeGreaterThan(0)
    expect(dataset.tokens.regex).toBeGreaterThan(0)
    expect(dataset.tokens.llm).toBeGreaterThan(0)
    expect(dataset.tokens.instructions).toBeGreaterThan(0)
    expect(dataset.heldOut.documents).toBeGreaterThanOrEqual(1)

    const trainText = await readFile(join(dataset.dir, 'train.jsonl'), 'utf8')
    const heldOut = (await readFile(join(dataset.dir, 'heldout.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { text: string; document_id: number })
    expect(new Set(heldOut.map((h) => h.document_id)).size).toBe(dataset.heldOut.documents)
    for (const passage of heldOut) {
      for (const marker of passage.text.match(/\[d\d+s\d+\]/g) ?? []) expect(trainText).not.toContain(marker)
    }
    const read = await readTrainingJsonl(join(dataset.dir, 'train.jsonl'))
    expect(read.examples.length).toBeGreaterThan(0)
    expect(read.examples.every((e) => e.sequence !== undefined)).toBe(true)
    expect((await readFile(exported, 'utf8')).trim().split('\n')).toHaveLength(dataset.sequences)

    // The built dataset is what `lectern train` reads without --data.
    const train = await runCliProcess(['train', project, '--base', hfDir, '--method', 'lora', '--rank', '4', '--steps', '2', '--seq-len', '64', '--json'])
    expect(train.stderr).toBe('')
    expect(train.code).toBe(0)
  }, 240_000)

  it('refuses what it cannot do, naming the option or the missing step', async () => {
    const project = await freshProject()
    const noModel = await runCliProcess(['comprehend', project, '--mode', 'llm'])
    expect(noModel.code).toBe(2)
    expect(noModel.stderr).toMatch(/generator/)
    const badMode = await runCliProcess(['comprehend', project, '--mode', 'magic'])
    expect(badMode.code).toBe(2)
    const noEmbeddings = await runCliProcess(['cluster', project])
    expect(noEmbeddings.code).toBe(1)
    expect(noEmbeddings.stderr).toMatch(/--embedder/)
    const noPairs = await runCliProcess(['dataset', project, '--mode', 'llm'])
    expect(noPairs.code).toBe(1)
    expect(noPairs.stderr).toMatch(/comprehend --mode llm/)
    const badRatio = await runCliProcess(['dataset', project, '--ratio', 'half'])
    expect(badRatio.code).toBe(2)
    expect(badRatio.stderr).toMatch(/--ratio/)
    const missingMix = await runCliProcess(['dataset', project, '--mix', join(project, 'nope.jsonl')])
    expect(missingMix.code).toBe(1)
    expect(missingMix.stderr).toMatch(/nope\.jsonl/)
  }, 120_000)
})
