import { LecternError } from '../../shared/errors.js'
import { ADAPTER_TARGET_NAMES, type AdapterTargetName } from '../../shared/types/train.js'
import type { Graph } from '../autodiff/Graph.js'
import type { TensorRef } from '../autodiff/types.js'
import type { ModelHyperparameters } from '../model/hyperparameters.js'
import type { Projection } from './decoder.js'

/**
 * MoRA (specs/mora.md, types 1 and 6) and LoRA adapters on the projections of the Llama-family decoder, as
 * graph ops through the decoder's `Projection` hook. Dimension letters: k (in_features), d (out_features),
 * r (LoRA rank, MoRA's budget), R (MoRA's square size r̂), N (tokens: all leading axes of x flattened),
 * L = k + pad (the wrapped input), nb = L / R (chunks).
 */

/** The projections an adapter can wrap, in the order a layer applies them (named in the shared contract). */
export const ADAPTER_TARGETS = ADAPTER_TARGET_NAMES
export type AdapterTarget = AdapterTargetName

/** Each target's weight inside `model.layers.<l>.` (Hugging Face names). */
export const ADAPTER_TARGET_WEIGHTS: Readonly<Record<AdapterTarget, string>> = {
  q: 'self_attn.q_proj.weight',
  k: 'self_attn.k_proj.weight',
  v: 'self_attn.v_proj.weight',
  o: 'self_attn.o_proj.weight',
  gate: 'mlp.gate_proj.weight',
  up: 'mlp.up_proj.weight',
  down: 'mlp.down_proj.weight',
}

export interface AdapterConfig {
  method: 'mora' | 'lora'
  /** LoRA's rank; for MoRA the parameter budget r, which sets the square size r̂ (specs/mora.md §1). */
  rank: number
  /** MoRA's compression: 1 = sharing (Eq. 6), 6 = RoPE rotation per chunk (Eq. 9). Ignored by LoRA. */
  moraType: 1 | 6
  targets: AdapterTarget[]
  /** LoRA scale numerator: scale = alpha / r (or alpha / √r with `rsLora`). MoRA ignores it (scale 1, §3). */
  loraAlpha: number
  rsLora: boolean
  /** Inverted-dropout probability on the adapter's input; the masks themselves come from the host. */
  dropout: number
}

/** One trainable tensor. Names map onto PEFT keys by prefixing `base_model.model.` (`peftTensorKeys`). */
export interface AdapterParameter {
  name: string
  /** MoRA M: (R, R). LoRA A: (r, k); B: (d, r), PEFT layout. */
  shape: [number, number]
}

export interface AdapterSite {
  /** The adapted weight, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  weightName: string
  target: AdapterTarget
  layer: number
  /** k */
  inFeatures: number
  /** d */
  outFeatures: number
  /** MoRA's square size R, or LoRA's rank r. */
  innerSize: number
  params: AdapterParameter[]
}

export interface AdapterPlan {
  sites: AdapterSite[]
  trainableParameters: number
}

/** The wrap-around layout of a MoRA input (specs/mora.md §1): pad, L = k + pad and nb = L / R. */
export interface MoraLayout {
  pad: number
  length: number
  chunks: number
}

/** r̂ as the reference code rounds it (to nearest, halves up; type 6 then down to even), not the paper's floor. */
export function moraSquareSize(inFeatures: number, outFeatures: number, rank: number, type: 1 | 6): number {
  const square = Math.floor(Math.sqrt((inFeatures + outFeatures) * rank) + 0.5)
  return type === 6 ? 2 * Math.floor(square / 2) : square
}

export function moraLayout(inFeatures: number, squareSize: number): MoraLayout {
  const pad = (squareSize - (inFeatures % squareSize)) % squareSize
  return { pad, length: inFeatures + pad, chunks: (inFeatures + pad) / squareSize }
}

/**
 * cos and sin of MoRA type 6's rotation, each (nb, R) row-major: chunk b turns dims j and j + R/2 by
 * b·10000^(−2j/R) (frequencies concatenated twice, rotate-half convention; specs/mora.md §2). The forward and
 * the merge both read these tables, so they cannot drift apart (§8.5).
 */
export function moraRotationTables(chunks: number, squareSize: number): { cos: Float64Array; sin: Float64Array } {
  const half = squareSize / 2
  const cos = new Float64Array(chunks * squareSize)
  const sin = new Float64Array(chunks * squareSize)
  for (let b = 0; b < chunks; b++) {
    for (let j = 0; j < squareSize; j++) {
      const angle = b * Math.pow(10000, (-2 * (j % half)) / squareSize)
      cos[b * squareSize + j] = Math.cos(angle)
      sin[b * squareSize + j] = Math.sin(angle)
    }
  }
  return { cos, sin }
}

/** The factor on the adapter's output: alpha / r or alpha / √r for LoRA; MoRA has none (§3). */
export function adapterScale(config: AdapterConfig): number {
  if (config.method === 'mora') return 1
  return config.loraAlpha / (config.rsLora ? Math.sqrt(config.rank) : config.rank)
}

/** The keys a PEFT safetensors file uses for one of our parameters. The MoRA reference saves M twice (§8.9). */
export function peftTensorKeys(parameterName: string): string[] {
  const key = `base_model.model.${parameterName}`
  return key.endsWith('.mora_M.weight') ? [key.replace(/\.mora_M\.weight$/, '.lora_A.weight'), key.replace(/\.mora_M\.weight$/, '.lora_B.weight')] : [key]
}

/** (k, d) of each target's projection: q is E → H·D, k/v E → Hkv·D, o H·D → E, gate/up E → F, down F → E. */
export function targetShape(h: ModelHyperparameters, target: AdapterTarget): { inFeatures: number; outFeatures: number } {
  const E = h.embeddingLength
  const q = h.headCount * h.headDim
  const kv = h.headCountKv * h.headDim
  const F = h.feedForwardLength
  const shapes: Record<AdapterTarget, [number, number]> = { q: [E, q], k: [E, kv], v: [E, kv], o: [q, E], gate: [E, F], up: [E, F], down: [F, E] }
  const [inFeatures, outFeatures] = shapes[target]
  return { inFeatures, outFeatures }
}

function invalid(message: string): LecternError {
  return new LecternError('invalid_argument', message)
}

function checkConfig(config: AdapterConfig): void {
  if (config.method !== 'mora' && config.method !== 'lora') throw invalid(`adapter method must be 'mora' or 'lora', not ${JSON.stringify(config.method)}`)
  if (!Number.isInteger(config.rank) || config.rank < 1) throw invalid(`adapter rank must be a positive integer, not ${config.rank}`)
  if (config.method === 'mora' && config.moraType !== 1 && config.moraType !== 6) {
    throw invalid(`MoRA type must be 1 (sharing) or 6 (rotation), not ${JSON.stringify(config.moraType)}; types 2–4 are ReMoRA helpers and 0/5 have no forward`)
  }
  if (config.targets.length === 0) throw invalid(`adapter targets are empty; choose from ${ADAPTER_TARGETS.join(', ')}`)
  const seen = new Set<string>()
  for (const target of config.targets) {
    if (!(ADAPTER_TARGETS as readonly string[]).includes(target)) throw invalid(`unknown adapter target ${JSON.stringify(target)}; choose from ${ADAPTER_TARGETS.join(', ')}`)
    if (seen.has(target)) throw invalid(`adapter target '${target}' is listed twice`)
    seen.add(target)
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) throw invalid(`adapter dropout must be in [0, 1), not ${config.dropout}`)
  if (config.method === 'lora' && !(Number.isFinite(config.loraAlpha) && config.loraAlpha > 0)) throw invalid(`LoRA alpha must be a positive number, not ${config.loraAlpha}`)
}

/** The smallest square size MoRA can use: type 6 pairs dims, so it needs 2. */
const smallestSquare = (type: 1 | 6): number => (type === 6 ? 2 : 1)

/** The largest rank whose r̂ stays within [smallest, k]; 0 when even rank 1 gives r̂ > k. r̂ grows with r. */
function largestMoraRank(inFeatures: number, outFeatures: number, type: 1 | 6): number {
  let rank = Math.floor((inFeatures + 2) ** 2 / (inFeatures + outFeatures)) + 1
  while (rank > 0 && moraSquareSize(inFeatures, outFeatures, rank, type) > inFeatures) rank--
  return rank
}

/**
 * The site of one weight of shape (d, k), e.g. `model.layers.3.mlp.down_proj.weight`, checked against the
 * config like `planAdapters` checks each target.
 */
export function adapterSite(weightName: string, inFeatures: number, outFeatures: number, config: AdapterConfig): AdapterSite {
  checkConfig(config)
  const match = /^model\.layers\.(\d+)\.(.+)$/.exec(weightName)
  const target = ADAPTER_TARGETS.find((t) => ADAPTER_TARGET_WEIGHTS[t] === match?.[2])
  if (!match || !target) throw invalid(`${weightName} is not a projection adapters can wrap (model.layers.<l>.{${Object.values(ADAPTER_TARGET_WEIGHTS).join(', ')}})`)
  const problem = siteProblem(inFeatures, outFeatures, config)
  if (problem) throw invalid(`${methodLabel(config)} does not fit ${weightName} (${inFeatures} → ${outFeatures}): ${problem.clause}. The largest rank allowed here is ${problem.largestRank}.`)
  return buildSite(weightName, inFeatures, outFeatures, config, { target, layer: Number(match[1]) })
}

/** Why the rank does not fit one projection, in a short clause (`r̂ 160 > 64 inputs`), or null when it fits. */
function siteProblem(inFeatures: number, outFeatures: number, config: AdapterConfig): { clause: string; largestRank: number } | null {
  if (config.method === 'lora') {
    const largestRank = Math.min(inFeatures, outFeatures)
    return config.rank > largestRank ? { clause: `rank ${config.rank} > min(in, out) = ${largestRank}`, largestRank } : null
  }
  const square = moraSquareSize(inFeatures, outFeatures, config.rank, config.moraType)
  const largestRank = largestMoraRank(inFeatures, outFeatures, config.moraType)
  if (square > inFeatures) return { clause: `r̂ ${square} > ${inFeatures} inputs`, largestRank }
  if (square < smallestSquare(config.moraType)) return { clause: `r̂ ${square} is too small to pair dims`, largestRank }
  return null
}

function methodLabel(config: AdapterConfig): string {
  return config.method === 'lora' ? `LoRA rank ${config.rank}` : `MoRA type ${config.moraType} at rank ${config.rank}`
}

/** MoRA past r̂ = in_features adds nothing and the reference crashes past 2·in (specs/mora.md §8.2). */
const MORA_LIMIT_WHY = 'MoRA gains nothing once r̂ exceeds a layer\'s inputs'

function buildSite(weightName: string, inFeatures: number, outFeatures: number, config: AdapterConfig, placement: { target: AdapterTarget; layer: number }): AdapterSite {
  const prefix = weightName.replace(/\.weight$/, '')
  if (config.method === 'mora') {
    const R = moraSquareSize(inFeatures, outFeatures, config.rank, config.moraType)
    return { weightName, ...placement, inFeatures, outFeatures, innerSize: R, params: [{ name: `${prefix}.mora_M.weight`, shape: [R, R] }] }
  }
  const r = config.rank
  return {
    weightName,
    ...placement,
    inFeatures,
    outFeatures,
    innerSize: r,
    params: [
      { name: `${prefix}.lora_A.weight`, shape: [r, inFeatures] },
      { name: `${prefix}.lora_B.weight`, shape: [outFeatures, r] },
    ],
  }
}

/**
 * Every adapted weight of the model, layer by layer, with its trainable tensors. Throws `invalid_argument`
 * for a bad config, or when the rank does not fit a target (LoRA: r > min(k, d); MoRA: r̂ > k), naming each
 * such projection, its sizes, and the largest rank all chosen targets allow.
 */
export function planAdapters(h: ModelHyperparameters, config: AdapterConfig): AdapterPlan {
  checkConfig(config)
  const targets = ADAPTER_TARGETS.filter((t) => config.targets.includes(t))
  // Every layer has the same shapes, so layer 0 stands for all of them.
  const problems = targets.flatMap((target) => {
    const { inFeatures, outFeatures } = targetShape(h, target)
    const problem = siteProblem(inFeatures, outFeatures, config)
    return problem ? [`${target} (${inFeatures} → ${outFeatures}: ${problem.clause})`] : []
  })
  if (problems.length > 0) {
    const largestRank = Math.min(...targets.map((t) => {
      const { inFeatures, outFeatures } = targetShape(h, t)
      return config.method === 'lora' ? Math.min(inFeatures, outFeatures) : largestMoraRank(inFeatures, outFeatures, config.moraType)
    }))
    const advice = largestRank > 0 ? `The largest rank these targets allow is ${largestRank}.` : 'No rank fits every target; leave out the ones named.'
    const why = config.method === 'mora' ? ` (${MORA_LIMIT_WHY})` : ''
    throw invalid(`${methodLabel(config)} is too large for this model on ${problems.join(', ')}${why}. ${advice}`)
  }
  const sites: AdapterSite[] = []
  for (let layer = 0; layer < h.blockCount; layer++) {
    for (const target of targets) {
      const { inFeatures, outFeatures } = targetShape(h, target)
      sites.push(buildSite(`model.layers.${layer}.${ADAPTER_TARGET_WEIGHTS[target]}`, inFeatures, outFeatures, config, { target, layer }))
    }
  }
  return { sites, trainableParameters: adapterParameterCount(sites) }
}

/** Trainable numbers in these sites (MoRA stores M once, §8.9). */
export function adapterParameterCount(sites: readonly AdapterSite[]): number {
  return sites.reduce((sum, site) => sum + site.params.reduce((n, p) => n + p.shape[0] * p.shape[1], 0), 0)
}

/**
 * Starting values: MoRA M = 0 (§3); LoRA A kaiming-uniform with a = √5 as PEFT does, i.e. U(−1/√k, 1/√k),
 * and B = 0. Either way the adapted model starts equal to the base.
 */
export function initialAdapterValues(plan: AdapterPlan, config: AdapterConfig, random: () => number): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>()
  for (const site of plan.sites) {
    for (const param of site.params) {
      const data = new Float32Array(param.shape[0] * param.shape[1])
      if (config.method === 'lora' && param.name.endsWith('.lora_A.weight')) {
        const bound = 1 / Math.sqrt(site.inFeatures)
        for (let i = 0; i < data.length; i++) data[i] = (2 * random() - 1) * bound
      }
      values.set(param.name, data)
    }
  }
  return values
}

/**
 * Wraps `base` so that every planned weight gives `base(x) + adapter(x)`, and any other weight just
 * `base(x)`. `paramTensors` holds each planned parameter's tensor in `g` by name. `dropoutMasks`, by weight
 * name, holds a mask of x's shape (0 or 1/(1−p)) that multiplies the adapter's input; the host draws it so a
 * run can be reproduced. x may have any leading axes: they are flattened to N tokens. The projection works
 * on `g` only, where it keeps one pair of rotation-table constants per (nb, R).
 */
export function adapterProjection(
  g: Graph,
  plan: AdapterPlan,
  config: AdapterConfig,
  paramTensors: ReadonlyMap<string, TensorRef>,
  base: Projection,
  dropoutMasks: ReadonlyMap<string, TensorRef> = new Map(),
): Projection {
  const sites = new Map(plan.sites.map((site) => [site.weightName, site]))
  for (const site of plan.sites) {
    for (const param of site.params) {
      const tensor = paramTensors.get(param.name)
      if (!tensor) throw invalid(`no graph tensor for adapter parameter ${param.name}`)
      if (tensor.shape.length !== 2 || tensor.shape[0] !== param.shape[0] || tensor.shape[1] !== param.shape[1]) {
        throw invalid(`adapter parameter ${param.name} is [${tensor.shape.join(', ')}], the plan wants [${param.shape.join(', ')}]`)
      }
    }
  }
  for (const name of dropoutMasks.keys()) if (!sites.has(name)) throw invalid(`dropout mask for ${name}, which has no adapter`)
  const tableCache = new Map<string, { cos: TensorRef; sin: TensorRef }>()
  const tablesFor = (chunks: number, squareSize: number): { cos: TensorRef; sin: TensorRef } => {
    const key = `${chunks}x${squareSize}`
    let tables = tableCache.get(key)
    if (!tables) {
      const { cos, sin } = moraRotationTables(chunks, squareSize)
      tables = { cos: g.constant(cos, [chunks, squareSize]), sin: g.constant(sin, [chunks, squareSize]) }
      tableCache.set(key, tables)
    }
    return tables
  }
  const param = (name: string): TensorRef => paramTensors.get(name)!

  return (graph, x, name) => {
    const y0 = base(graph, x, name)
    const site = sites.get(name)
    if (!site) return y0
    if (graph !== g) throw invalid(`${name}: this adapter projection was built for another graph`)
    const k = site.inFeatures
    if (x.shape.at(-1) !== k) throw invalid(`${name}: the adapter expects ${k} input features, x is [${x.shape.join(', ')}]`)
    const mask = dropoutMasks.get(name)
    if (mask && (mask.shape.length !== x.shape.length || mask.shape.some((dim, i) => dim !== x.shape[i]))) {
      throw invalid(`${name}: dropout mask is [${mask.shape.join(', ')}], x is [${x.shape.join(', ')}]`)
    }
    const lead = x.shape.slice(0, -1)
    const N = lead.reduce((a, b) => a * b, 1)
    const dropped = mask ? g.mul(x, mask) : x
    const flat = x.shape.length === 2 ? dropped : g.reshape(dropped, [N, k]) // (N, k)
    let delta: TensorRef // (N, d)
    if (config.method === 'lora') {
      const [a, b] = site.params as [AdapterParameter, AdapterParameter]
      const hidden = g.matmul(flat, g.transpose(param(a.name), [1, 0])) // (N, r)
      delta = g.matmul(g.mul(hidden, g.constant([adapterScale(config)], [])), g.transpose(param(b.name), [1, 0]))
    } else {
      delta = moraDelta(g, flat, param(site.params[0]!.name), site, config.moraType, tablesFor)
    }
    const shaped = x.shape.length === 2 ? delta : g.reshape(delta, [...lead, site.outFeatures])
    return g.add(y0, shaped)
  }
}

/** MoRA's adapter output for x (N, k) and M (R, R), per specs/mora.md §4. */
function moraDelta(
  g: Graph,
  x: TensorRef,
  M: TensorRef,
  site: AdapterSite,
  type: 1 | 6,
  tablesFor: (chunks: number, squareSize: number) => { cos: TensorRef; sin: TensorRef },
): TensorRef {
  const N = x.shape[0]!
  const R = site.innerSize
  const { pad, length: L, chunks: nb } = moraLayout(site.inFeatures, R)
  if (pad > site.inFeatures) throw invalid(`${site.weightName}: r̂ = ${R} needs ${pad} wrapped features, more than the ${site.inFeatures} inputs`)
  // Wrap-around padding, not zeros: the first `pad` features are read twice (§2).
  const wrapped = pad > 0 ? g.concat([x, g.slice(x, 1, 0, pad)], 1) : x // (N, L)
  const Mt = g.transpose(M, [1, 0])
  if (type === 1) {
    // Sharing: sum the nb chunks, apply M, tile u over the d outputs.
    const z = nb > 1 ? g.reduceSum(g.reshape(wrapped, [N, nb, R]), [1]) : wrapped // (N, R)
    return tileTo(g, g.matmul(z, Mt), site.outFeatures)
  }
  // Rotation: chunk b is RoPE position b; M acts on every rotated chunk; o = the chunks' outputs side by side.
  const half = R / 2
  const { cos, sin } = tablesFor(nb, R)
  const chunks = g.reshape(wrapped, [N, nb, R])
  const rotatedHalf = g.concat([g.neg(g.slice(chunks, 2, half, R)), g.slice(chunks, 2, 0, half)], 2) // (N, nb, R)
  const rotated = g.add(g.mul(chunks, cos), g.mul(rotatedHalf, sin))
  // As (N·nb, R) rows, so that M's gradient is one (R, N·nb)·(N·nb, R) product and not N of them.
  const out = g.reshape(g.matmul(g.reshape(rotated, [N * nb, R]), Mt), [N, L]) // (N, L)
  return tileTo(g, out, site.outFeatures)
}

/** y[i] = v[i mod P] for i < d: repeat v (N, P) along its last axis, then cut to d. */
function tileTo(g: Graph, v: TensorRef, d: number): TensorRef {
  const [N, P] = v.shape as [number, number]
  if (P === d) return v
  const repeats = Math.ceil(d / P)
  const tiled = repeats > 1 ? g.reshape(g.expand(g.reshape(v, [N, 1, P]), [N, repeats, P]), [N, repeats * P]) : v
  return repeats * P > d ? g.slice(tiled, 1, 0, d) : tiled
}
