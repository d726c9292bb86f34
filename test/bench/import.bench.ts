/**
 * `npm run bench:import [-- --quick] [-- --near-dup-only]`: the corpus import on a generated corpus (≥ 200 MB in the full run):
 * end-to-end MB/s into a project database for plain text, HTML and PDF, near-duplicate detection in chunks/s
 * on ≥ 100k chunks, and peak RSS per phase, with the import run on a third and on all of the text corpus to
 * show that memory does not grow with the corpus.
 *
 * Each phase runs in a child process of its own (RSS is per process). The import is the app's: `importCorpus`
 * with a preparation worker thread and the default settings (512-token chunks, overlap 64, near-duplicate Jaccard ≥ 0.85, estimated tokens).
 * Named baselines: reading the same files from the page cache (`fs.readFile`), and the targets on this
 * 2-core machine (plain text ≥ 50 MB/s, near-duplicates ≥ 20k chunks/s). Figures are printed, never asserted.
 */
import { readdir, readFile } from 'node:fs/promises'
import { Worker } from 'node:worker_threads'
import { join } from 'node:path'
import { CorpusStore } from '../../src-main/core/corpus/CorpusStore.js'
import { CorpusWriter } from '../../src-main/core/corpus/CorpusWriter.js'
import { estimateTokens } from '../../src-main/core/corpus/estimateTokens.js'
import { importCorpus } from '../../src-main/core/corpus/importCorpus.js'
import { ChunkPreparer } from '../../src-main/core/corpus/prepareDocuments.js'
import { WorkerPreparer } from '../../src-main/core/corpus/SourcePreparer.js'
import type { JobWorkerData } from '../../src-main/core/jobs/workerProtocol.js'
import { Project } from '../../src-main/core/project/Project.js'
import { sourceJobWorker } from '../../src-main/devbridge/sourceJobWorker.js'
import { benchEntry, forkPhase, MB, mb, table, withBenchRun } from './benchSupport.js'
import { ProseGenerator, writeHtmlCorpus, writePdfCorpus, writeTextCorpus } from './import/syntheticCorpus.js'
import { RssSampler } from './RssSampler.js'

const TEXT_TARGET_MB_PER_S = 50
const NEAR_DUP_TARGET_CHUNKS_PER_S = 20_000

interface Preset {
  textBytes: number
  textFileBytes: number
  htmlBytes: number
  htmlFileBytes: number
  pdfBytes: number
  pdfPages: number
  nearDupChunks: number
}

const PRESETS: Record<'full' | 'quick', Preset> = {
  full: { textBytes: 150 * MB, textFileBytes: 1 * MB, htmlBytes: 35 * MB, htmlFileBytes: 100_000, pdfBytes: 20 * MB, pdfPages: 40, nearDupChunks: 100_000 },
  quick: { textBytes: 24 * MB, textFileBytes: 1 * MB, htmlBytes: 4 * MB, htmlFileBytes: 100_000, pdfBytes: 2 * MB, pdfPages: 20, nearDupChunks: 20_000 },
}

type PhaseSpec = { kind: 'import'; projectDir: string; paths: string[] } | { kind: 'nearDup'; projectDir: string; chunks: number }

interface ImportPhaseResult {
  seconds: number
  documents: number
  chunks: number
  nearDuplicates: number
  exactDuplicates: number
  peakRssBytes: number
}

interface NearDupPhaseResult {
  chunks: number
  /** Hash, MinHash signature, exact lookup and LSH candidates with their check. */
  classifySeconds: number
  /** Writing the chunk rows and the LSH band keys. */
  writeSeconds: number
  nearFound: number
  exactFound: number
  peakRssBytes: number
}

async function runImportPhase(spec: Extract<PhaseSpec, { kind: 'import' }>): Promise<ImportPhaseResult> {
  const sampler = await RssSampler.start(50)
  const project = await Project.create(spec.projectDir, 'bench')
  const started = performance.now()
  // As the app runs it: a second thread prepares files while this one writes.
  const workerScript = sourceJobWorker().workerScript as string
  const workerData: JobWorkerData = { role: 'corpusPreparer', workerScript, workerExecArgv: [] }
  const summary = await importCorpus(project.db, spec.paths, { startPreparer: (config) => new WorkerPreparer(new Worker(workerScript, { workerData }), config) })
  const seconds = (performance.now() - started) / 1000
  project.close()
  const rss = await sampler.stop()
  return {
    seconds,
    documents: summary.documents,
    chunks: summary.chunks,
    nearDuplicates: summary.nearDuplicateChunks,
    exactDuplicates: summary.exactDuplicateChunks,
    peakRssBytes: rss.peakRssBytes,
  }
}

/** Chunk-sized texts, a tenth of them lightly edited copies of a recent one and a fiftieth exact copies. */
function* chunkTexts(count: number): Generator<string> {
  const generator = new ProseGenerator(7)
  const recent: string[] = []
  for (let i = 0; i < count; i++) {
    let text: string
    const roll = generator.nextInt(100)
    if (roll < 10 && recent.length > 0) text = generator.mutate(recent[generator.nextInt(recent.length)] as string, 0.01)
    else if (roll < 12 && recent.length > 0) text = recent[generator.nextInt(recent.length)] as string
    else text = generator.paragraphs(1900).join('\n\n')
    recent.push(text)
    if (recent.length > 200) recent.shift()
    yield text
  }
}

async function runNearDupPhase(spec: Extract<PhaseSpec, { kind: 'nearDup' }>): Promise<NearDupPhaseResult> {
  const texts = [...chunkTexts(spec.chunks)]
  const sampler = await RssSampler.start(50)
  const project = await Project.create(spec.projectDir, 'bench')
  const store = new CorpusStore(project.db)
  store.useLargeCache()
  const writer = new CorpusWriter(store, new ChunkPreparer({ chunkTokens: 512, overlapTokens: 0, nearDuplicateThreshold: 0.85 }, estimateTokens))
  const fileId = store.upsertFile({ path: '/bench/chunks', format: 'text', sizeBytes: 0, mtimeMs: 0, contentSha256: null, status: 'imported', reason: null, warnings: [] })
  let classifySeconds = 0
  let writeSeconds = 0
  let nearFound = 0
  let exactFound = 0
  const perDocument = 1000
  for (let first = 0; first < texts.length; first += perDocument) {
    project.db.transaction(() => {
      const documentId = store.insertDocument({ fileId, locator: `batch ${first}`, title: null, text: '', textSha256: `batch ${first}`, tokenCount: 0, segments: [], duplicateOf: null, keptByUser: false })
      for (let i = first; i < Math.min(first + perDocument, texts.length); i++) {
        const text = texts[i] as string
        const t0 = performance.now()
        const decision = writer.classifyText(text)
        const t1 = performance.now()
        const chunkId = store.insertChunk({
          documentId,
          ordinal: i - first,
          start: 0,
          end: text.length,
          text,
          tokenCount: 0,
          pageStart: null,
          pageEnd: null,
          section: null,
          textHash: decision.textHash,
          minHash: decision.signature && new Uint8Array(decision.signature.buffer),
          duplicateOf: decision.duplicateOf,
          duplicateKind: decision.duplicateKind,
          similarity: decision.similarity,
          keptByUser: false,
        })
        if (decision.duplicateKind === null) writer.index(chunkId, decision.textHash, decision.bandKeys)
        else if (decision.duplicateKind === 'near') nearFound++
        else exactFound++
        classifySeconds += (t1 - t0) / 1000
        writeSeconds += (performance.now() - t1) / 1000
      }
    })()
  }
  project.close()
  const rss = await sampler.stop()
  return { chunks: texts.length, classifySeconds, writeSeconds, nearFound, exactFound, peakRssBytes: rss.peakRssBytes }
}

async function readBaseline(dir: string): Promise<number> {
  const started = performance.now()
  let bytes = 0
  for (const name of await readdir(dir)) bytes += (await readFile(join(dir, name))).length
  return bytes / MB / ((performance.now() - started) / 1000)
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const preset = PRESETS[quick ? 'quick' : 'full']
  await withBenchRun('lectern-bench-import-', async ({ dir, log }) => {
    if (process.argv.includes('--near-dup-only')) {
      printNearDup(await forkPhase<PhaseSpec, NearDupPhaseResult>(import.meta.url, { kind: 'nearDup', projectDir: join(dir, 'project-neardup'), chunks: preset.nearDupChunks }))
      return
    }
    log(`generating the corpus (${quick ? 'quick' : 'full'} preset)`)
    const text = await writeTextCorpus(join(dir, 'corpus/text'), preset.textBytes, preset.textFileBytes, 1)
    const textThird = await writeTextCorpus(join(dir, 'corpus/text-third'), preset.textBytes / 3, preset.textFileBytes, 2)
    const html = await writeHtmlCorpus(join(dir, 'corpus/html'), preset.htmlBytes, preset.htmlFileBytes, 3)
    const pdf = await writePdfCorpus(join(dir, 'corpus/pdf'), preset.pdfBytes, preset.pdfPages, 4)
    const corpusBytes = text.bytes + html.bytes + pdf.bytes
    log(`corpus: ${mb(corpusBytes)} MB (text ${mb(text.bytes)} MB in ${text.files} files, HTML ${mb(html.bytes)} MB in ${html.files}, PDF ${mb(pdf.bytes)} MB in ${pdf.files} holding ${mb(pdf.textChars)} MB of text), plus ${mb(textThird.bytes)} MB of text for the memory check`)

    const readMbPerS = await readBaseline(text.dir)
    const results: { label: string; files: { files: number; bytes: number }; result: ImportPhaseResult }[] = []
    for (const [label, files] of [['plain text', text], ['plain text, a third', textThird], ['HTML', html], ['PDF', pdf]] as const) {
      log(`importing ${label}`)
      const result = await forkPhase<PhaseSpec, ImportPhaseResult>(import.meta.url, { kind: 'import', projectDir: join(dir, `project-${results.length}`), paths: [files.dir] })
      results.push({ label, files, result })
    }
    log(`near-duplicate detection on ${preset.nearDupChunks} chunks`)
    const nearDup = await forkPhase<PhaseSpec, NearDupPhaseResult>(import.meta.url, { kind: 'nearDup', projectDir: join(dir, 'project-neardup'), chunks: preset.nearDupChunks })

    console.log(`\nImport into a project database (importCorpus, defaults), ${quick ? 'quick' : 'full'} preset, corpus ${mb(corpusBytes)} MB\n`)
    console.log(
      table([
        ['format', 'files', 'MB', 'seconds', 'MB/s', 'documents', 'chunks', 'near dup.', 'exact dup.', 'peak RSS MB'],
        ...results.map(({ label, files, result }) => [
          label,
          files.files,
          mb(files.bytes),
          result.seconds.toFixed(1),
          (files.bytes / MB / result.seconds).toFixed(1),
          result.documents,
          result.chunks,
          result.nearDuplicates,
          result.exactDuplicates,
          mb(result.peakRssBytes, 0),
        ]),
      ]),
    )
    const full = results[0]!
    const third = results[1]!
    const textMbPerS = full.files.bytes / MB / full.result.seconds
    console.log(`\nPlain text: ${textMbPerS.toFixed(1)} MB/s = ${(textMbPerS / TEXT_TARGET_MB_PER_S).toFixed(2)}× the ${TEXT_TARGET_MB_PER_S} MB/s target, ${(textMbPerS / readMbPerS).toFixed(3)}× reading the files (${readMbPerS.toFixed(0)} MB/s)`)
    console.log(
      `Peak RSS: ${mb(third.result.peakRssBytes, 0)} MB for ${mb(third.files.bytes, 0)} MB of text, ${mb(full.result.peakRssBytes, 0)} MB for ${mb(full.files.bytes, 0)} MB: ` +
        `${(full.result.peakRssBytes / third.result.peakRssBytes).toFixed(2)}× the memory for ${(full.files.bytes / third.files.bytes).toFixed(1)}× the corpus`,
    )
    printNearDup(nearDup)
  })
}

function printNearDup(nearDup: NearDupPhaseResult): void {
  const classifyRate = nearDup.chunks / nearDup.classifySeconds
  const totalRate = nearDup.chunks / (nearDup.classifySeconds + nearDup.writeSeconds)
  console.log(
    `\nNear-duplicate detection, ${nearDup.chunks} chunks of ~1,900 characters (10% lightly edited copies, 2% exact copies):\n` +
      table([
        ['stage', 'chunks/s', 'vs target'],
        ['hash + MinHash + exact lookup + LSH candidates', classifyRate.toFixed(0), `${(classifyRate / NEAR_DUP_TARGET_CHUNKS_PER_S).toFixed(2)}×`],
        ['… plus writing chunk rows and band keys', totalRate.toFixed(0), `${(totalRate / NEAR_DUP_TARGET_CHUNKS_PER_S).toFixed(2)}×`],
      ]) +
      `\nfound ${nearDup.nearFound} near and ${nearDup.exactFound} exact duplicates; peak RSS ${mb(nearDup.peakRssBytes, 0)} MB (the ${mb(nearDup.chunks * 1900 * 2, 0)} MB of generated texts included)`,
  )
}

const runPhaseHere = (spec: PhaseSpec): Promise<unknown> => (spec.kind === 'import' ? runImportPhase(spec) : runNearDupPhase(spec))

await benchEntry(main, runPhaseHere)
