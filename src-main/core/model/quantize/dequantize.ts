import { LecternError } from '../../../shared/errors.js'
import { ggmlType, type GgmlTypeName } from '../tensorTypes.js'
import { float16Table, halfBytesToFloat32 } from './halfFloat.js'

/**
 * GGML tensor data to float32, block by block as llama.cpp's reference `dequantize_row_*`
 * (ggml/src/ggml-quants.c) reads the structs of ggml/src/ggml-common.h. All fields are little-endian.
 *
 * Results equal ggml's float32 arithmetic bit for bit: every product of a scale and a quant is exact in
 * float32 (at most 25 significant bits fit a double exactly, and the one rounding happens on the store),
 * and a single add in double then rounded to float32 is the correctly rounded float32 add.
 */
export const DEQUANTIZE_TYPES = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q4_K', 'Q5_K', 'Q6_K'] as const

export type DequantizableType = (typeof DEQUANTIZE_TYPES)[number]

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * Decodes `elementCount` elements of type `typeName` from `bytes`, which must be exactly that many
 * elements' worth of blocks. Writes into `out` when given (it must hold at least `elementCount` floats)
 * and returns the `elementCount` floats written.
 */
export function dequantize(typeName: GgmlTypeName, bytes: Uint8Array, elementCount: number, out?: Float32Array): Float32Array {
  if (!(DEQUANTIZE_TYPES as readonly string[]).includes(typeName)) {
    throw new LecternError('unsupported_model', `cannot dequantize ${typeName} tensors (supported: ${DEQUANTIZE_TYPES.join(', ')})`)
  }
  const type = ggmlType(typeName)
  if (!Number.isSafeInteger(elementCount) || elementCount < 0 || elementCount % type.blockSize !== 0) {
    throw new LecternError('invalid_argument', `cannot dequantize ${elementCount} ${typeName} elements: not a whole number of ${type.blockSize}-element blocks`)
  }
  const expectedBytes = (elementCount / type.blockSize) * type.blockBytes
  if (bytes.length !== expectedBytes) {
    throw new LecternError(
      'invalid_argument',
      `${typeName} data for ${elementCount} elements must be ${expectedBytes} bytes (${elementCount / type.blockSize} blocks of ${type.blockBytes}), got ${bytes.length}`,
    )
  }
  if (out && out.length < elementCount) {
    throw new LecternError('invalid_argument', `output holds ${out.length} floats, ${elementCount} needed`)
  }
  const y = !out ? new Float32Array(elementCount) : out.length === elementCount ? out : out.subarray(0, elementCount)
  const blocks = elementCount / type.blockSize
  switch (typeName as DequantizableType) {
    case 'F32':
      copyF32(bytes, y)
      break
    case 'F16':
    case 'BF16':
      halfBytesToFloat32(typeName as 'F16' | 'BF16', bytes, elementCount, y)
      break
    case 'Q8_0':
      dequantizeQ8_0(bytes, blocks, y)
      break
    case 'Q4_0':
      dequantizeQ4_0(bytes, blocks, y)
      break
    case 'Q4_1':
      dequantizeQ4_1(bytes, blocks, y)
      break
    case 'Q5_0':
      dequantizeQ5(bytes, blocks, y, false)
      break
    case 'Q5_1':
      dequantizeQ5(bytes, blocks, y, true)
      break
    case 'Q4_K':
      dequantizeQ4_K(bytes, blocks, y)
      break
    case 'Q5_K':
      dequantizeQ5_K(bytes, blocks, y)
      break
    case 'Q6_K':
      dequantizeQ6_K(bytes, blocks, y)
      break
  }
  return y
}

function copyF32(bytes: Uint8Array, y: Float32Array): void {
  if (LITTLE_ENDIAN_HOST) {
    // A byte copy into the output's memory works whatever the alignment of `bytes`.
    new Uint8Array(y.buffer, y.byteOffset, bytes.length).set(bytes)
    return
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < y.length; i++) y[i] = view.getFloat32(4 * i, true)
}

/** block_q8_0 (34 bytes): d (f16), qs[32] (int8). x = d·q. */
function dequantizeQ8_0(bytes: Uint8Array, blocks: number, y: Float32Array): void {
  const half = float16Table()
  for (let b = 0, o = 0, e = 0; b < blocks; b++, o += 34, e += 32) {
    const d = half[bytes[o]! | (bytes[o + 1]! << 8)]!
    for (let j = 0; j < 32; j++) y[e + j] = ((bytes[o + 2 + j]! << 24) >> 24) * d
  }
}

/** block_q4_0 (18 bytes): d (f16), qs[16]; element j is the low nibble of qs[j], element j+16 the high one. x = d·(q-8). */
function dequantizeQ4_0(bytes: Uint8Array, blocks: number, y: Float32Array): void {
  const half = float16Table()
  for (let b = 0, o = 0, e = 0; b < blocks; b++, o += 18, e += 32) {
    const d = half[bytes[o]! | (bytes[o + 1]! << 8)]!
    for (let j = 0; j < 16; j++) {
      const q = bytes[o + 2 + j]!
      y[e + j] = ((q & 0x0f) - 8) * d
      y[e + j + 16] = ((q >>> 4) - 8) * d
    }
  }
}

/** block_q4_1 (20 bytes): d (f16), m (f16), qs[16] as in Q4_0. x = d·q + m. */
function dequantizeQ4_1(bytes: Uint8Array, blocks: number, y: Float32Array): void {
  const half = float16Table()
  for (let b = 0, o = 0, e = 0; b < blocks; b++, o += 20, e += 32) {
    const d = half[bytes[o]! | (bytes[o + 1]! << 8)]!
    const m = half[bytes[o + 2]! | (bytes[o + 3]! << 8)]!
    for (let j = 0; j < 16; j++) {
      const q = bytes[o + 4 + j]!
      y[e + j] = (q & 0x0f) * d + m
      y[e + j + 16] = (q >>> 4) * d + m
    }
  }
}

/**
 * block_q5_0 (22 bytes): d, qh (u32), qs[16]; block_q5_1 (24 bytes): d, m, qh, qs[16]. Bit j of qh is the
 * fifth bit of element j (j < 32). Q5_0: x = d·(q-16); Q5_1: x = d·q + m.
 */
function dequantizeQ5(bytes: Uint8Array, blocks: number, y: Float32Array, withMin: boolean): void {
  const half = float16Table()
  const blockBytes = withMin ? 24 : 22
  const qhAt = withMin ? 4 : 2
  for (let b = 0, o = 0, e = 0; b < blocks; b++, o += blockBytes, e += 32) {
    const d = half[bytes[o]! | (bytes[o + 1]! << 8)]!
    const m = withMin ? half[bytes[o + 2]! | (bytes[o + 3]! << 8)]! : 0
    const offset = withMin ? 0 : -16
    const qh = (bytes[o + qhAt]! | (bytes[o + qhAt + 1]! << 8) | (bytes[o + qhAt + 2]! << 16) | (bytes[o + qhAt + 3]! << 24)) >>> 0
    const qs = o + qhAt + 4
    for (let j = 0; j < 16; j++) {
      const q = bytes[qs + j]!
      const q0 = ((q & 0x0f) | (((qh >>> j) & 1) << 4)) + offset
      const q1 = ((q >>> 4) | (((qh >>> (j + 16)) & 1) << 4)) + offset
      y[e + j] = withMin ? q0 * d + m : q0 * d
      y[e + j + 16] = withMin ? q1 * d + m : q1 * d
    }
  }
}

/**
 * The 6-bit scale and min of sub-block `j` (0..7) from the 12 packed bytes at `at` (get_scale_min_k4):
 * sub-blocks 0-3 keep scale and min in the low 6 bits of bytes j and j+4; sub-blocks 4-7 keep their low 4
 * bits in the nibbles of byte j+4 and their top 2 bits in the top bits of bytes j-4 (scale) and j (min).
 * Returns scale | min << 8.
 */
export function scaleMinK4(bytes: Uint8Array, at: number, j: number): number {
  if (j < 4) return (bytes[at + j]! & 63) | ((bytes[at + j + 4]! & 63) << 8)
  const scale = (bytes[at + j + 4]! & 0x0f) | ((bytes[at + j - 4]! >>> 6) << 4)
  const min = (bytes[at + j + 4]! >>> 4) | ((bytes[at + j]! >>> 6) << 4)
  return scale | (min << 8)
}

/**
 * block_q4_K (144 bytes): d (f16), dmin (f16), scales[12] (8 × 6-bit scale and min), qs[128]. Each run of
 * 64 elements takes 32 bytes of qs: low nibbles are the first 32 elements (sub-block 2i), high nibbles
 * the next 32 (sub-block 2i+1). x = d·scale·q - dmin·min.
 */
function dequantizeQ4_K(bytes: Uint8Array, blocks: number, y: Float32Array): void {
  const half = float16Table()
  for (let b = 0, o = 0, e = 0; b < blocks; b++, o += 144, e += 256) {
    const d = half[bytes[o]! | (bytes[o + 1]! << 8)]!
    const dmin = half[bytes[o + 2]! | (bytes[o + 3]! << 8)]!
    for (let i = 0; i < 4; i++) {
      const sm0 = scaleMinK4(bytes, o + 4, 2 * i)
      const sm1 = scaleMinK4(bytes, o + 4, 2 * i + 1)
      const d1 = d * (sm0 & 0xff)
      const m1 = dmin * (sm0 >>> 8)
      const d2 = d * (sm1 & 0xff)
      const m2 = dmin * (sm1 >>> 8)
      const qs = o + 16 + 32 * i
      const out = e + 64 * i
      for (let l = 0; l < 32; l++) {
        const q = bytes[qs + l]!
        y[out + l] = d1 * (q & 0x0f) - m1
        y[out + 32 + l] = d2 * (q >>> 4) - m2
      }
    }
  }
}

/**
 * block_q5_K (176 bytes): d, dmin, scales[12] as Q4_K, qh[32], qs[128]. Low 4 bits as in Q4_K; for run i
 * of 64 elements, bit 2i of qh[l] is the fifth bit of element 64i+l and bit 2i+1 that of element 64i+32+l.
 */
function dequantizeQ5_K(bytes: Uint8Array, blocks: number, y: Float32Array): void {
  const half = float16Table()
  for (let b = 0, o = 0, e = 0; b < blocks; b++, o += 176, e += 256) {
    const d = half[bytes[o]! | (bytes[o + 1]! << 8)]!
    const dmin = half[bytes[o + 2]! | (bytes[o + 3]! << 8)]!
    const qh = o + 16
    for (let i = 0; i < 4; i++) {
      const sm0 = scaleMinK4(bytes, o + 4, 2 * i)
      const sm1 = scaleMinK4(bytes, o + 4, 2 * i + 1)
      const d1 = d * (sm0 & 0xff)
      const m1 = dmin * (sm0 >>> 8)
      const d2 = d * (sm1 & 0xff)
      const m2 = dmin * (sm1 >>> 8)
      const qs = o + 48 + 32 * i
      const out = e + 64 * i
      for (let l = 0; l < 32; l++) {
        const q = bytes[qs + l]!
        const h = bytes[qh + l]! >>> (2 * i)
        y[out + l] = d1 * ((q & 0x0f) | ((h & 1) << 4)) - m1
        y[out + 32 + l] = d2 * ((q >>> 4) | ((h & 2) << 3)) - m2
      }
    }
  }
}

/**
 * block_q6_K (210 bytes): ql[128], qh[64], scales[16] (int8), d (f16). Each half of 128 elements uses 64
 * bytes of ql and 32 of qh; for l < 32 the four elements l, l+32, l+64, l+96 of the half take the low
 * nibble of ql[l], of ql[l+32], the high nibble of ql[l], of ql[l+32], and bit pairs 0-1, 2-3, 4-5, 6-7
 * of qh[l]. Every 16 elements share a scale. x = d·scale·(q-32).
 */
function dequantizeQ6_K(bytes: Uint8Array, blocks: number, y: Float32Array): void {
  const half = float16Table()
  for (let b = 0, o = 0, e = 0; b < blocks; b++, o += 210, e += 256) {
    const d = half[bytes[o + 208]! | (bytes[o + 209]! << 8)]!
    for (let n = 0; n < 2; n++) {
      const ql = o + 64 * n
      const qh = o + 128 + 32 * n
      const sc = o + 192 + 8 * n
      const out = e + 128 * n
      for (let l = 0; l < 32; l++) {
        const is = l >>> 4
        const low0 = bytes[ql + l]!
        const low1 = bytes[ql + l + 32]!
        const high = bytes[qh + l]!
        const q1 = ((low0 & 0x0f) | ((high & 3) << 4)) - 32
        const q2 = ((low1 & 0x0f) | (((high >>> 2) & 3) << 4)) - 32
        const q3 = ((low0 >>> 4) | (((high >>> 4) & 3) << 4)) - 32
        const q4 = ((low1 >>> 4) | (((high >>> 6) & 3) << 4)) - 32
        y[out + l] = d * ((bytes[sc + is]! << 24) >> 24) * q1
        y[out + l + 32] = d * ((bytes[sc + is + 2]! << 24) >> 24) * q2
        y[out + l + 64] = d * ((bytes[sc + is + 4]! << 24) >> 24) * q3
        y[out + l + 96] = d * ((bytes[sc + is + 6]! << 24) >> 24) * q4
      }
    }
  }
}
