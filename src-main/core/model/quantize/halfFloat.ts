/**
 * float32 <-> IEEE binary16 (F16) and bfloat16 (BF16), bit-exactly as ggml converts them
 * (ggml/src/ggml-impl.h: `ggml_compute_fp32_to_fp16`, `ggml_compute_fp32_to_bf16`).
 *
 * - F16: round to nearest, ties to even, with subnormals; values from 65520 up become infinity;
 *   every NaN becomes the quiet NaN 0x7e00 with its sign kept (ggml's portable path does this).
 * - BF16: the top half of the float32 bits, rounded to nearest even; a NaN keeps its top payload bits
 *   and is forced quiet (bit 6 set), so it never turns into infinity.
 *
 * Array versions write little-endian bytes, as GGUF stores them.
 */

const scratchFloat = new Float32Array(1)
const scratchBits = new Uint32Array(scratchFloat.buffer)

/** The float32 bit pattern of `value` (rounded to float32 first). */
export function float32Bits(value: number): number {
  scratchFloat[0] = value
  return scratchBits[0]!
}

/** The float32 whose bits are `bits`. */
export function float32FromBits(bits: number): number {
  scratchBits[0] = bits >>> 0
  return scratchFloat[0]!
}

/** F16 bits of a float32 given by its bits. */
function f16FromF32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000
  const abs = bits & 0x7fffffff
  if (abs > 0x7f800000) return sign | 0x7e00 // NaN
  // 65520 (0x477ff000) is the midpoint between 65504, the largest F16, and 65536, which F16 cannot hold:
  // ties go to the even neighbour, infinity.
  if (abs >= 0x477ff000) return sign | 0x7c00
  if (abs >= 0x38800000) {
    // Normal in F16: move the exponent bias from 127 to 15, then drop 13 mantissa bits rounding to
    // nearest even. A carry out of the mantissa correctly bumps the exponent.
    const rebiased = abs - 0x38000000
    return sign | ((rebiased + 0xfff + ((rebiased >>> 13) & 1)) >>> 13)
  }
  // Subnormal in F16 (units of 2^-24), or zero. At most 2^-25 (a tie with 0, which is even) gives zero.
  if (abs <= 0x33000000) return sign
  const exponent = abs >>> 23
  const mantissa = (abs & 0x7fffff) | 0x800000 // value = mantissa · 2^(exponent - 150)
  const shift = 126 - exponent // 14..24: value / 2^-24 = mantissa >> shift
  let units = mantissa >>> shift
  const rest = mantissa & ((1 << shift) - 1)
  const half = 1 << (shift - 1)
  if (rest > half || (rest === half && (units & 1) === 1)) units++ // may reach 0x400, the smallest normal
  return sign | units
}

/** F16 bits (0..0xffff) of `value`, rounded to nearest even as ggml does. */
export function float32ToFloat16Bits(value: number): number {
  return f16FromF32Bits(float32Bits(value))
}

/** float32 bits of an F16 (IEEE binary16: 1 sign, 5 exponent with bias 15, 10 mantissa bits). */
function f32BitsFromF16(h: number): number {
  const sign = (h & 0x8000) << 16
  const exponent = (h >>> 10) & 0x1f
  let mantissa = h & 0x3ff
  if (exponent === 0x1f) {
    // Infinity, or a NaN with its payload, made quiet as ggml's conversion (and F16C hardware) does.
    return (sign | 0x7f800000 | (mantissa === 0 ? 0 : 0x400000) | (mantissa << 13)) >>> 0
  }
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0
  if (mantissa === 0) return sign >>> 0
  // Subnormal: mantissa · 2^-24. Shift until the implicit bit appears, lowering the exponent as we go.
  let biased = 113
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1
    biased--
  }
  return (sign | (biased << 23) | ((mantissa & 0x3ff) << 13)) >>> 0
}

let f16Table: Float32Array | undefined

/** The float32 value of each of the 65536 F16 bit patterns (256 KiB, built on first use). */
export function float16Table(): Float32Array {
  if (!f16Table) {
    const bits = new Uint32Array(1 << 16)
    for (let h = 0; h < 1 << 16; h++) bits[h] = f32BitsFromF16(h)
    f16Table = new Float32Array(bits.buffer)
  }
  return f16Table
}

/** The value of F16 bits `bits`. (A NaN's payload survives only in the array versions, which copy bits.) */
export function float16BitsToFloat32(bits: number): number {
  return float16Table()[bits & 0xffff]!
}

/** BF16 bits of `value`: ggml_compute_fp32_to_bf16 (round to nearest even, NaN forced quiet). */
export function float32ToBfloat16Bits(value: number): number {
  return bf16FromF32Bits(float32Bits(value))
}

function bf16FromF32Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 64
  // Cannot overflow 32 bits: the largest non-NaN pattern, 0xff800000, plus 0x8000 still fits.
  return ((bits >>> 0) + 0x7fff + ((bits >>> 16) & 1)) >>> 16
}

/** The value of BF16 bits `bits` (the top half of a float32). */
export function bfloat16BitsToFloat32(bits: number): number {
  return float32FromBits((bits & 0xffff) << 16)
}

function checkOut(out: Uint8Array | undefined, byteLength: number, what: string): Uint8Array {
  if (!out) return new Uint8Array(byteLength)
  if (out.length < byteLength) throw new RangeError(`${what}: output holds ${out.length} bytes, needs ${byteLength}`)
  return out
}

/** Writes `values` as little-endian F16 into `out` (allocated when not given); returns the bytes written. */
export function float32ArrayToFloat16Bytes(values: Float32Array, out?: Uint8Array): Uint8Array {
  const count = values.length
  const bytes = checkOut(out, 2 * count, 'F16 conversion')
  const bits = new Uint32Array(values.buffer, values.byteOffset, count)
  for (let i = 0, o = 0; i < count; i++, o += 2) {
    const h = f16FromF32Bits(bits[i]!)
    bytes[o] = h & 0xff
    bytes[o + 1] = h >>> 8
  }
  return bytes.length === 2 * count ? bytes : bytes.subarray(0, 2 * count)
}

/** Writes `values` as little-endian BF16 into `out` (allocated when not given); returns the bytes written. */
export function float32ArrayToBfloat16Bytes(values: Float32Array, out?: Uint8Array): Uint8Array {
  const count = values.length
  const bytes = checkOut(out, 2 * count, 'BF16 conversion')
  const bits = new Uint32Array(values.buffer, values.byteOffset, count)
  for (let i = 0, o = 0; i < count; i++, o += 2) {
    const h = bf16FromF32Bits(bits[i]!)
    bytes[o] = h & 0xff
    bytes[o + 1] = h >>> 8
  }
  return bytes.length === 2 * count ? bytes : bytes.subarray(0, 2 * count)
}

/**
 * Widens `count` little-endian F16 or BF16 values from `bytes` into `out`, by bits as ggml does: NaN
 * payloads survive (an F16 signalling NaN comes out quiet, as in ggml).
 * `out` must hold at least `count` floats.
 */
export function halfBytesToFloat32(kind: 'F16' | 'BF16', bytes: Uint8Array, count: number, out: Float32Array): void {
  const outBits = new Uint32Array(out.buffer, out.byteOffset, count)
  if (kind === 'BF16') {
    for (let i = 0, o = 0; i < count; i++, o += 2) outBits[i] = ((bytes[o]! | (bytes[o + 1]! << 8)) << 16) >>> 0
    return
  }
  const table = new Uint32Array(float16Table().buffer)
  for (let i = 0, o = 0; i < count; i++, o += 2) outBits[i] = table[bytes[o]! | (bytes[o + 1]! << 8)]!
}
