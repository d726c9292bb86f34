import { readFile } from 'node:fs/promises'

/**
 * ORT's profile (SessionOptions.enableProfiling): a Chrome-trace JSON array with one `Session` event per run
 * (`model_run`) and one `Node` event per kernel (`<node>_kernel_time`, `dur` in µs, `args.op_name` and the
 * input/output shapes). This sums kernel time by op type and by node over the runs after the warm-up, and counts MatMul FLOPs from the shapes, so each MatMul-like op type gets its own GFLOP/s.
 */

interface TraceEvent {
  cat: string
  name: string
  ts: number
  dur: number
  args?: {
    op_name?: string
    input_type_shape?: Record<string, number[]>[]
    output_type_shape?: Record<string, number[]>[]
  }
}

export interface OpTypeTime {
  opType: string
  /** Kernel calls per run. */
  nodes: number
  msPerRun: number
  /** MatMul, FusedMatMul, Gemm: FLOPs per run from the kernels' shapes; 0 otherwise. */
  flopsPerRun: number
}

export interface NodeTime {
  node: string
  opType: string
  msPerRun: number
  flopsPerRun: number
  shapes: string
}

export interface ProfileSummary {
  /** Runs summed (the warm-up runs are left out). */
  runs: number
  /** Median `model_run` duration of those runs. */
  runMs: number
  /** Σ kernel time per run: the rest of a run is ORT's own scheduling and allocation. */
  kernelMsPerRun: number
  byOpType: OpTypeTime[]
  /** Slowest first. */
  nodes: NodeTime[]
}

const MATMUL_LIKE = new Set(['MatMul', 'FusedMatMul', 'Gemm', 'MatMulInteger'])

/**
 * `warmUpRuns` are left out: ORT plans its memory pattern during the first run and allocates the planned block
 * (page faults on fresh memory) during the second.
 */
export async function summarizeOrtProfile(path: string, warmUpRuns = 2): Promise<ProfileSummary> {
  const events = JSON.parse(await readFile(path, 'utf8')) as TraceEvent[]
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts)
  const counted = runs.slice(warmUpRuns)
  if (counted.length === 0) throw new Error(`${path}: ${runs.length} runs were profiled, none after the ${warmUpRuns} warm-up runs`)
  const inCountedRun = (e: TraceEvent): boolean => counted.some((run) => e.ts >= run.ts && e.ts <= run.ts + run.dur)
  const byOpType = new Map<string, OpTypeTime>()
  const byNode = new Map<string, NodeTime>()
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !inCountedRun(e)) continue
    const opType = e.args?.op_name ?? '?'
    const node = e.name.slice(0, -'_kernel_time'.length)
    const inputs = (e.args?.input_type_shape ?? []).map((s) => Object.values(s)[0] ?? [])
    const output = Object.values(e.args?.output_type_shape?.[0] ?? {})[0] ?? []
    const flops = MATMUL_LIKE.has(opType) ? matmulLikeFlops(inputs[0] ?? [], inputs[1] ?? [], output) : 0
    const ms = e.dur / 1000 / counted.length
    const type = byOpType.get(opType) ?? { opType, nodes: 0, msPerRun: 0, flopsPerRun: 0 }
    type.msPerRun += ms
    type.flopsPerRun += flops / counted.length
    byOpType.set(opType, type)
    const entry = byNode.get(node) ?? { node, opType, msPerRun: 0, flopsPerRun: 0, shapes: `${inputs.map((s) => `[${s.join(',')}]`).join(' ')} → [${output.join(',')}]` }
    entry.msPerRun += ms
    entry.flopsPerRun += flops / counted.length
    byNode.set(node, entry)
  }
  for (const node of byNode.values()) byOpType.get(node.opType)!.nodes++
  const durations = counted.map((r) => r.dur / 1000).sort((a, b) => a - b)
  const types = [...byOpType.values()].sort((a, b) => b.msPerRun - a.msPerRun)
  return {
    runs: counted.length,
    runMs: durations[Math.floor(durations.length / 2)]!,
    kernelMsPerRun: types.reduce((sum, t) => sum + t.msPerRun, 0),
    byOpType: types,
    nodes: [...byNode.values()].sort((a, b) => b.msPerRun - a.msPerRun),
  }
}

/**
 * 2·k per output element. The profile gives shapes, not transA/transB, so k is the dimension A and B share
 * once A's other matrix axis is the output's rows and B's the output's columns. A pre-packed weight is not
 * listed; then k is A's last axis.
 */
function matmulLikeFlops(a: readonly number[], b: readonly number[], output: readonly number[]): number {
  if (a.length < 2 || output.length < 2) return 0
  const m = output.at(-2)!
  const n = output.at(-1)!
  // A weight ORT pre-packed is released and not listed: then only A is, untransposed (x·W).
  if (b.length === 0) return a.at(-2) === m ? 2 * output.reduce((x, y) => x * y, 1) * a.at(-1)! : 0
  if (b.length < 2) return 0
  const aPairs: [number, number][] = [
    [a.at(-2)!, a.at(-1)!],
    [a.at(-1)!, a.at(-2)!],
  ]
  const bPairs: [number, number][] = [
    [b.at(-1)!, b.at(-2)!],
    [b.at(-2)!, b.at(-1)!],
  ]
  for (const [rows, kA] of aPairs) {
    for (const [cols, kB] of bPairs) if (rows === m && cols === n && kA === kB) return 2 * output.reduce((x, y) => x * y, 1) * kA
  }
  return 0
}
