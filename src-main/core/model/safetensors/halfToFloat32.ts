/**
 * Widens little-endian 16-bit floats to float32, bit-exactly: every F16 and BF16 value (subnormals, ±0,
 * ±inf, NaN payloads) has one float32 that holds it, and the result is built from bits so no NaN is
 * canonicalised on the way.
 */
export function halfToFloat32(bytes: Uint8Array, kind: 'F16' | 'BF16'): Float32Array {
  const count = bytes.length >>> 1
  const out = new Uint32Array(count)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (kind === 'BF16') {
    // bfloat16 is the top half of a float32.
    for (let i = 0; i < count; i++) out[i] = view.getUint16(2 * i, true) << 16
  } else {
    const table = f16Table()
    for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, true)]!
  }
  return new Float32Array(out.buffer)
}

let table: Uint32Array | undefined

/** float32 bits for each of the 65536 F16 bit patterns (256 KiB, built once). */
function f16Table(): Uint32Array {
  if (!table) {
    table = new Uint32Array(1 << 16)
    for (let h = 0; h < 1 << 16; h++) table[h] = f16ToF32Bits(h)
  }
  return table
}

/** IEEE 754 binary16 (1 sign, 5 exponent with bias 15, 10 mantissa bits) to binary32 bits (bias 127). */
function f16ToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16
  const exponent = (h >>> 10) & 0x1f
  let mantissa = h & 0x3ff
  if (exponent === 0x1f) return sign | 0x7f800000 | (mantissa << 13)
  if (exponent !== 0) return sign | ((exponent - 15 + 127) << 23) | (mantissa << 13)
  if (mantissa === 0) return sign
  // Subnormal: mantissa · 2^-24. Shift until the implicit bit appears, lowering the exponent as we go.
  let biased = 1 - 15 + 127
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1
    biased--
  }
  return sign | (biased << 23) | ((mantissa & 0x3ff) << 13)
}
