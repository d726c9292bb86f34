import { LecternError } from '../../../shared/errors.js'
import { ggmlType, type GgmlTypeName } from '../tensorTypes.js'
import { scaleMinK4 } from './dequantize.js'
import { float16Table, float32ArrayToBfloat16Bytes, float32ArrayToFloat16Bytes, float32ToFloat16Bits } from './halfFloat.js'

/**
 * float32 to GGML blocks, in llama.cpp's byte layout (ggml/src/ggml-common.h) and following the reference
 * quantizers that llama-quantize runs when no importance matrix is given (ggml/src/ggml-quants.c:
 * `quantize_row_q8_0_ref`, `quantize_row_q4_0_ref`, `quantize_row_q4_1_ref`, `quantize_row_q5_0_ref`,
 * `quantize_row_q5_1_ref`, and for K-quants `quantize_row_q{4,5}_K_ref` with the `make_qkx2_quants`
 * min/scale search and `quantize_row_q6_K_ref` with the `make_qx_quants` scale search).
 *
 * The searches compare errors, so the arithmetic is done in float32 as C does it (`fround` after every
 * operation C performs in float): rounding differences would otherwise pick other scales now and then.
 * With that, our bytes equal those of ggml's reference code built without FMA contraction (checked on
 * millions of values; test/unit/core/model/quantize/llamaCppReference.ts keeps a sample). Shortcuts taken
 * for speed are exact: each says why it cannot change a decision.
 *
 * Scratch buffers are module-level, so a call allocates only its output; calls are synchronous and so
 * cannot interleave (workers each have their own module instance).
 */
export const QUANTIZE_TYPES = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q4_K', 'Q5_K', 'Q6_K'] as const

export type QuantizableType = (typeof QUANTIZE_TYPES)[number]

const f = Math.fround
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1
/** GROUP_MAX_EPS in ggml-quants.c: a group whose largest magnitude is below this is all zero. */
const GROUP_MAX_EPS = f(1e-15)
const TENTH = f(0.1)

/**
 * Encodes `values` (whole rows, each a multiple of the type's block size long, so no block straddles two
 * rows) as `typeName`. Writes into `out` when given (at least the encoded size) and returns the bytes
 * written. Quantized types refuse NaN and infinite values, which llama.cpp's validation rejects too.
 */
export function quantize(typeName: GgmlTypeName, values: Float32Array, out?: Uint8Array): Uint8Array {
  if (!(QUANTIZE_TYPES as readonly string[]).includes(typeName)) {
    throw new LecternError('unsupported_model', `cannot quantize to ${typeName} (supported: ${QUANTIZE_TYPES.join(', ')})`)
  }
  const type = ggmlType(typeName)
  if (values.length % type.blockSize !== 0) {
    throw new LecternError('invalid_argument', `cannot quantize ${values.length} values to ${typeName}: not a whole number of ${type.blockSize}-element blocks`)
  }
  const blocks = values.length / type.blockSize
  const byteLength = blocks * type.blockBytes
  if (out && out.length < byteLength) throw new LecternError('invalid_argument', `output holds ${out.length} bytes, ${typeName} needs ${byteLength}`)
  const y = !out ? new Uint8Array(byteLength) : out.length === byteLength ? out : out.subarray(0, byteLength)

  switch (typeName as QuantizableType) {
    case 'F32':
      writeF32(values, y)
      return y
    case 'F16':
      return float32ArrayToFloat16Bytes(values, y)
    case 'BF16':
      return float32ArrayToBfloat16Bytes(values, y)
    default:
      break
  }
  checkFinite(values, typeName)
  switch (typeName as QuantizableType) {
    case 'Q8_0':
      for (let b = 0; b < blocks; b++) quantizeBlockQ8_0(values, 32 * b, y, 34 * b)
      break
    case 'Q4_0':
      for (let b = 0; b < blocks; b++) quantizeBlockQ4_0(values, 32 * b, y, 18 * b)
      break
    case 'Q4_1':
      for (let b = 0; b < blocks; b++) quantizeBlockQ4_1(values, 32 * b, y, 20 * b)
      break
    case 'Q5_0':
      for (let b = 0; b < blocks; b++) quantizeBlockQ5_0(values, 32 * b, y, 22 * b)
      break
    case 'Q5_1':
      for (let b = 0; b < blocks; b++) quantizeBlockQ5_1(values, 32 * b, y, 24 * b)
      break
    case 'Q4_K':
      for (let b = 0; b < blocks; b++) quantizeBlockQ45_K(values, 256 * b, y, 144 * b, false)
      break
    case 'Q5_K':
      for (let b = 0; b < blocks; b++) quantizeBlockQ45_K(values, 256 * b, y, 176 * b, true)
      break
    case 'Q6_K':
      for (let b = 0; b < blocks; b++) quantizeBlockQ6_K(values, 256 * b, y, 210 * b)
      break
  }
  return y
}

function writeF32(values: Float32Array, y: Uint8Array): void {
  if (LITTLE_ENDIAN_HOST) {
    y.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    return
  }
  const view = new DataView(y.buffer, y.byteOffset, y.byteLength)
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i]!, true)
}

function checkFinite(values: Float32Array, typeName: string): void {
  // x·0 is 0 for finite x and NaN for ±inf or NaN, so one sum finds any of them.
  let probe = 0
  for (let i = 0; i < values.length; i++) probe += values[i]! * 0
  if (probe === 0) return
  const at = values.findIndex((v) => !Number.isFinite(v))
  throw new LecternError('invalid_argument', `cannot quantize to ${typeName}: value ${at} is ${values[at]}`)
}

function writeHalf(y: Uint8Array, at: number, value: number): void {
  const h = float32ToFloat16Bits(value)
  y[at] = h & 0xff
  y[at + 1] = h >>> 8
}

/** nearest_int: round a float32 to the nearest integer, ties to even, by the 1.5·2^23 trick (|v| < 2^22). */
function nearestInt(v: number): number {
  return f(v + 12582912) - 12582912
}

/** C's roundf: nearest, ties away from zero. */
function roundAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v)
}

// ---------------------------------------------------------------------------------------- 32-element blocks

/** block_q8_0: d = amax/127, q = roundf(x/d). */
function quantizeBlockQ8_0(x: Float32Array, at: number, y: Uint8Array, o: number): void {
  let amax = 0
  for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[at + j]!))
  const d = f(amax / 127)
  const id = d !== 0 ? f(1 / d) : 0
  writeHalf(y, o, d)
  for (let j = 0; j < 32; j++) y[o + 2 + j] = roundAway(f(x[at + j]! * id)) & 0xff
}

/** The element with the largest magnitude, sign kept (the first one on ties), as the _0 types use it. */
function signedAbsMax(x: Float32Array, at: number): number {
  let amax = 0
  let max = 0
  for (let j = 0; j < 32; j++) {
    const v = x[at + j]!
    if (amax < Math.abs(v)) {
      amax = Math.abs(v)
      max = v
    }
  }
  return max
}

/** block_q4_0: d = max/-8 so the largest magnitude maps to -8; q = min(15, trunc(x/d + 8.5)). */
function quantizeBlockQ4_0(x: Float32Array, at: number, y: Uint8Array, o: number): void {
  const d = f(signedAbsMax(x, at) / -8)
  const id = d !== 0 ? f(1 / d) : 0
  writeHalf(y, o, d)
  for (let j = 0; j < 16; j++) {
    const q0 = Math.min(15, Math.trunc(f(f(x[at + j]! * id) + 8.5)))
    const q1 = Math.min(15, Math.trunc(f(f(x[at + j + 16]! * id) + 8.5)))
    y[o + 2 + j] = q0 | (q1 << 4)
  }
}

function minMax32(x: Float32Array, at: number): [number, number] {
  let min = Infinity
  let max = -Infinity
  for (let j = 0; j < 32; j++) {
    const v = x[at + j]!
    if (v < min) min = v
    if (v > max) max = v
  }
  return [min, max]
}

/** block_q4_1: d = (max-min)/15, m = min, q = min(15, trunc((x-min)/d + 0.5)). */
function quantizeBlockQ4_1(x: Float32Array, at: number, y: Uint8Array, o: number): void {
  const [min, max] = minMax32(x, at)
  const d = f(f(max - min) / 15)
  const id = d !== 0 ? f(1 / d) : 0
  writeHalf(y, o, d)
  writeHalf(y, o + 2, min)
  for (let j = 0; j < 16; j++) {
    const q0 = Math.min(15, Math.trunc(f(f(f(x[at + j]! - min) * id) + 0.5)))
    const q1 = Math.min(15, Math.trunc(f(f(f(x[at + j + 16]! - min) * id) + 0.5)))
    y[o + 4 + j] = q0 | (q1 << 4)
  }
}

function writeQ5(y: Uint8Array, qhAt: number, q0s: Uint8Array): void {
  let qh = 0
  for (let j = 0; j < 16; j++) {
    const q0 = q0s[j]!
    const q1 = q0s[j + 16]!
    y[qhAt + 4 + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4)
    qh |= ((q0 >>> 4) << j) | ((q1 >>> 4) << (j + 16))
  }
  y[qhAt] = qh & 0xff
  y[qhAt + 1] = (qh >>> 8) & 0xff
  y[qhAt + 2] = (qh >>> 16) & 0xff
  y[qhAt + 3] = qh >>> 24
}

const q5Scratch = new Uint8Array(32)

/** block_q5_0: d = max/-16; q = min(31, trunc(x/d + 16.5)); fifth bits gathered in qh. */
function quantizeBlockQ5_0(x: Float32Array, at: number, y: Uint8Array, o: number): void {
  const d = f(signedAbsMax(x, at) / -16)
  const id = d !== 0 ? f(1 / d) : 0
  writeHalf(y, o, d)
  for (let j = 0; j < 32; j++) q5Scratch[j] = Math.min(31, Math.trunc(f(f(x[at + j]! * id) + 16.5)))
  writeQ5(y, o + 2, q5Scratch)
}

/** block_q5_1: d = (max-min)/31, m = min, q = trunc((x-min)/d + 0.5). */
function quantizeBlockQ5_1(x: Float32Array, at: number, y: Uint8Array, o: number): void {
  const [min, max] = minMax32(x, at)
  const d = f(f(max - min) / 31)
  const id = d !== 0 ? f(1 / d) : 0
  writeHalf(y, o, d)
  writeHalf(y, o + 2, min)
  // The reference has no clamp here; float rounding can never push (max-min)/d past 31.5, and the clamp
  // only guards that claim.
  for (let j = 0; j < 32; j++) q5Scratch[j] = Math.min(31, Math.trunc(f(f(f(x[at + j]! - min) * id) + 0.5)))
  writeQ5(y, o + 4, q5Scratch)
}

// ---------------------------------------------------------------------------------------- K-quants (256)

// Scratch for one super-block: quants per element, the search's trial quants, weights, sub-block results.
const levels = new Uint8Array(256)
const trialLevels = new Uint8Array(32)
const weights = new Float32Array(32)
const subScales = new Float32Array(16)
const subMins = new Float32Array(8)
/** One sub-block's values, and the values minus the current min (float32 values held as doubles). */
const values64 = new Float64Array(32)
const shifted = new Float64Array(32)
/** make_qkx2_quants returns a scale and writes a min; the min comes back through here. */
let searchMin = 0

/**
 * make_qkx2_quants: fit x ≈ scale·l + min (min ≤ 0, l in 0..nmax) over `n` elements at `at` with weights
 * `weights`, writing l into `levels` at `lAt`. Starts from the min/max grid, then tries nstep+1 grids
 * (rmin + rdelta·is + nmax)/(max-min); for each it solves the weighted least squares for scale and min and
 * keeps the one with the smallest weighted squared error. Returns the scale; `searchMin` gets -min.
 */
function makeQkx2Quants(n: number, nmax: number, x: Float32Array, at: number, lAt: number, rmin: number, rdelta: number, nstep: number): number {
  let min = x[at]!
  let max = min
  let sumW = weights[0]!
  let sumX = f(sumW * min)
  for (let i = 1; i < n; i++) {
    const v = x[at + i]!
    if (v < min) min = v
    if (v > max) max = v
    const w = weights[i]!
    sumW = f(sumW + w)
    sumX = f(sumX + f(w * v))
  }
  if (min > 0) min = 0
  if (max === min) {
    levels.fill(0, lAt, lAt + n)
    searchMin = -min
    return 0
  }
  for (let i = 0; i < n; i++) {
    values64[i] = x[at + i]!
    shifted[i] = f(values64[i]! - min)
  }
  let iscale = f(nmax / f(max - min))
  let scale = f(1 / iscale)
  let bestError = 0
  for (let i = 0; i < n; i++) {
    let l = nearestInt(f(iscale * shifted[i]!))
    l = l < 0 ? 0 : l > nmax ? nmax : l
    levels[lAt + i] = l
    const diff = f(f(f(scale * l) + min) - values64[i]!)
    bestError = f(bestError + f(weights[i]! * f(diff * diff)))
  }
  // A grid whose levels equal the previous grid's has the same sums, scale, min and error, so it cannot
  // beat the best (it either became the best or lost to it): skip it.
  let haveTrial = false
  for (let is = 0; is <= nstep; is++) {
    // `min` moves when a grid wins, and later grids start from it, as in the reference.
    iscale = f(f(f(rmin + f(rdelta * is)) + nmax) / f(max - min))
    let changed = !haveTrial
    for (let i = 0; i < n; i++) {
      // nearest_int then clamp to 0..nmax, without the float32 round trip: v + 0.5 is exact for a float32
      // v, truncation rounds half up, and an exact tie (t is whole) goes back down when odd. Negative v
      // ends at or below 0, which the clamp makes 0 as before.
      const t = f(iscale * shifted[i]!) + 0.5
      let l = t | 0
      if (l === t && (l & 1) === 1) l--
      l = l < 0 ? 0 : l > nmax ? nmax : l
      if (trialLevels[i] !== l) {
        trialLevels[i] = l
        changed = true
      }
    }
    haveTrial = true
    if (!changed) continue
    let sumL = 0
    let sumL2 = 0
    let sumXL = 0
    for (let i = 0; i < n; i++) {
      const l = trialLevels[i]!
      const wl = f(weights[i]! * l)
      sumL = f(sumL + wl)
      sumL2 = f(sumL2 + f(wl * l))
      sumXL = f(sumXL + f(wl * values64[i]!))
    }
    const det = f(f(sumW * sumL2) - f(sumL * sumL))
    if (!(det > 0)) continue
    let thisScale = f(f(f(sumW * sumXL) - f(sumX * sumL)) / det)
    let thisMin = f(f(f(sumL2 * sumX) - f(sumL * sumXL)) / det)
    if (thisMin > 0) {
      thisMin = 0
      thisScale = f(sumXL / sumL2)
    }
    // The reference sums the error in float32, one rounding per step. That serial chain is slow in JS, so
    // sum the same float32 terms in double first: with n non-negative terms the float32 sum is within
    // n·2^-24 (relative) of the double one, so only a sum near the best needs the exact float32 pass.
    let errorEstimate = 0
    const reject = bestError * (1 + n * 2 ** -23)
    let i = 0
    for (; i < n && errorEstimate <= reject; i++) {
      const diff = f(f(f(thisScale * trialLevels[i]!) + thisMin) - values64[i]!)
      errorEstimate += f(weights[i]! * f(diff * diff))
    }
    if (i < n || errorEstimate > reject) continue
    let error = 0
    for (i = 0; i < n; i++) {
      const diff = f(f(f(thisScale * trialLevels[i]!) + thisMin) - values64[i]!)
      error = f(error + f(weights[i]! * f(diff * diff)))
    }
    if (error < bestError) {
      levels.set(trialLevels.subarray(0, n), lAt)
      bestError = error
      scale = thisScale
      if (thisMin !== min) {
        min = thisMin
        for (let k = 0; k < n; k++) shifted[k] = f(values64[k]! - min)
      }
    }
  }
  searchMin = -min
  return scale
}

/**
 * block_q4_K (d, dmin, scales[12], qs[128]) and block_q5_K (d, dmin, scales[12], qh[32], qs[128]):
 * eight 32-element sub-blocks, each x ≈ d·sc·q - dmin·m with 6-bit sc and m packed as get_scale_min_k4
 * reads them. quantize_row_q4_K_ref / quantize_row_q5_K_ref.
 */
function quantizeBlockQ45_K(x: Float32Array, at: number, y: Uint8Array, o: number, fiveBit: boolean): void {
  const nmax = fiveBit ? 31 : 15
  let maxScale = 0
  let maxMin = 0
  for (let j = 0; j < 8; j++) {
    const sub = at + 32 * j
    let sumX2 = 0
    for (let l = 0; l < 32; l++) {
      const v = x[sub + l]!
      sumX2 = f(sumX2 + f(v * v))
    }
    const avX = f(Math.sqrt(f(sumX2 / 32)))
    for (let l = 0; l < 32; l++) weights[l] = avX + Math.abs(x[sub + l]!)
    const scale = fiveBit ? makeQkx2Quants(32, 31, x, sub, 32 * j, -0.5, TENTH, 15) : makeQkx2Quants(32, 15, x, sub, 32 * j, -1, TENTH, 20)
    subScales[j] = scale
    subMins[j] = searchMin
    if (scale > maxScale) maxScale = scale
    if (searchMin > maxMin) maxMin = searchMin
  }

  const invScale = maxScale > 0 ? f(63 / maxScale) : 0
  const invMin = maxMin > 0 ? f(63 / maxMin) : 0
  const sc = o + 4
  for (let j = 0; j < 8; j++) {
    // (uint8_t) of the rounded value, as C stores it, then capped at 63.
    const ls = Math.min(63, nearestInt(f(invScale * subScales[j]!)) & 0xff)
    const lm = Math.min(63, nearestInt(f(invMin * subMins[j]!)) & 0xff)
    if (j < 4) {
      y[sc + j] = ls
      y[sc + j + 4] = lm
    } else {
      y[sc + j + 4] = (ls & 0x0f) | ((lm & 0x0f) << 4)
      y[sc + j - 4] = y[sc + j - 4]! | ((ls >>> 4) << 6)
      y[sc + j] = y[sc + j]! | ((lm >>> 4) << 6)
    }
  }
  writeHalf(y, o, f(maxScale / 63))
  writeHalf(y, o + 2, f(maxMin / 63))

  // Requantize every element against the scales as stored (rounded to 6 bits and F16).
  const half = float16Table()
  const d = half[y[o]! | (y[o + 1]! << 8)]!
  const dmin = half[y[o + 2]! | (y[o + 3]! << 8)]!
  for (let j = 0; j < 8; j++) {
    const sm = scaleMinK4(y, sc, j)
    const dj = f(d * (sm & 0xff))
    if (!dj) continue // keep the search's levels, as the reference does
    const mj = f(dmin * (sm >>> 8))
    const sub = at + 32 * j
    for (let l = 0; l < 32; l++) {
      levels[32 * j + l] = Math.max(0, Math.min(nmax, nearestInt(f(f(x[sub + l]! + mj) / dj))))
    }
  }

  if (!fiveBit) {
    const qs = o + 16
    for (let i = 0; i < 4; i++) {
      for (let l = 0; l < 32; l++) y[qs + 32 * i + l] = levels[64 * i + l]! | (levels[64 * i + 32 + l]! << 4)
    }
    return
  }
  // Fifth bits: for run i of 64 elements, bit 2i of qh[l] belongs to element 64i+l, bit 2i+1 to 64i+32+l.
  const qh = o + 16
  const qs = o + 48
  for (let l = 0; l < 32; l++) {
    let high = 0
    for (let i = 0; i < 4; i++) {
      const l1 = levels[64 * i + l]!
      const l2 = levels[64 * i + 32 + l]!
      high |= ((l1 >>> 4) << (2 * i)) | ((l2 >>> 4) << (2 * i + 1))
      y[qs + 32 * i + l] = (l1 & 0x0f) | ((l2 & 0x0f) << 4)
    }
    y[qh + l] = high
  }
}

/**
 * make_qx_quants with rmse_type 1 and no importance weights: symmetric levels l in -nmax..nmax-1 (stored
 * as l+nmax in `levels`) for `n` elements, weights x². Starts at iscale = -nmax/max, then tries
 * -(nmax + 0.1·is)/max for is in ±1..9 and keeps the one with the best weighted least-squares fit. Returns
 * the scale.
 */
function makeQxQuants(n: number, nmax: number, x: Float32Array, at: number, lAt: number): number {
  let max = 0
  let amax = 0
  for (let i = 0; i < n; i++) {
    const v = x[at + i]!
    if (Math.abs(v) > amax) {
      amax = Math.abs(v)
      max = v
    }
  }
  if (amax < GROUP_MAX_EPS) {
    levels.fill(0, lAt, lAt + n)
    return 0
  }
  let iscale = f(-nmax / max)
  let sumLX = 0
  let sumL2 = 0
  for (let i = 0; i < n; i++) {
    const v = x[at + i]!
    const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(f(iscale * v))))
    levels[lAt + i] = l + nmax
    const w = f(v * v)
    sumLX = f(sumLX + f(f(w * v) * l))
    sumL2 = f(sumL2 + f(f(w * l) * l))
  }
  let scale = sumL2 ? f(sumLX / sumL2) : 0
  let best = f(scale * sumLX)
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue
    iscale = f(-f(nmax + f(TENTH * is)) / max)
    sumLX = 0
    sumL2 = 0
    for (let i = 0; i < n; i++) {
      const v = x[at + i]!
      const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(f(iscale * v))))
      const w = f(v * v)
      sumLX = f(sumLX + f(f(w * v) * l))
      sumL2 = f(sumL2 + f(f(w * l) * l))
    }
    if (sumL2 > 0 && f(sumLX * sumLX) > f(best * sumL2)) {
      for (let i = 0; i < n; i++) {
        levels[lAt + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, nearestInt(f(iscale * x[at + i]!))))
      }
      scale = f(sumLX / sumL2)
      best = f(scale * sumLX)
    }
  }
  return scale
}

/**
 * block_q6_K (ql[128], qh[64], scales[16] int8, d): sixteen 16-element groups, x ≈ d·sc·(q-32) with 8-bit
 * signed sc and 6-bit q. quantize_row_q6_K_ref.
 */
function quantizeBlockQ6_K(x: Float32Array, at: number, y: Uint8Array, o: number): void {
  let maxScale = 0
  let maxAbsScale = 0
  for (let ib = 0; ib < 16; ib++) {
    const scale = makeQxQuants(16, 32, x, at + 16 * ib, 16 * ib)
    subScales[ib] = scale
    if (Math.abs(scale) > maxAbsScale) {
      maxAbsScale = Math.abs(scale)
      maxScale = scale
    }
  }
  if (maxAbsScale < GROUP_MAX_EPS) {
    y.fill(0, o, o + 210)
    return
  }
  const iscale = f(-128 / maxScale)
  writeHalf(y, o + 208, f(1 / iscale))
  const sc = o + 192
  for (let ib = 0; ib < 16; ib++) y[sc + ib] = Math.min(127, nearestInt(f(iscale * subScales[ib]!))) & 0xff

  const d = float16Table()[y[o + 208]! | (y[o + 209]! << 8)]!
  for (let j = 0; j < 16; j++) {
    const dj = f(d * ((y[sc + j]! << 24) >> 24))
    if (!dj) continue
    const group = at + 16 * j
    for (let i = 0; i < 16; i++) levels[16 * j + i] = 32 + Math.max(-32, Math.min(31, nearestInt(f(x[group + i]! / dj))))
  }

  for (let n = 0; n < 2; n++) {
    const ql = o + 64 * n
    const qh = o + 128 + 32 * n
    const base = 128 * n
    for (let l = 0; l < 32; l++) {
      const l1 = levels[base + l]!
      const l2 = levels[base + l + 32]!
      const l3 = levels[base + l + 64]!
      const l4 = levels[base + l + 96]!
      y[ql + l] = (l1 & 0x0f) | ((l3 & 0x0f) << 4)
      y[ql + l + 32] = (l2 & 0x0f) | ((l4 & 0x0f) << 4)
      y[qh + l] = (l1 >>> 4) | ((l2 >>> 4) << 2) | ((l3 >>> 4) << 4) | ((l4 >>> 4) << 6)
    }
  }
}
