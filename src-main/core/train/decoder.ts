import type { Graph } from '../autodiff/Graph.js'
import { rmsNorm, ropeNeox, silu, softmax } from '../autodiff/layers.js'
import type { TensorRef } from '../autodiff/types.js'
import { ARCHITECTURES } from '../model/architectures.js'
import type { ModelHyperparameters } from '../model/hyperparameters.js'

/**
 * Weights of the decoder as graph tensors, under their Hugging Face names. `stored` is the HF layout (vectors,
 * the embedding table (V, C)); `projection` is a matrix transposed to (in, out), so that every projection is
 * `x · W` without a Transpose in the graph.
 */
export type DecoderWeights = (hfName: string, layout: 'stored' | 'projection') => TensorRef

/** A projection `x · W (+ b)` that adapters (LoRA, MoRA) can wrap. `name` is the HF weight name. */
export type Projection = (g: Graph, x: TensorRef, name: string) => TensorRef

/** The frozen projection `x · W (+ b)`: qwen2 has biases on q, k and v. Adapters wrap it. */
export function baseProjection(h: ModelHyperparameters, weights: DecoderWeights): Projection {
  const arch = ARCHITECTURES[h.architecture]
  return (g, x, name) => {
    const y = g.matmul(x, weights(name, 'projection'))
    return arch.hasQkvBias && /self_attn\.[qkv]_proj\.weight$/.test(name) ? g.add(y, weights(name.replace(/\.weight$/, '.bias'), 'stored')) : y
  }
}

/** cos and sin of the RoPE angles, (T, D/2): position t, pair i turns by t·θ^(−2i/D). */
export function ropeTables(tokens: number, headDim: number, theta: number): { cos: Float64Array; sin: Float64Array } {
  const half = headDim / 2
  const cos = new Float64Array(tokens * half)
  const sin = new Float64Array(tokens * half)
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * Math.pow(theta, (-2 * i) / headDim)
      cos[t * half + i] = Math.cos(angle)
      sin[t * half + i] = Math.sin(angle)
    }
  }
  return { cos, sin }
}

/**
 * The Llama-family decoder (llama, qwen2, qwen3) as graph ops: token ids (B, T) → logits (B, T, V). RMSNorm,
 * NeoX RoPE on HF-layout q/k (llama.cpp's interleaved RoPE on permuted rows is the same computation),
 * grouped-query causal attention, SwiGLU, tied or untied head, qwen2 q/k/v biases, qwen3 q/k norms.
 */
export function decoderLogits(g: Graph, h: ModelHyperparameters, weights: DecoderWeights, tokenIds: TensorRef, project?: Projection): TensorRef {
  const arch = ARCHITECTURES[h.architecture]
  const [B, T] = tokenIds.shape as [number, number]
  const { headCount: H, headCountKv: K, headDim: D } = h
  const linear = project ?? baseProjection(h, weights)
  const { cos, sin } = ropeTables(T, D, h.ropeTheta)
  const cosT = g.constant(cos, [T, D / 2])
  const sinT = g.constant(sin, [T, D / 2])
  const mask = g.constant(
    Array.from({ length: T * T }, (_, i) => (i % T <= Math.floor(i / T) ? 0 : -1e30)),
    [T, T],
  )
  const scale = g.constant([1 / Math.sqrt(D)], [])

  let x = g.gather(weights('model.embed_tokens.weight', 'stored'), tokenIds) // (B, T, C)
  for (let l = 0; l < h.blockCount; l++) {
    const p = `model.layers.${l}.`
    const normed = rmsNorm(g, x, weights(p + 'input_layernorm.weight', 'stored'), h.rmsNormEps)
    const heads = (y: TensorRef, count: number): TensorRef => g.transpose(g.reshape(y, [B, T, count, D]), [0, 2, 1, 3]) // (B, count, T, D)
    let q = heads(linear(g, normed, p + 'self_attn.q_proj.weight'), H)
    let k = heads(linear(g, normed, p + 'self_attn.k_proj.weight'), K)
    const v = heads(linear(g, normed, p + 'self_attn.v_proj.weight'), K)
    if (arch.hasQkNorm) {
      q = rmsNorm(g, q, weights(p + 'self_attn.q_norm.weight', 'stored'), h.rmsNormEps)
      k = rmsNorm(g, k, weights(p + 'self_attn.k_norm.weight', 'stored'), h.rmsNormEps)
    }
    q = ropeNeox(g, q, cosT, sinT)
    k = ropeNeox(g, k, cosT, sinT)
    const repeat = (t: TensorRef): TensorRef => (H === K ? t : g.reshape(g.expand(g.reshape(t, [B, K, 1, T, D]), [B, K, H / K, T, D]), [B, H, T, D]))
    const scores = g.add(g.mul(g.matmul(q, g.transpose(repeat(k), [0, 1, 3, 2])), scale), mask) // (B, H, T, T)
    const attended = g.matmul(softmax(g, scores), repeat(v)) // (B, H, T, D)
    const merged = g.reshape(g.transpose(attended, [0, 2, 1, 3]), [B, T, H * D])
    x = g.add(x, linear(g, merged, p + 'self_attn.o_proj.weight'))
    const normed2 = rmsNorm(g, x, weights(p + 'post_attention_layernorm.weight', 'stored'), h.rmsNormEps)
    const gated = g.mul(silu(g, linear(g, normed2, p + 'mlp.gate_proj.weight')), linear(g, normed2, p + 'mlp.up_proj.weight'))
    x = g.add(x, linear(g, gated, p + 'mlp.down_proj.weight'))
  }
  const final = rmsNorm(g, x, weights('model.norm.weight', 'stored'), h.rmsNormEps)
  return g.matmul(final, weights(h.tiedEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight', 'projection')) // (B, T, V)
}
