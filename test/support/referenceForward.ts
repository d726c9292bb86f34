import { ARCHITECTURES } from '../../src-main/core/model/architectures.js'
import type { ModelHyperparameters } from '../../src-main/core/model/hyperparameters.js'

/** HF-layout weights: name → values in PyTorch order ([out, in] row-major). */
export type HfWeights = Map<string, Float32Array | Float64Array>

/**
 * A float64 forward pass of a Llama-family decoder on HF-layout weights, teacher-forced over `tokens`:
 * RMSNorm, NeoX (half-split) RoPE as transformers applies it, grouped-query causal attention, SwiGLU.
 * Returns logits (T, V). Tests compare llama.cpp against it; it is written for clarity, not speed.
 */
export function referenceLogits(h: ModelHyperparameters, weights: HfWeights, tokens: number[]): Float64Array[] {
  const arch = ARCHITECTURES[h.architecture]
  const E = h.embeddingLength
  const D = h.headDim
  const H = h.headCount
  const K = h.headCountKv
  const T = tokens.length
  const w = (name: string): Float32Array | Float64Array => {
    const value = weights.get(name)
    if (!value) throw new Error(`reference forward: missing ${name}`)
    return value
  }
  const embed = w('model.embed_tokens.weight')
  let x: Float64Array[] = tokens.map((t) => Float64Array.from(embed.subarray(t * E, (t + 1) * E)))

  for (let l = 0; l < h.blockCount; l++) {
    const p = `model.layers.${l}.`
    const normed = x.map((row) => rmsNorm(row, w(p + 'input_layernorm.weight'), h.rmsNormEps))
    const project = (name: string, rows: number, biasName: string): Float64Array[] =>
      normed.map((row) => {
        const out = matVec(w(p + name), row, rows)
        if (arch.hasQkvBias) addInPlace(out, w(p + biasName))
        return out
      })
    const q = project('self_attn.q_proj.weight', H * D, 'self_attn.q_proj.bias')
    const k = project('self_attn.k_proj.weight', K * D, 'self_attn.k_proj.bias')
    const v = project('self_attn.v_proj.weight', K * D, 'self_attn.v_proj.bias')
    for (let t = 0; t < T; t++) {
      for (let head = 0; head < H; head++) prepareHead(q[t]!, head, t)
      for (let head = 0; head < K; head++) prepareHead(k[t]!, head, t, 'k')
    }
    function prepareHead(vector: Float64Array, head: number, position: number, which: 'q' | 'k' = 'q'): void {
      const slice = vector.subarray(head * D, (head + 1) * D)
      if (arch.hasQkNorm) slice.set(rmsNorm(slice, w(p + `self_attn.${which}_norm.weight`), h.rmsNormEps))
      ropeNeox(slice, position, h.ropeTheta)
    }
    const attended = Array.from({ length: T }, () => new Float64Array(H * D))
    const scale = 1 / Math.sqrt(D)
    for (let head = 0; head < H; head++) {
      const kvHead = Math.floor(head / (H / K))
      for (let t = 0; t < T; t++) {
        const scores = new Float64Array(t + 1)
        for (let s = 0; s <= t; s++) scores[s] = dot(q[t]!.subarray(head * D, (head + 1) * D), k[s]!.subarray(kvHead * D, (kvHead + 1) * D)) * scale
        const probs = softmax(scores)
        const out = attended[t]!.subarray(head * D, (head + 1) * D)
        for (let s = 0; s <= t; s++) for (let d = 0; d < D; d++) out[d]! += probs[s]! * v[s]![kvHead * D + d]!
      }
    }
    x = x.map((row, t) => addInPlace(row.slice(), matVec(w(p + 'self_attn.o_proj.weight'), attended[t]!, E)))
    x = x.map((row) => {
      const n = rmsNorm(row, w(p + 'post_attention_layernorm.weight'), h.rmsNormEps)
      const gate = matVec(w(p + 'mlp.gate_proj.weight'), n, h.feedForwardLength)
      const up = matVec(w(p + 'mlp.up_proj.weight'), n, h.feedForwardLength)
      for (let i = 0; i < gate.length; i++) gate[i] = (gate[i]! / (1 + Math.exp(-gate[i]!))) * up[i]!
      return addInPlace(row.slice(), matVec(w(p + 'mlp.down_proj.weight'), gate, E))
    })
  }
  const head = h.tiedEmbeddings ? embed : w('lm_head.weight')
  return x.map((row) => matVec(head, rmsNorm(row, w('model.norm.weight'), h.rmsNormEps), h.vocabSize))
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!)
  const out = new Float64Array(logits.length)
  let sum = 0
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max)
  for (let i = 0; i < out.length; i++) out[i]! /= sum
  return out
}

function rmsNorm(x: ArrayLike<number>, weight: ArrayLike<number>, eps: number): Float64Array {
  let sumSquares = 0
  for (let i = 0; i < x.length; i++) sumSquares += x[i]! * x[i]!
  const scale = 1 / Math.sqrt(sumSquares / x.length + eps)
  return Float64Array.from({ length: x.length }, (_, i) => x[i]! * scale * weight[i]!)
}

/** HF rotate_half: the pair (i, i + D/2) turns by position·θ^(−2i/D). */
function ropeNeox(head: Float64Array, position: number, theta: number): void {
  const half = head.length / 2
  for (let i = 0; i < half; i++) {
    const angle = position * Math.pow(theta, (-2 * i) / head.length)
    const a = head[i]!
    const b = head[i + half]!
    head[i] = a * Math.cos(angle) - b * Math.sin(angle)
    head[i + half] = b * Math.cos(angle) + a * Math.sin(angle)
  }
}

function matVec(matrix: ArrayLike<number>, vector: ArrayLike<number>, rows: number): Float64Array {
  const cols = vector.length
  const out = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    let sum = 0
    for (let c = 0; c < cols; c++) sum += matrix[r * cols + c]! * vector[c]!
    out[r] = sum
  }
  return out
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!
  return sum
}

function addInPlace(target: Float64Array, addend: ArrayLike<number>): Float64Array {
  for (let i = 0; i < target.length; i++) target[i]! += addend[i]!
  return target
}
