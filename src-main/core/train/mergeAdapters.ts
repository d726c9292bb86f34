import { LecternError } from '../../shared/errors.js'
import { adapterScale, moraLayout, moraRotationTables, type AdapterConfig, type AdapterSite } from './adapters.js'

type Values = ReadonlyMap<string, Float32Array | Float64Array>

function valuesOf(site: AdapterSite, index: number, values: Values): Float32Array | Float64Array {
  const param = site.params[index]!
  const data = values.get(param.name)
  const size = param.shape[0] * param.shape[1]
  if (!data) throw new LecternError('invalid_argument', `no values for adapter parameter ${param.name}`)
  if (data.length !== size) throw new LecternError('invalid_argument', `adapter parameter ${param.name} has ${data.length} values, its shape [${param.shape.join(', ')}] needs ${size}`)
  return data
}

/**
 * ΔW (d, k) row-major, PyTorch's [out, in] layout, such that `x·(W0 + ΔW)ᵀ` equals the adapted forward
 * without dropout: the closed forms of specs/mora.md §5 for MoRA types 1 and 6, and B·A·scale for LoRA.
 */
export function adapterDeltaWeight(site: AdapterSite, config: AdapterConfig, values: Values): Float64Array {
  const delta = new Float64Array(site.outFeatures * site.inFeatures)
  addDeltaRows(site, config, values, 0, site.outFeatures, delta)
  return delta
}

/**
 * Adds rows [firstRow, firstRow + rowCount) of ΔW to `rows` (rowCount × k, row-major), so a merge can work a
 * chunk of rows at a time without ever holding ΔW whole. Type 6 touches only the R columns of each row's block.
 */
export function addDeltaRows(site: AdapterSite, config: AdapterConfig, values: Values, firstRow: number, rowCount: number, rows: Float64Array): void {
  const { inFeatures: k, outFeatures: d, innerSize } = site
  if (firstRow < 0 || rowCount < 0 || firstRow + rowCount > d || rows.length !== rowCount * k) {
    throw new LecternError('invalid_argument', `rows ${firstRow}..${firstRow + rowCount} of a ${d} × ${k} weight do not fit a buffer of ${rows.length} values`)
  }
  if (config.method === 'lora') {
    const A = valuesOf(site, 0, values) // (r, k)
    const B = valuesOf(site, 1, values) // (d, r)
    const scale = adapterScale(config)
    for (let n = 0; n < rowCount; n++) {
      const i = firstRow + n
      const row = rows.subarray(n * k, (n + 1) * k)
      for (let t = 0; t < innerSize; t++) {
        const b = B[i * innerSize + t]! * scale
        if (b === 0) continue
        const a = t * k
        for (let c = 0; c < k; c++) row[c]! += b * A[a + c]!
      }
    }
    return
  }
  const M = valuesOf(site, 0, values) // (R, R)
  const R = innerSize
  const { pad, length: L, chunks: nb } = moraLayout(k, R)
  if (config.moraType === 1) {
    // ΔW[i, c] = M[i mod R, c mod R] + [c < pad]·M[i mod R, (k + c) mod R]: wrapped inputs count twice.
    for (let n = 0; n < rowCount; n++) {
      const a = ((firstRow + n) % R) * R
      const at = n * k
      for (let c = 0; c < k; c++) rows[at + c]! += M[a + (c % R)]! + (c < pad ? M[a + ((k + c) % R)]! : 0)
    }
    return
  }
  // Type 6: row i reads o[q], q = i mod L: row a = q mod R of block b = ⌊q/R⌋, M·Rot_b. Its column j reads
  // position b·R + j of the wrapped input, and a position p ≥ k is input feature p − k. This covers nb = 1.
  const { cos, sin } = moraRotationTables(nb, R)
  const half = R / 2
  for (let n = 0; n < rowCount; n++) {
    const q = (firstRow + n) % L
    const b = Math.floor(q / R)
    const a = q % R
    const at = n * k
    for (let j = 0; j < R; j++) {
      const partner = j < half ? M[a * R + j + half]! : -M[a * R + j - half]!
      const block = M[a * R + j]! * cos[b * R + j]! + sin[b * R + j]! * partner
      const position = b * R + j
      rows[at + (position < k ? position : position - k)]! += block
    }
  }
}

/** W0 + ΔW, rounded once to float32 (the base's storage type). */
export function mergeWeights(w0: Float32Array, delta: Float64Array): Float32Array {
  if (w0.length !== delta.length) throw new LecternError('invalid_argument', `cannot merge ΔW of ${delta.length} values into a weight of ${w0.length}`)
  return Float32Array.from(w0, (w, i) => w + delta[i]!)
}
