/**
 * `npm run bench:export [-- --quick] [-- --split]`: "export merged" throughput, i.e. `convertModel` with an adapter (base W0
 * + ΔW per weight, streamed) writing a GGUF file, for F16 and Q4_K_M, on a Llama-shaped synthetic F16 base model
 * of ≥ 500 MB and a MoRA r64 type 6 adapter on all seven projections, with peak RSS, against named baselines:
 *
 * - plain copy: `fs.copyFile` of the base file, then fsync (as FileByteSink does on commit): the I/O ceiling;
 * - unmerged: the same conversion without the adapter, so the merge's cost is the ratio merged / unmerged;
 * - read only (`--split`, about 2 more minutes): every tensor of the opened base read as float32, with and
 *   without the merge, and nothing written, which splits the merge's cost from the writer's.
 *
 * Q4_K_M quantizes on one worker thread per core, as `lectern model convert --threads N` does. The inputs are
 * built once into a cache folder under the OS temp folder (`exportInputs`) and reused; the outputs are written
 * into the run's scratch folder and removed. Each phase runs in its own child process so that its `maxRSS`
 * and sampled RSS belong to that phase alone; the CPU time other processes took meanwhile is printed next to it
 * (a busy neighbour on a 2-core VM slows every phase). Figures are printed, never asserted.
 */
import { copyFile, open, rm, stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { rowChunks } from '../../src-main/core/model/convert/ModelSource.js'
import type { ModelHyperparameters } from '../../src-main/core/model/hyperparameters.js'
import type { GgufFileType } from '../../src-main/core/model/quantize/quantMixture.js'
import { convertModel } from '../../src-main/core/modelFiles/convertModel.js'
import { openModel } from '../../src-main/core/modelFiles/openModel.js'
import { readAdapterFile } from '../../src-main/core/train/adapterFile.js'
import { planAdapters, type AdapterConfig } from '../../src-main/core/train/adapters.js'
import { mergedModelSource } from '../../src-main/core/train/mergedModelSource.js'
import { sourceQuantizeWorker } from '../../src-main/devbridge/sourceJobWorker.js'
import { ADAPTER_TARGET_NAMES } from '../../src-main/shared/types/train.js'
import { benchEntry, forkPhaseWithOthers, LLAMA_PRESETS, mb, measurePhase, rate, ratio, rssTimeline, table, withBenchRun } from './benchSupport.js'
import { exportInputs, type ExportInputs } from './export/exportInputs.js'
import { expectedGgufSize } from './expectedGgufSize.js'
import type { RssReport } from './RssSampler.js'

/** Values per readRows call in the read-only phases: the GGUF writer's default chunk (16 MiB of float32). */
const READ_CHUNK_VALUES = 4 * 1024 * 1024
const FILE_TYPES: GgufFileType[] = ['F16', 'Q4_K_M']
const ADAPTER: Omit<AdapterConfig, 'dropout'> = { method: 'mora', rank: 64, moraType: 6, targets: [...ADAPTER_TARGET_NAMES], loraAlpha: 128, rsLora: false }

type PhaseSpec =
  | { kind: 'idle' }
  | { kind: 'inputs'; hyperparameters: ModelHyperparameters }
  | { kind: 'copy'; from: string; to: string }
  | { kind: 'read'; basePath: string; adapterPath: string | null }
  | { kind: 'convert'; basePath: string; outPath: string; fileType: GgufFileType; adapterPath: string | null; threads: number }

interface PhaseResult {
  seconds: number
  cpuSeconds: number
  /** copy, convert: bytes of the file written. */
  bytes: number
  rss: RssReport
  inputs?: ExportInputs
  /** read: float32 values produced. */
  values?: number
  /**
   * Set by the parent: CPU that other processes used while the child lived, in cores (machine busy time from
   * `os.cpus()` less the child's own CPU time; the child's start-up counts as others).
   */
  othersCores?: number
}

// ------------------------------------------------------------------------------------------- child: one phase

const runPhaseHere = (spec: PhaseSpec): Promise<PhaseResult> => measurePhase(() => phaseBody(spec))

/** Writes ` 10% 20% …` to stderr as a phase goes. */
function tenths(): (done: number, total: number) => void {
  let next = 1
  return (done, total) => {
    if (done < (next * total) / 10) return
    while (done >= (next * total) / 10) next++
    process.stderr.write(` ${Math.round((100 * done) / total)}%`)
  }
}

async function phaseBody(spec: PhaseSpec): Promise<Omit<PhaseResult, 'seconds' | 'cpuSeconds' | 'rss'>> {
  switch (spec.kind) {
    case 'idle':
      await new Promise((resolve) => setTimeout(resolve, 500))
      return { bytes: 0 }
    case 'inputs': {
      const inputs = await exportInputs(spec.hyperparameters, ADAPTER, (line) => process.stderr.write(`  ${line}\n`))
      return { bytes: 0, inputs }
    }
    case 'copy': {
      await copyFile(spec.from, spec.to)
      const file = await open(spec.to, 'r+')
      await file.sync()
      await file.close()
      return { bytes: (await stat(spec.to)).size }
    }
    case 'read': {
      const opened = await openModel(spec.basePath)
      try {
        let source = opened.source
        if (spec.adapterPath) {
          const { config, values } = await readAdapterFile(spec.adapterPath)
          source = mergedModelSource(source, config, values)
        }
        const progress = tenths()
        const total = source.tensors.length
        let values = 0
        for (const [i, tensor] of source.tensors.entries()) {
          for await (const rows of rowChunks(tensor, READ_CHUNK_VALUES)) values += rows.length
          progress(i + 1, total)
        }
        process.stderr.write('\n')
        return { bytes: 0, values }
      } finally {
        await opened.close()
      }
    }
    case 'convert': {
      await convertModel(
        spec.basePath,
        spec.outPath,
        { format: 'gguf', type: spec.fileType },
        {
          threads: spec.threads,
          quantizeWorker: sourceQuantizeWorker(),
          onProgress: tenths(),
          ...(spec.adapterPath ? { adapter: spec.adapterPath } : {}),
        },
      )
      process.stderr.write('\n')
      return { bytes: (await stat(spec.outPath)).size }
    }
  }
}

// ------------------------------------------------------------------------------------------ parent: the run

const runPhase = (spec: PhaseSpec): Promise<PhaseResult> => forkPhaseWithOthers<PhaseSpec, PhaseResult>(import.meta.url, spec)

interface TypeRun {
  fileType: GgufFileType
  unmerged: PhaseResult
  merged: PhaseResult
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const split = process.argv.includes('--split')
  const preset = quick ? LLAMA_PRESETS.quick : LLAMA_PRESETS.full
  const h = preset.hyperparameters
  const threads = availableParallelism()
  await withBenchRun('lectern-bench-export-', async ({ dir, log, elapsedSeconds }) => {
    log('base model and adapter (cached)')
    const setup = await runPhase({ kind: 'inputs', hyperparameters: h })
    const inputs = setup.inputs!
    const baseBytes = (await stat(inputs.basePath)).size
    const adapterBytes = (await stat(inputs.adapterPath)).size
    log('idle process')
    const idle = await runPhase({ kind: 'idle' })
    log('baseline: fs.copyFile of the base + fsync')
    const copyPath = join(dir, 'copy.gguf')
    const copy = await runPhase({ kind: 'copy', from: inputs.basePath, to: copyPath })
    await rm(copyPath, { force: true })
    let read: Report['read'] = null
    if (split) {
      log('read only: base tensors as f32')
      const unmerged = await runPhase({ kind: 'read', basePath: inputs.basePath, adapterPath: null })
      log('read only: base + ΔW as f32')
      const merged = await runPhase({ kind: 'read', basePath: inputs.basePath, adapterPath: inputs.adapterPath })
      read = { unmerged, merged }
    }
    const runs: TypeRun[] = []
    for (const fileType of FILE_TYPES) {
      const convert = async (adapterPath: string | null): Promise<PhaseResult> => {
        const outPath = join(dir, `${fileType}-${adapterPath ? 'merged' : 'unmerged'}.gguf`)
        log(`${fileType}: convert ${adapterPath ? 'with the adapter merged' : 'without adapter'}${fileType === 'F16' ? '' : ` (${threads} quantize threads)`}`)
        const result = await runPhase({ kind: 'convert', basePath: inputs.basePath, outPath, fileType, adapterPath, threads })
        await rm(outPath, { force: true })
        return result
      }
      const unmerged = await convert(null)
      const merged = await convert(inputs.adapterPath)
      runs.push({ fileType, unmerged, merged })
    }
    report({ quick, h, minF16Bytes: preset.minF16Bytes, dir, threads, inputs, setupSeconds: setup.seconds, baseBytes, adapterBytes, idle, copy, read, runs, totalSeconds: elapsedSeconds() })
  })
}

// ------------------------------------------------------------------------------------------------- report

const cpuOf = (p: PhaseResult): string => (p.cpuSeconds / p.seconds).toFixed(2)
const othersOf = (p: PhaseResult): string => (p.othersCores ?? 0).toFixed(2)

interface Report {
  quick: boolean
  h: ModelHyperparameters
  minF16Bytes: number
  dir: string
  threads: number
  inputs: ExportInputs
  setupSeconds: number
  baseBytes: number
  adapterBytes: number
  idle: PhaseResult
  copy: PhaseResult
  /** `--split` only. */
  read: { unmerged: PhaseResult; merged: PhaseResult } | null
  runs: TypeRun[]
  totalSeconds: number
}

function report(r: Report): void {
  const { h } = r
  const out: string[] = []
  const weights = expectedGgufSize(h, 'F16').weightCount
  const f32Bytes = weights * 4
  const plan = planAdapters(h, { ...ADAPTER, dropout: 0 })
  const mergedWeights = plan.sites.reduce((n, s) => n + s.inFeatures * s.outFeatures, 0)
  const squareSizes = [...new Set(plan.sites.map((s) => `${s.target} ${s.innerSize}`))].join(', ')
  const idleRss = r.idle.rss.maxRssBytes
  out.push(`Lectern export-merged benchmark (${r.quick ? 'quick' : 'full'}): npm run bench:export${r.quick || r.read ? ' --' : ''}${r.quick ? ' --quick' : ''}${r.read ? ' --split' : ''}`)
  out.push(
    `model   llama, width ${h.embeddingLength}, FFN ${h.feedForwardLength}, ${h.blockCount} blocks, ${h.headCount} heads / ${h.headCountKv} KV, vocab ${h.vocabSize}: ` +
      `${(weights / 1e6).toFixed(1)} M weights, ${mb(f32Bytes)} MB as f32`,
  )
  out.push(
    `base    ${r.inputs.basePath}: F16 GGUF, ${mb(r.baseBytes)} MB` +
      (r.minF16Bytes ? (r.baseBytes >= r.minF16Bytes ? ` (≥ ${mb(r.minF16Bytes, 0)} MB as required)` : ` — BELOW the required ${mb(r.minF16Bytes, 0)} MB`) : ' (quick run: not the ≥ 500 MB benchmark)'),
  )
  out.push(
    `adapter MoRA type ${ADAPTER.moraType} r${ADAPTER.rank} on ${ADAPTER.targets.join('/')}: ${plan.sites.length} sites, ${(plan.trainableParameters / 1e6).toFixed(1)} M random non-zero values, ` +
      `${mb(r.adapterBytes)} MB file; r̂ ${squareSizes}; ΔW covers ${(mergedWeights / 1e6).toFixed(1)} M weights (${((100 * mergedWeights) / weights).toFixed(1)}% of the model)`,
  )
  out.push(`inputs  ${r.inputs.built ? `built into the cache in ${r.setupSeconds.toFixed(1)} s` : 'reused from the cache'} (kept); outputs in ${r.dir} (removed); MB = 10^6 bytes`)
  out.push(`note    the base file is in the page cache for every phase alike (it was just written or read); every write ends with fsync; each convert includes its reopen check`)
  out.push(`idle    a child process with node + tsx + modules + RSS sampler doing nothing: maxRSS ${mb(idleRss, 0)} MB`)
  out.push(`time    whole run ${r.totalSeconds.toFixed(1)} s on ${availableParallelism()} cores (each phase in its own process; Q4_K_M quantizes on ${r.threads} worker threads, F16 on the main thread)`)
  const timed = [r.copy, ...r.runs.flatMap((run) => [run.unmerged, run.merged]), ...(r.read ? [r.read.unmerged, r.read.merged] : [])]
  const disturbed = timed.filter((p) => (p.othersCores ?? 0) > 0.15)
  if (disturbed.length > 0) {
    const worst = Math.max(...disturbed.map((p) => p.othersCores ?? 0))
    out.push(`WARNING other processes kept up to ${worst.toFixed(2)} of ${availableParallelism()} cores busy during ${disturbed.length} timed phase(s): those figures are slower than this code on a quiet machine`)
  }
  out.push('')

  out.push(`Merge + write (source MB/s = the ${mb(r.baseBytes)} MB base file per second; out MB/s = bytes written per second)`)
  const rows: (string | number)[][] = [['type', 'adapter', 's', 'source MB/s', 'out MB', 'out MB/s', 'merged/unmerged s', 'out MB/s vs copy', 'CPU/wall', 'others', 'peak RSS MB', 'maxRSS MB', 'RSS over idle MB']]
  const rssCells = (p: PhaseResult): string[] => [mb(p.rss.peakRssBytes, 0), mb(p.rss.maxRssBytes, 0), mb(p.rss.maxRssBytes - idleRss, 0)]
  rows.push(['-', 'fs.copyFile + fsync', r.copy.seconds.toFixed(2), rate(r.baseBytes, r.copy.seconds), mb(r.copy.bytes), rate(r.copy.bytes, r.copy.seconds), '', '1.00×', cpuOf(r.copy), othersOf(r.copy), ...rssCells(r.copy)])
  for (const run of r.runs) {
    for (const [label, p] of [['none', run.unmerged], ['MoRA merged', run.merged]] as const) {
      rows.push([
        run.fileType,
        label,
        p.seconds.toFixed(2),
        rate(r.baseBytes, p.seconds),
        mb(p.bytes),
        rate(p.bytes, p.seconds),
        p === run.merged ? ratio(run.merged.seconds, run.unmerged.seconds) : '',
        ratio(p.bytes / p.seconds, r.copy.bytes / r.copy.seconds, 3),
        cpuOf(p),
        othersOf(p),
        ...rssCells(p),
      ])
    }
  }
  out.push(table(rows))
  out.push('  CPU/wall: cores this phase kept busy (its quantize workers included); others: cores other processes kept busy meanwhile (0 on a quiet machine)')
  for (const run of r.runs) {
    const extra = run.merged.seconds - run.unmerged.seconds
    out.push(`  ${run.fileType}: merging adds ${extra.toFixed(2)} s to the export (${((100 * extra) / run.merged.seconds).toFixed(0)}% of it), ${rate(mergedWeights * 4, extra)} MB/s of adapted f32 weights`)
  }
  out.push('')
  if (r.read) reportRead(out, r, r.read, f32Bytes, mergedWeights)

  out.push('RSS over time (max per tenth of each phase, MB)')
  const timelineRows: string[][] = []
  if (r.read) timelineRows.push(['read merged', rssTimeline(r.read.merged.rss)])
  for (const run of r.runs) {
    timelineRows.push([`${run.fileType} unmerged`, rssTimeline(run.unmerged.rss)])
    timelineRows.push([`${run.fileType} merged`, rssTimeline(run.merged.rss)])
  }
  out.push(table(timelineRows, () => false))
  process.stdout.write(out.join('\n') + '\n')
}

function reportRead(out: string[], r: Report, read: NonNullable<Report['read']>, f32Bytes: number, mergedWeights: number): void {
  const idleRss = r.idle.rss.maxRssBytes
  const rssCells = (p: PhaseResult): string[] => [mb(p.rss.peakRssBytes, 0), mb(p.rss.maxRssBytes, 0), mb(p.rss.maxRssBytes - idleRss, 0)]
  out.push(`Read only, nothing written: every tensor of the opened base as f32 (${mb(f32Bytes)} MB of values)`)
  const readRows: (string | number)[][] = [['phase', 'adapter', 's', 'source MB/s', 'f32 MB/s', 'merged/unmerged s', 'CPU/wall', 'others', 'peak RSS MB', 'maxRSS MB', 'RSS over idle MB']]
  for (const [label, p] of [['none', read.unmerged], ['MoRA merged', read.merged]] as const) {
    readRows.push(['read', label, p.seconds.toFixed(2), rate(r.baseBytes, p.seconds), rate(f32Bytes, p.seconds), p === read.merged ? ratio(read.merged.seconds, read.unmerged.seconds) : '', cpuOf(p), othersOf(p), ...rssCells(p)])
  }
  out.push(table(readRows))
  const mergeSeconds = read.merged.seconds - read.unmerged.seconds
  out.push(`  the merge alone (ΔW per weight + W0 + ΔW): ${mergeSeconds.toFixed(2)} s, ${rate(mergedWeights * 4, mergeSeconds)} MB/s of adapted f32 weights`)
  out.push('')
}

await benchEntry(main, runPhaseHere)
