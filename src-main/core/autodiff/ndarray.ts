/** Float64 arrays with shapes: the CPU reference the autodiff's ops are checked against (tests only). */
export interface NdArray {
  shape: number[]
  data: Float64Array
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length)
  let stride = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride
    stride *= shape[i]!
  }
  return strides
}

/** NumPy broadcasting: shapes aligned on the right, each pair equal or one of them 1. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length)
  const out: number[] = []
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1
    const y = b[b.length - rank + i] ?? 1
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`)
    out.push(Math.max(x, y))
  }
  return out
}

/** The value of `a` at each position of `shape`, repeating along broadcast axes. */
export function broadcastTo(a: NdArray, shape: readonly number[]): NdArray {
  const out = new Float64Array(sizeOf(shape))
  const outStrides = stridesOf(shape)
  const inStrides = stridesOf(a.shape)
  const offset = shape.length - a.shape.length
  for (let i = 0; i < out.length; i++) {
    let source = 0
    for (let d = 0; d < a.shape.length; d++) {
      const coordinate = Math.floor(i / outStrides[d + offset]!) % shape[d + offset]!
      if (a.shape[d] !== 1) source += coordinate * inStrides[d]!
    }
    out[i] = a.data[source]!
  }
  return { shape: [...shape], data: out }
}

export function elementwise(inputs: NdArray[], f: (...values: number[]) => number): NdArray {
  const shape = inputs.map((x) => x.shape).reduce((a, b) => broadcastShapes(a, b))
  const full = inputs.map((x) => broadcastTo(x, shape))
  const out = new Float64Array(sizeOf(shape))
  for (let i = 0; i < out.length; i++) out[i] = f(...full.map((x) => x.data[i]!))
  return { shape, data: out }
}

export function transpose(a: NdArray, perm: readonly number[]): NdArray {
  const shape = perm.map((p) => a.shape[p]!)
  const inStrides = stridesOf(a.shape)
  const outStrides = stridesOf(shape)
  const out = new Float64Array(a.data.length)
  for (let i = 0; i < out.length; i++) {
    let source = 0
    for (let d = 0; d < shape.length; d++) source += (Math.floor(i / outStrides[d]!) % shape[d]!) * inStrides[perm[d]!]!
    out[i] = a.data[source]!
  }
  return { shape, data: out }
}

/** Folds `a` along `axes` with `combine`, starting each output element at `initial`. */
function reduce(a: NdArray, axes: readonly number[], keepDims: boolean, initial: number, combine: (acc: number, v: number) => number): NdArray {
  const keptShape = a.shape.map((d, i) => (axes.includes(i) ? 1 : d))
  const out = new Float64Array(sizeOf(keptShape)).fill(initial)
  const inStrides = stridesOf(a.shape)
  const outStrides = stridesOf(keptShape)
  for (let i = 0; i < a.data.length; i++) {
    let target = 0
    for (let d = 0; d < a.shape.length; d++) {
      if (!axes.includes(d)) target += (Math.floor(i / inStrides[d]!) % a.shape[d]!) * outStrides[d]!
    }
    out[target] = combine(out[target]!, a.data[i]!)
  }
  return { shape: keepDims ? keptShape : a.shape.filter((_, i) => !axes.includes(i)), data: out }
}

export function reduceSum(a: NdArray, axes: readonly number[], keepDims: boolean): NdArray {
  return reduce(a, axes, keepDims, 0, (acc, v) => acc + v)
}

export function reduceMax(a: NdArray, axes: readonly number[], keepDims: boolean): NdArray {
  return reduce(a, axes, keepDims, -Infinity, Math.max)
}

/** Batched matrix product over the last two axes, batch axes broadcast (ONNX MatMul for rank ≥ 2). */
export function matmul(a: NdArray, b: NdArray): NdArray {
  const [m, k] = a.shape.slice(-2) as [number, number]
  const [k2, n] = b.shape.slice(-2) as [number, number]
  if (k !== k2) throw new Error(`matmul: inner dimensions ${k} and ${k2} differ`)
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2))
  const A = broadcastTo(a, [...batch, m, k])
  const B = broadcastTo(b, [...batch, k, n])
  const count = sizeOf(batch)
  const out = new Float64Array(count * m * n)
  for (let t = 0; t < count; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0
        for (let p = 0; p < k; p++) sum += A.data[t * m * k + i * k + p]! * B.data[t * k * n + p * n + j]!
        out[t * m * n + i * n + j] = sum
      }
    }
  }
  return { shape: [...batch, m, n], data: out }
}

/** Copies the block of `a` whose coordinate along `axis` is in [start, end). */
export function slice(a: NdArray, axis: number, start: number, end: number): NdArray {
  const shape = a.shape.map((d, i) => (i === axis ? end - start : d))
  const outer = sizeOf(a.shape.slice(0, axis))
  const inner = sizeOf(a.shape.slice(axis + 1))
  const out = new Float64Array(sizeOf(shape))
  for (let o = 0; o < outer; o++) {
    out.set(a.data.subarray((o * a.shape[axis]! + start) * inner, (o * a.shape[axis]! + end) * inner), o * (end - start) * inner)
  }
  return { shape, data: out }
}

export function pad(a: NdArray, axis: number, before: number, after: number): NdArray {
  const length = a.shape[axis]!
  const shape = a.shape.map((d, i) => (i === axis ? d + before + after : d))
  const outer = sizeOf(a.shape.slice(0, axis))
  const inner = sizeOf(a.shape.slice(axis + 1))
  const out = new Float64Array(sizeOf(shape))
  for (let o = 0; o < outer; o++) out.set(a.data.subarray(o * length * inner, (o + 1) * length * inner), (o * shape[axis]! + before) * inner)
  return { shape, data: out }
}

export function concat(parts: NdArray[], axis: number): NdArray {
  const shape = parts[0]!.shape.map((d, i) => (i === axis ? parts.reduce((sum, p) => sum + p.shape[axis]!, 0) : d))
  const outer = sizeOf(shape.slice(0, axis))
  const inner = sizeOf(shape.slice(axis + 1))
  const out = new Float64Array(sizeOf(shape))
  let at = 0
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const block = p.shape[axis]! * inner
      out.set(p.data.subarray(o * block, (o + 1) * block), at)
      at += block
    }
  }
  return { shape, data: out }
}
