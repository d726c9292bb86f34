import type { NdArray } from '../../src-main/core/autodiff/ndarray.js'

/** Float64 references of the composite layers, written directly (not from graph ops), for the gradient checks. */

const map = (x: NdArray, f: (v: number) => number): NdArray => ({ shape: [...x.shape], data: x.data.map(f) })

export const sigmoidRef = (x: NdArray): NdArray => map(x, (v) => 1 / (1 + Math.exp(-v)))
export const siluRef = (x: NdArray): NdArray => map(x, (v) => v / (1 + Math.exp(-v)))

/** Applies `f` to every row along the last axis. */
function rows(x: NdArray, f: (row: Float64Array, index: number) => Float64Array): NdArray {
  const width = x.shape.at(-1)!
  const out = new Float64Array(x.data.length)
  for (let r = 0; r < x.data.length / width; r++) out.set(f(x.data.subarray(r * width, (r + 1) * width), r), r * width)
  return { shape: [...x.shape], data: out }
}

export function rmsNormRef(x: NdArray, weight: NdArray, eps: number): NdArray {
  return rows(x, (row) => {
    const scale = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / row.length + eps)
    return row.map((v, i) => v * scale * weight.data[i]!)
  })
}

export function softmaxRef(x: NdArray): NdArray {
  return rows(x, (row) => {
    const max = Math.max(...row)
    const e = row.map((v) => Math.exp(v - max))
    const sum = e.reduce((a, b) => a + b, 0)
    return e.map((v) => v / sum)
  })
}

export function logSoftmaxRef(x: NdArray): NdArray {
  return rows(x, (row) => {
    const max = Math.max(...row)
    const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max
    return row.map((v) => v - logSum)
  })
}

export function crossEntropyRef(logits: NdArray, oneHot: NdArray, weights: NdArray): NdArray {
  const logp = logSoftmaxRef(logits)
  const width = logits.shape[1]!
  let total = 0
  let weightSum = 0
  for (let n = 0; n < logits.shape[0]!; n++) {
    let picked = 0
    for (let v = 0; v < width; v++) picked += logp.data[n * width + v]! * oneHot.data[n * width + v]!
    total += picked * weights.data[n]!
    weightSum += weights.data[n]!
  }
  return { shape: [], data: Float64Array.of(-total / weightSum) }
}

export function ropeNeoxRef(x: NdArray, cos: NdArray, sin: NdArray): NdArray {
  const D = x.shape.at(-1)!
  const T = x.shape.at(-2)!
  const half = D / 2
  return rows(x, (row, r) => {
    const t = r % T
    const out = new Float64Array(D)
    for (let i = 0; i < half; i++) {
      const c = cos.data[t * half + i]!
      const s = sin.data[t * half + i]!
      out[i] = row[i]! * c - row[i + half]! * s
      out[i + half] = row[i + half]! * c + row[i]! * s
    }
    return out
  })
}
