import { describe, expect, it } from 'vitest'
import { dequantize } from '../../../../../src-main/core/model/quantize/dequantize.js'

// F16 bit patterns of exact powers of two and small integers, written out so the tests do not lean on
// our own converter.
const F16 = { '-3': 0xc200, '-2': 0xc000, '1/16': 0x2c00, '1/8': 0x3000, '1/4': 0x3400, '1/2': 0x3800, '1': 0x3c00 } as const

function half(bytes: Uint8Array, at: number, bits: number): void {
  bytes[at] = bits & 0xff
  bytes[at + 1] = bits >>> 8
}

/**
 * The 12 scale bytes of a Q4_K/Q5_K block, packed as llama.cpp's get_scale_min_k4 reads them: sub-blocks
 * 0-3 in the low 6 bits of bytes j (scale) and j+4 (min); sub-blocks 4-7 split into a low nibble in byte
 * j+4 (scale low, min high) and the top 2 bits in the top of bytes j-4 (scale) and j (min).
 */
function packScalesK4(scales: readonly number[], mins: readonly number[]): number[] {
  const out = new Array<number>(12).fill(0)
  for (let j = 0; j < 8; j++) {
    const s = scales[j]!
    const m = mins[j]!
    if (j < 4) {
      out[j] = out[j]! | s
      out[j + 4] = out[j + 4]! | m
    } else {
      out[j + 4] = (s & 15) | ((m & 15) << 4)
      out[j - 4] = out[j - 4]! | ((s >> 4) << 6)
      out[j] = out[j]! | ((m >> 4) << 6)
    }
  }
  return out
}

const K_SCALES = [1, 2, 3, 63, 16, 33, 47, 62]
const K_MINS = [0, 5, 10, 15, 20, 33, 48, 63]

describe('dequantize: 32-element blocks', () => {
  it('Q8_0: d·q with signed 8-bit q', () => {
    const bytes = new Uint8Array(2 * 34)
    half(bytes, 0, F16['1/2'])
    for (let j = 0; j < 32; j++) bytes[2 + j] = (8 * j - 128) & 0xff // q = -128, -120, ..., 120
    half(bytes, 34, F16['-2'])
    for (let j = 0; j < 32; j++) bytes[36 + j] = (j - 16) & 0xff
    const y = dequantize('Q8_0', bytes, 64)
    expect(Array.from(y.subarray(0, 32))).toEqual(Array.from({ length: 32 }, (_, j) => -64 + 4 * j))
    expect(Array.from(y.subarray(32))).toEqual(Array.from({ length: 32 }, (_, j) => -2 * (j - 16)))
  })

  it('Q4_0: low nibbles are elements 0-15, high nibbles 16-31, x = d·(q-8)', () => {
    const bytes = new Uint8Array(18)
    half(bytes, 0, F16['1/4'])
    for (let j = 0; j < 16; j++) bytes[2 + j] = j | ((15 - j) << 4)
    const y = dequantize('Q4_0', bytes, 32)
    for (let j = 0; j < 16; j++) {
      expect(y[j]).toBe((j - 8) * 0.25)
      expect(y[16 + j]).toBe((7 - j) * 0.25)
    }
  })

  it('Q4_1: x = d·q + m', () => {
    const bytes = new Uint8Array(20)
    half(bytes, 0, F16['1/2'])
    half(bytes, 2, F16['-3'])
    for (let j = 0; j < 16; j++) bytes[4 + j] = j | ((15 - j) << 4)
    const y = dequantize('Q4_1', bytes, 32)
    expect(y[0]).toBe(-3)
    expect(y[5]).toBe(-0.5)
    expect(y[16]).toBe(4.5)
    expect(y[31]).toBe(-3)
  })

  it('Q5_0: bit j of the little-endian qh word is the fifth bit of element j, x = d·(q-16)', () => {
    const bytes = new Uint8Array(22)
    half(bytes, 0, F16['1'])
    bytes.set([0x01, 0x00, 0x01, 0x80], 2) // qh = 0x80010001: elements 0, 16, 31
    bytes[6 + 0] = 0x0f // element 0 low = 15, element 16 high = 0
    bytes[6 + 15] = 0xf0 // element 15 low = 0, element 31 high = 15
    const y = dequantize('Q5_0', bytes, 32)
    expect(y[0]).toBe(15) // 31 - 16
    expect(y[16]).toBe(0) // 16 - 16
    expect(y[31]).toBe(15)
    expect(y[15]).toBe(-16)
    expect(y[1]).toBe(-16)
  })

  it('Q5_1: x = d·q + m with the fifth bit from qh', () => {
    const bytes = new Uint8Array(24)
    half(bytes, 0, F16['1/2'])
    half(bytes, 2, F16['1'])
    bytes.set([0xff, 0xff, 0xff, 0xff], 4)
    bytes[8 + 3] = 0x5a
    const y = dequantize('Q5_1', bytes, 32)
    expect(y[3]).toBe(26 * 0.5 + 1) // 0xa | 16
    expect(y[19]).toBe(21 * 0.5 + 1) // 0x5 | 16
    expect(y[0]).toBe(16 * 0.5 + 1)
  })
})

describe('dequantize: K-quants', () => {
  it('packs 6-bit scales and mins the way get_scale_min_k4 reads them (checked by hand)', () => {
    expect(packScalesK4(K_SCALES, K_MINS)).toEqual([0x41, 0x82, 0x83, 0xff, 0x40, 0x85, 0xca, 0xcf, 0x40, 0x11, 0x0f, 0xfe])
  })

  /** A Q4_K (or, with fifth bits, Q5_K) block whose element e holds quant q(e), built from the layout. */
  function kBlock(fiveBit: boolean, q: (e: number) => number): Uint8Array {
    const bytes = new Uint8Array(fiveBit ? 176 : 144)
    half(bytes, 0, F16['1/16'])
    half(bytes, 2, F16['1/8'])
    bytes.set(packScalesK4(K_SCALES, K_MINS), 4)
    const qs = fiveBit ? 48 : 16
    for (let e = 0; e < 256; e++) {
      const run = e >> 6
      const r = e & 63
      const byte = qs + 32 * run + (r & 31)
      bytes[byte] = bytes[byte]! | ((q(e) & 15) << (r < 32 ? 0 : 4))
      if (fiveBit && q(e) > 15) bytes[16 + (r & 31)] = bytes[16 + (r & 31)]! | (1 << (2 * run + (r < 32 ? 0 : 1)))
    }
    return bytes
  }

  it('Q4_K: x = d·scale·q - dmin·min per 32-element sub-block', () => {
    const q = (e: number): number => (e * 7) & 15
    const y = dequantize('Q4_K', kBlock(false, q), 256)
    const expected = Float32Array.from({ length: 256 }, (_, e) => (1 / 16) * K_SCALES[e >> 5]! * q(e) - (1 / 8) * K_MINS[e >> 5]!)
    expect(y).toEqual(expected)
    expect(y[200]).toBe(17.5) // sub-block 6: 47/16·8 - 48/8
  })

  it('Q5_K: the fifth bit of run i sits in bits 2i / 2i+1 of qh', () => {
    const q = (e: number): number => (e * 11) & 31
    const y = dequantize('Q5_K', kBlock(true, q), 256)
    const expected = Float32Array.from({ length: 256 }, (_, e) => (1 / 16) * K_SCALES[e >> 5]! * q(e) - (1 / 8) * K_MINS[e >> 5]!)
    expect(y).toEqual(expected)
    expect(y[255]).toBe(73.5) // 62/16·21 - 63/8
  })

  it('Q6_K: ql/qh element order and signed 8-bit scales per 16 elements', () => {
    const q = (e: number): number => (e * 13 + 5) & 63
    const scale = (g: number): number => g * 9 - 70
    const bytes = new Uint8Array(2 * 210)
    for (let b = 0; b < 2; b++) {
      const o = 210 * b
      for (let e = 0; e < 256; e++) {
        const halfIndex = e >> 7
        const r = e & 127
        const quarter = r >> 5
        const l = r & 31
        const ql = o + 64 * halfIndex + l + (quarter & 1 ? 32 : 0)
        bytes[ql] = bytes[ql]! | ((q(e) & 15) << (quarter >= 2 ? 4 : 0))
        const qh = o + 128 + 32 * halfIndex + l
        bytes[qh] = bytes[qh]! | ((q(e) >> 4) << (2 * quarter))
      }
      for (let g = 0; g < 16; g++) bytes[o + 192 + g] = scale(g) & 0xff
      half(bytes, o + 208, b === 0 ? F16['1/4'] : F16['-2'])
    }
    const y = dequantize('Q6_K', bytes, 512)
    const expected = Float32Array.from({ length: 512 }, (_, i) => (i < 256 ? 0.25 : -2) * scale((i & 255) >> 4) * (q(i & 255) - 32))
    expect(y).toEqual(expected)
    expect(y[77]).toBe(-119) // 0.25 · -34 · (46 - 32)
    expect(y[200]).toBe(123.5) // 0.25 · 38 · (45 - 32)
  })
})

describe('dequantize: plain floats', () => {
  it('F32 from unaligned bytes, F16 and BF16 little-endian', () => {
    const f32 = new Uint8Array(9)
    new DataView(f32.buffer).setFloat32(1, -1.5, true)
    new DataView(f32.buffer).setFloat32(5, 1e-3, true)
    expect(Array.from(dequantize('F32', f32.subarray(1), 2))).toEqual([-1.5, Math.fround(1e-3)])
    expect(Array.from(dequantize('F16', Uint8Array.of(0x00, 0x3c, 0x00, 0xc0), 2))).toEqual([1, -2])
    expect(Array.from(dequantize('BF16', Uint8Array.of(0x80, 0x3f, 0x40, 0xc0), 2))).toEqual([1, -3])
  })
})

describe('dequantize: arguments', () => {
  it('says what size the data should have been', () => {
    expect(() => dequantize('Q4_K', new Uint8Array(143), 256)).toThrow('Q4_K data for 256 elements must be 144 bytes (1 blocks of 144), got 143')
    expect(() => dequantize('F16', new Uint8Array(6), 4)).toThrow(/must be 8 bytes/)
    expect(() => dequantize('Q8_0', new Uint8Array(34), 33)).toThrow(/not a whole number of 32-element blocks/)
  })

  it('refuses types it cannot read', () => {
    expect(() => dequantize('Q2_K', new Uint8Array(84), 256)).toThrow(/cannot dequantize Q2_K tensors \(supported: F32, F16, BF16, Q8_0/)
  })

  it('writes into a given output and returns the filled part', () => {
    const out = new Float32Array(40).fill(7)
    const bytes = new Uint8Array(34)
    half(bytes, 0, F16['1'])
    bytes[2] = 3
    const y = dequantize('Q8_0', bytes, 32, out)
    expect(y.buffer).toBe(out.buffer)
    expect(y.length).toBe(32)
    expect(out[0]).toBe(3)
    expect(out[32]).toBe(7)
    expect(() => dequantize('Q8_0', bytes, 32, new Float32Array(31))).toThrow(/output holds 31 floats, 32 needed/)
  })
})
