/**
 * `npm run bench:model [-- --quick]`: write and read throughput of GGUF model files (F16 and Q4_K_M) on a
 * Llama-shaped synthetic model of ≥ 500 MB (F16), with peak RSS next to the file size, against named baselines:
 *
 * - I/O ceiling: node:fs write/read streams moving the same byte count (the write baseline fsyncs, as
 *   FileByteSink does on close);
 * - file size: ggml's bits per weight (block sizes from ggml-common.h) for the per-tensor types that
 *   `chooseTensorType` picks, which is how llama.cpp prints a model's size (file bytes × 8 / weights = BPW).
 *
 * Each phase runs in its own child process so that its `maxRSS` (the kernel's high-water mark) and its sampled
 * RSS belong to that phase alone. Figures are printed, never asserted: speed targets live here, not in tests.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { once } from 'node:events'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import { FileByteSink, FileByteSource } from '../../src-main/core/io/fileBytes.js'
import { rowChunks } from '../../src-main/core/model/convert/ModelSource.js'
import { openGgufModelSource } from '../../src-main/core/model/convert/ggufModelSource.js'
import { writeModelGguf } from '../../src-main/core/model/convert/writeModelGguf.js'
import type { ModelHyperparameters } from '../../src-main/core/model/hyperparameters.js'
import type { GgufFileType } from '../../src-main/core/model/quantize/quantMixture.js'
import { QuantizePool } from '../../src-main/core/modelFiles/QuantizePool.js'
import { sourceQuantizeWorker } from '../../src-main/devbridge/sourceJobWorker.js'
import { benchEntry, forkPhase, LLAMA_PRESETS, mb, measurePhase, rate, ratio, rssTimeline, table, withBenchRun } from './benchSupport.js'
import { expectedGgufSize, GGML_BITS_PER_WEIGHT } from './expectedGgufSize.js'
import type { RssReport } from './RssSampler.js'
import { syntheticModelSource } from './syntheticModel.js'
import { syntheticTokenizerMetadata } from './syntheticTokenizerMetadata.js'

/** Values per readRows call when reading a model back: the writer's default chunk (16 MiB of float32). */
const READ_CHUNK_VALUES = 4 * 1024 * 1024
/** Block size of the plain-byte reads and of the fs baselines: FileByteSink's default block. */
const IO_BLOCK_BYTES = 4 * 1024 * 1024
const FILE_TYPES: GgufFileType[] = ['F16', 'Q4_K_M']

type PhaseSpec =
  | { kind: 'idle' }
  | { kind: 'readSource'; hyperparameters: ModelHyperparameters }
  | { kind: 'writeGguf'; path: string; fileType: GgufFileType; hyperparameters: ModelHyperparameters; workers?: number }
  | { kind: 'readGguf'; path: string }
  | { kind: 'readBytes'; path: string }
  | { kind: 'fsRead'; path: string }
  | { kind: 'fsWrite'; path: string; byteCount: number }

interface PhaseResult {
  seconds: number
  cpuSeconds: number
  /** File bytes written or read. */
  bytes: number
  rss: RssReport
  /** writeGguf: what the writer laid out. */
  layout?: { tensors: { name: string; type: string; byteLength: number }[]; dataOffset: number; totalBytes: number }
  /** readGguf, readSource: float32 values produced. */
  values?: number
  /**
   * readGguf: ArrayBuffer bytes freed when the ModelSource is dropped after every tensor was read (both sides
   * after a forced gc): what the open model holds on to between reads.
   */
  retainedBytes?: number
}

// ------------------------------------------------------------------------------------------- child: one phase

/** What a phase keeps alive until its figures are taken, to measure what it holds (see `retainedBytes`). */
let keptAlive: unknown = null

async function runPhaseHere(spec: PhaseSpec): Promise<PhaseResult> {
  const result: PhaseResult = await measurePhase(() => phaseBody(spec))
  if (keptAlive !== null) {
    // After the figures above, so the forced collections change none of them. Backing stores of dead
    // ArrayBuffers are released by a background sweep, so let the event loop turn between collections.
    const gc = (globalThis as { gc?: () => void }).gc!
    const settle = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) {
        gc()
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return process.memoryUsage().arrayBuffers
    }
    const held = await settle()
    keptAlive = null
    const after = await settle()
    result.retainedBytes = held - after
  }
  return result
}

async function phaseBody(spec: PhaseSpec): Promise<Omit<PhaseResult, 'seconds' | 'cpuSeconds' | 'rss'>> {
  switch (spec.kind) {
    case 'idle':
      await new Promise((resolve) => setTimeout(resolve, 500))
      return { bytes: 0 }
    case 'readSource': {
      // The synthetic source alone, read in the writer's chunks: the part of the write figures that is not ours.
      const source = syntheticModelSource(spec.hyperparameters, new Map())
      let values = 0
      for (const tensor of source.tensors) {
        for await (const rows of rowChunks(tensor, READ_CHUNK_VALUES)) values += rows.length
      }
      return { bytes: 0, values }
    }
    case 'writeGguf': {
      const h = spec.hyperparameters
      const source = syntheticModelSource(h, syntheticTokenizerMetadata(h.vocabSize))
      const sink = await FileByteSink.create(spec.path)
      let nextTenth = 1
      // As `lectern model convert --threads N` does it (core/modelFiles/convertModel.ts).
      const pool = spec.workers ? new QuantizePool({ worker: sourceQuantizeWorker(), size: spec.workers }) : null
      const layout = await writeModelGguf(source, sink, {
        fileType: spec.fileType,
        ...(pool ? { quantizeChunk: (type, values) => pool.quantize(type, values), chunksInFlight: 2 * pool.size, chunkValues: 256 * 1024 } : {}),
        onProgress: (written, total) => {
          if (written < (nextTenth * total) / 10) return
          while (written >= (nextTenth * total) / 10) nextTenth++
          process.stderr.write(` ${Math.round((100 * written) / total)}%`)
        },
      })
      await sink.commit()
      await pool?.dispose()
      process.stderr.write('\n')
      return {
        bytes: (await stat(spec.path)).size,
        layout: { tensors: layout.tensors.map((t) => ({ name: t.name, type: t.type, byteLength: t.byteLength })), dataOffset: layout.dataOffset, totalBytes: layout.totalBytes },
      }
    }
    case 'readGguf': {
      const file = await FileByteSource.open(spec.path)
      try {
        const model = await openGgufModelSource(file)
        let values = 0
        for (const tensor of model.tensors) {
          for await (const rows of rowChunks(tensor, READ_CHUNK_VALUES)) values += rows.length
        }
        keptAlive = model
        return { bytes: file.sizeBytes, values }
      } finally {
        await file.close()
      }
    }
    case 'readBytes': {
      const file = await FileByteSource.open(spec.path)
      try {
        for (let offset = 0; offset < file.sizeBytes; offset += IO_BLOCK_BYTES) await file.read(offset, Math.min(IO_BLOCK_BYTES, file.sizeBytes - offset))
        return { bytes: file.sizeBytes }
      } finally {
        await file.close()
      }
    }
    case 'fsRead': {
      let bytes = 0
      for await (const chunk of createReadStream(spec.path, { highWaterMark: IO_BLOCK_BYTES })) bytes += (chunk as Buffer).length
      return { bytes }
    }
    case 'fsWrite': {
      const block = Buffer.alloc(IO_BLOCK_BYTES, 0x5a)
      const stream = createWriteStream(spec.path, { highWaterMark: IO_BLOCK_BYTES, flush: true })
      for (let left = spec.byteCount; left > 0; left -= block.length) {
        if (!stream.write(left >= block.length ? block : block.subarray(0, left))) await once(stream, 'drain')
      }
      stream.end()
      await finished(stream)
      return { bytes: spec.byteCount }
    }
  }
}

// ------------------------------------------------------------------------------------------ parent: the run

// --expose-gc only serves `retainedBytes`, after the timed part.
const runPhase = (spec: PhaseSpec): Promise<PhaseResult> => forkPhase(import.meta.url, spec, { nodeFlags: ['--expose-gc'] })

interface TypeRun {
  fileType: GgufFileType
  write: PhaseResult
  readGguf: PhaseResult
  readBytes: PhaseResult
  fsRead: PhaseResult
  fsWrite: PhaseResult
  /** The same write quantizing on a worker pool of one thread per core (quantized types only). */
  writePooled: PhaseResult | null
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const preset = quick ? LLAMA_PRESETS.quick : LLAMA_PRESETS.full
  const h = preset.hyperparameters
  await withBenchRun('lectern-bench-', async ({ dir, log, elapsedSeconds }) => {
    log(`idle process`)
    const idle = await runPhase({ kind: 'idle' })
    log(`synthetic source alone`)
    const source = await runPhase({ kind: 'readSource', hyperparameters: h })
    const runs: TypeRun[] = []
    for (const fileType of FILE_TYPES) {
      const path = join(dir, `synthetic-${fileType}.gguf`)
      log(`${fileType}: write GGUF`)
      const write = await runPhase({ kind: 'writeGguf', path, fileType, hyperparameters: h })
      let writePooled: PhaseResult | null = null
      if (fileType !== 'F16') {
        log(`${fileType}: write GGUF quantizing on ${availableParallelism()} worker threads`)
        const pooledPath = join(dir, `synthetic-${fileType}-pooled.gguf`)
        writePooled = await runPhase({ kind: 'writeGguf', path: pooledPath, fileType, hyperparameters: h, workers: availableParallelism() })
        await rm(pooledPath, { force: true })
      }
      log(`${fileType}: read GGUF + dequantize`)
      const readGguf = await runPhase({ kind: 'readGguf', path })
      log(`${fileType}: read raw bytes (FileByteSource)`)
      const readBytes = await runPhase({ kind: 'readBytes', path })
      log(`${fileType}: baseline fs read stream`)
      const fsRead = await runPhase({ kind: 'fsRead', path })
      log(`${fileType}: baseline fs write stream`)
      const copyPath = join(dir, `fs-write-${fileType}.bin`)
      const fsWrite = await runPhase({ kind: 'fsWrite', path: copyPath, byteCount: write.bytes })
      await rm(copyPath, { force: true })
      await rm(path, { force: true })
      runs.push({ fileType, write, readGguf, readBytes, fsRead, fsWrite, writePooled })
    }
    report({ quick, h, minF16Bytes: preset.minF16Bytes, dir, idle, source, runs, totalSeconds: elapsedSeconds() })
  })
}

// ------------------------------------------------------------------------------------------------- report


function report(r: { quick: boolean; h: ModelHyperparameters; minF16Bytes: number; dir: string; idle: PhaseResult; source: PhaseResult; runs: TypeRun[]; totalSeconds: number }): void {
  const { h } = r
  const out: string[] = []
  const f16 = expectedGgufSize(h, 'F16')
  const f32Bytes = f16.weightCount * 4
  const idleRss = r.idle.rss.maxRssBytes
  out.push(`Lectern model-file benchmark (${r.quick ? 'quick' : 'full'}): npm run bench:model${r.quick ? ' -- --quick' : ''}`)
  out.push(
    `model   llama, width ${h.embeddingLength}, FFN ${h.feedForwardLength}, ${h.blockCount} blocks, ${h.headCount} heads / ${h.headCountKv} KV, vocab ${h.vocabSize}: ` +
      `${(f16.weightCount / 1e6).toFixed(1)} M weights, ${mb(f32Bytes)} MB as f32 (synthetic rows generated on demand, never held whole)`,
  )
  const f16File = r.runs.find((run) => run.fileType === 'F16')?.write.bytes ?? 0
  out.push(`size    F16 file ${mb(f16File)} MB${r.minF16Bytes ? (f16File >= r.minF16Bytes ? ` (≥ ${mb(r.minF16Bytes, 0)} MB as required)` : ` — BELOW the required ${mb(r.minF16Bytes, 0)} MB`) : ' (quick run: not the ≥ 500 MB benchmark)'}; both types are written from this same model`)
  out.push(`files   ${r.dir} (removed afterwards); MB = 10^6 bytes`)
  out.push(`note    reads run right after the write, so the file is in the page cache for ours and the baseline alike; writes end with fsync in both`)
  out.push(`idle    a child process with node + tsx + modules + RSS sampler doing nothing: maxRSS ${mb(idleRss, 0)} MB`)
  out.push(`time    whole run ${r.totalSeconds.toFixed(1)} s on ${availableParallelism()} cores (each phase in its own process; writes and reads are single-threaded)`)
  out.push('')

  out.push('Throughput (ours vs the fs-stream baseline moving the same bytes)')
  const rows: (string | number)[][] = [['type', 'phase', 'MB', 's', 'MB/s', 'baseline', 'base MB/s', 'ours/base', 'CPU/wall']]
  rows.push(['-', 'synthetic source alone: f32 out', mb(f32Bytes), r.source.seconds.toFixed(2), rate(f32Bytes, r.source.seconds), '', '', '', (r.source.cpuSeconds / r.source.seconds).toFixed(2)])
  for (const run of r.runs) {
    const { write, readGguf, readBytes, fsRead, fsWrite } = run
    const cpu = (p: PhaseResult): string => (p.cpuSeconds / p.seconds).toFixed(2)
    rows.push([run.fileType, 'write GGUF: file bytes out', mb(write.bytes), write.seconds.toFixed(2), rate(write.bytes, write.seconds), 'fs write stream', rate(fsWrite.bytes, fsWrite.seconds), ratio(write.bytes / write.seconds, fsWrite.bytes / fsWrite.seconds), cpu(write)])
    rows.push(['', 'write GGUF: f32 weights in', mb(f32Bytes), '', rate(f32Bytes, write.seconds), '', '', '', ''])
    if (run.writePooled) {
      const pooled = run.writePooled
      rows.push(['', `… on ${availableParallelism()} workers: f32 in`, mb(f32Bytes), pooled.seconds.toFixed(2), rate(f32Bytes, pooled.seconds), 'one thread', rate(f32Bytes, write.seconds), ratio(write.seconds, pooled.seconds), cpu(pooled)])
    }
    rows.push(['', 'read GGUF + dequantize (file)', mb(readGguf.bytes), readGguf.seconds.toFixed(2), rate(readGguf.bytes, readGguf.seconds), 'fs read stream', rate(fsRead.bytes, fsRead.seconds), ratio(readGguf.bytes / readGguf.seconds, fsRead.bytes / fsRead.seconds), cpu(readGguf)])
    rows.push(['', 'read GGUF + dequantize: f32 out', mb((readGguf.values ?? 0) * 4), '', rate((readGguf.values ?? 0) * 4, readGguf.seconds), '', '', '', ''])
    rows.push(['', 'read raw bytes (FileByteSource)', mb(readBytes.bytes), readBytes.seconds.toFixed(2), rate(readBytes.bytes, readBytes.seconds), 'fs read stream', rate(fsRead.bytes, fsRead.seconds), ratio(readBytes.bytes / readBytes.seconds, fsRead.bytes / fsRead.seconds), cpu(readBytes)])
  }
  out.push(table(rows))
  out.push(`  write figures include the synthetic source's ${r.source.seconds.toFixed(2)} s (first row); CPU/wall near 1 = bound by our single-threaded code, not by the disk`)
  out.push('')

  out.push(`Peak memory per phase (RSS; "above idle" subtracts the idle process's ${mb(idleRss, 0)} MB)`)
  const memRows: (string | number)[][] = [['type', 'phase', 'file MB', 'peak RSS MB', 'maxRSS MB', 'above idle MB', 'maxRSS/file', 'above idle/file', 'samples']]
  const phases = (run: TypeRun): [string, PhaseResult][] => [
    ['write GGUF', run.write],
    ...(run.writePooled ? [[`write GGUF, ${availableParallelism()} workers`, run.writePooled] as [string, PhaseResult]] : []),
    ['read GGUF + dequantize', run.readGguf],
    ['read raw bytes', run.readBytes],
    ['baseline fs read stream', run.fsRead],
    ['baseline fs write stream', run.fsWrite],
  ]
  for (const run of r.runs) {
    const fileBytes = run.write.bytes
    for (const [i, [name, p]] of phases(run).entries()) {
      memRows.push([i === 0 ? run.fileType : '', name, mb(fileBytes), mb(p.rss.peakRssBytes, 0), mb(p.rss.maxRssBytes, 0), mb(p.rss.maxRssBytes - idleRss, 0), ratio(p.rss.maxRssBytes, fileBytes), ratio(p.rss.maxRssBytes - idleRss, fileBytes), p.rss.samples.length])
    }
  }
  out.push(table(memRows))
  out.push('')
  out.push('RSS over each phase (MB; the largest sample in each tenth of the phase: flat = streaming, a staircase = something accumulates)')
  const timelineRows: (string | number)[][] = []
  for (const run of r.runs) for (const [name, p] of phases(run).slice(0, 3)) timelineRows.push([`${run.fileType} ${name}`, rssTimeline(p.rss)])
  out.push(table(timelineRows, () => false))
  out.push('')
  // q/k of llama are un-permuted a whole tensor at a time on read; this is what such tensors weigh as float32.
  const qkF32Bytes = h.blockCount * (h.headCount + h.headCountKv) * h.headDim * h.embeddingLength * 4
  out.push(`Held by the open ModelSource after reading every tensor once (ArrayBuffers freed by dropping it, after gc); all q/k projections as f32 weigh ${mb(qkF32Bytes)} MB`)
  for (const run of r.runs) out.push(`  ${run.fileType.padEnd(7)} ${mb(run.readGguf.retainedBytes ?? 0)} MB (${ratio(run.readGguf.retainedBytes ?? 0, qkF32Bytes)} the q/k f32 size, ${ratio(run.readGguf.retainedBytes ?? 0, run.write.bytes)} the file)`)
  out.push('')

  out.push("File size vs ggml's bits per weight (block sizes from ggml-common.h; types from chooseTensorType, llama.cpp's mixture)")
  const sizeRows: (string | number)[][] = [['type', 'mixture (share of weights)', 'expected bpw', 'expected MB', 'header MB', 'actual MB', 'actual bpw', 'actual/expected', 'per-tensor check']]
  for (const run of r.runs) {
    const expected = expectedGgufSize(h, run.fileType)
    const layout = run.write.layout!
    const headerBytes = layout.dataOffset
    const expectedFile = expected.dataBytes + headerBytes
    const mismatches = layout.tensors.filter((t) => {
      const type = expected.typeOf.get(t.name)
      const bpw = type && GGML_BITS_PER_WEIGHT[type]
      const count = expected.countOf.get(t.name)
      return t.type !== type || !bpw || count === undefined || t.byteLength !== (count * bpw) / 8
    })
    const mixture = expected.byType.map((e) => `${e.type} ${((100 * e.weightCount) / expected.weightCount).toFixed(2)}% (${e.tensorCount})`).join(', ')
    sizeRows.push([
      run.fileType,
      mixture,
      ((8 * expected.dataBytes) / expected.weightCount).toFixed(4),
      mb(expectedFile, 2),
      mb(headerBytes, 2),
      mb(run.write.bytes, 2),
      ((8 * run.write.bytes) / expected.weightCount).toFixed(4),
      ratio(run.write.bytes, expectedFile, 4),
      mismatches.length === 0 ? `${layout.tensors.length}/${layout.tensors.length} types and sizes as expected` : `MISMATCH: ${mismatches.map((t) => `${t.name} ${t.type} ${t.byteLength} B`).join('; ')}`,
    ])
  }
  out.push(table(sizeRows, (i) => i > 1 && i < 8))
  out.push('  expected MB = ggml data bytes + our header (metadata + tensor infos); actual bpw = file bytes × 8 / weights, as llama.cpp prints BPW')
  process.stdout.write(out.join('\n') + '\n')
}

await benchEntry(main, runPhaseHere)
