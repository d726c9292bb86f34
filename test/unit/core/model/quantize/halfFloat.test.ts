import { describe, expect, it } from 'vitest'
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ArrayToBfloat16Bytes,
  float32ArrayToFloat16Bytes,
  float32Bits,
  float32FromBits,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  halfBytesToFloat32,
} from '../../../../../src-main/core/model/quantize/halfFloat.js'
import { seededGaussian } from './seededValues.js'

const hex = (n: number): string => '0x' + n.toString(16).padStart(4, '0')

describe('float32ToFloat16Bits', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [0.1, 0x2e66],
    [65504, 0x7bff],
    [65519, 0x7bff],
    [-0, 0x8000],
    [0, 0x0000],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
  ])('%d -> %s', (value, bits) => {
    expect(hex(float32ToFloat16Bits(value))).toBe(hex(bits))
  })

  it('overflows to infinity from the midpoint 65520 up, ties going to the even infinity', () => {
    expect(hex(float32ToFloat16Bits(65520))).toBe('0x7c00')
    expect(hex(float32ToFloat16Bits(float32FromBits(0x477fefff)))).toBe('0x7bff') // just below 65520
    expect(hex(float32ToFloat16Bits(1e10))).toBe('0x7c00')
    expect(hex(float32ToFloat16Bits(-1e10))).toBe('0xfc00')
    expect(hex(float32ToFloat16Bits(Infinity))).toBe('0x7c00')
    expect(hex(float32ToFloat16Bits(-Infinity))).toBe('0xfc00')
  })

  it('makes every NaN the quiet NaN 0x7e00, keeping the sign (ggml_compute_fp32_to_fp16)', () => {
    expect(hex(float32ToFloat16Bits(NaN))).toBe('0x7e00')
    expect(hex(float32ToFloat16Bits(float32FromBits(0x7f800001)))).toBe('0x7e00') // signalling
    expect(hex(float32ToFloat16Bits(float32FromBits(0xffc00123)))).toBe('0xfe00')
  })

  it('rounds ties to even in the normal range', () => {
    expect(hex(float32ToFloat16Bits(1 + 2 ** -11))).toBe('0x3c00') // halfway 0x3c00/0x3c01
    expect(hex(float32ToFloat16Bits(1 + 3 * 2 ** -11))).toBe('0x3c02') // halfway 0x3c01/0x3c02
    expect(hex(float32ToFloat16Bits(1 + 2 ** -11 + 2 ** -20))).toBe('0x3c01') // just above halfway
    expect(hex(float32ToFloat16Bits(2049))).toBe('0x6800') // spacing 2 at 2048: tie to 2048
    expect(hex(float32ToFloat16Bits(2051))).toBe('0x6802') // tie to 2052
    expect(hex(float32ToFloat16Bits(1 + 2 ** -10 - 2 ** -23))).toBe('0x3c01')
  })

  it('rounds ties to even among subnormals and into the first normal', () => {
    expect(hex(float32ToFloat16Bits(2 ** -25))).toBe('0x0000') // halfway 0/1: 0 is even
    expect(hex(float32ToFloat16Bits(float32FromBits(0x33000001)))).toBe('0x0001') // just above 2^-25
    expect(hex(float32ToFloat16Bits(-(2 ** -25)))).toBe('0x8000')
    expect(hex(float32ToFloat16Bits(3 * 2 ** -25))).toBe('0x0002') // 1.5 units
    expect(hex(float32ToFloat16Bits(5 * 2 ** -25))).toBe('0x0002') // 2.5 units
    expect(hex(float32ToFloat16Bits(1023.5 * 2 ** -24))).toBe('0x0400') // 0x3ff is odd: up to 2^-14
    expect(hex(float32ToFloat16Bits(2 ** -30))).toBe('0x0000')
  })

  it('picks the nearest F16 (ties to even mantissa) for 20000 random floats, against a table search', () => {
    // Independent oracle: every finite F16 value sorted, then a search for the closest neighbours.
    const finite: { value: number; bits: number }[] = []
    for (let h = 0; h < 0x7c00; h++) finite.push({ value: float16BitsToFloat32(h), bits: h })
    const nearest = (x: number): number => {
      const a = Math.abs(x)
      let lo = 0
      let hi = finite.length - 1
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1
        if (finite[mid]!.value <= a) lo = mid
        else hi = mid
      }
      const below = finite[lo]!
      const above = finite[hi]!
      const pick = a - below.value < above.value - a ? below : a - below.value > above.value - a ? above : (below.bits & 1) === 0 ? below : above
      return (x < 0 || Object.is(x, -0) ? 0x8000 : 0) | pick.bits
    }
    const values = seededGaussian(20000, 5, 1)
    for (let i = 0; i < values.length; i++) {
      // Spread over the whole F16 range: scale by 2^-26 .. 2^15.
      const x = float32FromBits(float32Bits(values[i]! * 2 ** ((i % 42) - 26)))
      if (Math.abs(x) >= 65504) continue
      expect(hex(float32ToFloat16Bits(x)), `${x}`).toBe(hex(nearest(x)))
    }
  })
})

describe('float16BitsToFloat32', () => {
  it.each([
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14],
    [0x7bff, 65504],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('%s -> %d', (bits, value) => {
    expect(float16BitsToFloat32(bits)).toBe(value)
  })

  it('keeps the sign of zero and reads NaN', () => {
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true)
    expect(float16BitsToFloat32(0x7e00)).toBeNaN()
    expect(float16BitsToFloat32(0xfc01)).toBeNaN()
  })

  it('round-trips every non-NaN F16 bit pattern', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue
      const back = float32ToFloat16Bits(float16BitsToFloat32(h))
      if (back !== h) expect(hex(back)).toBe(hex(h))
    }
  })
})

describe('bfloat16', () => {
  it.each([
    [0x3f800000, 0x3f80], // 1
    [0x3f808000, 0x3f80], // tie, 0x3f80 is even
    [0x3f818000, 0x3f82], // tie, 0x3f82 is even
    [0x3f808001, 0x3f81], // above the tie
    [0x3f807fff, 0x3f80], // below the tie
    [0x7f7fffff, 0x7f80], // largest float rounds to infinity
    [0x7f800000, 0x7f80],
    [0xff800000, 0xff80],
    [0x80000000, 0x8000],
    [0x00018000, 0x0002], // subnormals round like the rest (no flush)
    [0x7f800001, 0x7fc0], // signalling NaN: forced quiet, not turned into infinity
    [0xff800001, 0xffc0],
    [0x7fa12345, 0x7fe1], // payload top bits kept, quiet bit set
  ])('float32 bits %s -> %s', (bits, expected) => {
    expect(hex(float32ToBfloat16Bits(float32FromBits(bits)))).toBe(hex(expected))
  })

  it('widens by placing the bits on top', () => {
    expect(bfloat16BitsToFloat32(0x3f80)).toBe(1)
    expect(bfloat16BitsToFloat32(0xc040)).toBe(-3)
    expect(bfloat16BitsToFloat32(0xff80)).toBe(-Infinity)
    expect(bfloat16BitsToFloat32(0x7fc1)).toBeNaN()
  })
})

describe('array conversions', () => {
  it('write little-endian bytes', () => {
    expect(Array.from(float32ArrayToFloat16Bytes(Float32Array.of(1, -2, 65504)))).toEqual([0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b])
    expect(Array.from(float32ArrayToBfloat16Bytes(Float32Array.of(1, -3)))).toEqual([0x80, 0x3f, 0x40, 0xc0])
  })

  it('agree with the scalar conversions, from a subarray, into a larger buffer', () => {
    const values = seededGaussian(1001, 9, 100).subarray(1)
    const out = new Uint8Array(2 * values.length + 10)
    const f16 = float32ArrayToFloat16Bytes(values, out)
    expect(f16.length).toBe(2 * values.length)
    const bf16 = float32ArrayToBfloat16Bytes(values)
    for (let i = 0; i < values.length; i++) {
      expect(f16[2 * i]! | (f16[2 * i + 1]! << 8)).toBe(float32ToFloat16Bits(values[i]!))
      expect(bf16[2 * i]! | (bf16[2 * i + 1]! << 8)).toBe(float32ToBfloat16Bits(values[i]!))
    }
  })

  it('convert NaNs from their bits (a number cannot carry a signalling NaN, a Float32Array can)', () => {
    const values = new Float32Array(new Uint32Array([0x7f800001, 0xff812345, 0x7fc00000, 0x7f800000]).buffer)
    const bf16 = float32ArrayToBfloat16Bytes(values)
    expect(Array.from(new Uint16Array(bf16.buffer), hex)).toEqual(['0x7fc0', '0xffc1', '0x7fc0', '0x7f80'])
    const f16 = float32ArrayToFloat16Bytes(values)
    expect(Array.from(new Uint16Array(f16.buffer), hex)).toEqual(['0x7e00', '0xfe00', '0x7e00', '0x7c00'])
  })

  it('refuse an output that is too small', () => {
    expect(() => float32ArrayToFloat16Bytes(new Float32Array(4), new Uint8Array(7))).toThrow(/holds 7 bytes, needs 8/)
  })

  it('widen by bits, keeping NaN payloads (an F16 signalling NaN comes out quiet, as in ggml)', () => {
    const out = new Float32Array(3)
    halfBytesToFloat32('BF16', Uint8Array.of(0x80, 0x3f, 0xc1, 0x7f, 0x81, 0x7f), 3, out)
    expect(Array.from(new Uint32Array(out.buffer), (b) => b.toString(16))).toEqual(['3f800000', '7fc10000', '7f810000'])
    halfBytesToFloat32('F16', Uint8Array.of(0x00, 0x3c, 0x01, 0x7e, 0x01, 0x7c), 3, out)
    expect(Array.from(new Uint32Array(out.buffer), (b) => b.toString(16))).toEqual(['3f800000', '7fc02000', '7fc02000'])
  })
})
