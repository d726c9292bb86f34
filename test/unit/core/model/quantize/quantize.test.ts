import { describe, expect, it } from 'vitest'
import { dequantize } from '../../../../../src-main/core/model/quantize/dequantize.js'
import { QUANTIZE_TYPES, quantize } from '../../../../../src-main/core/model/quantize/quantize.js'
import { LLAMA_CPP_REFERENCE_BYTES, LLAMA_CPP_REFERENCE_INPUT } from './llamaCppReference.js'
import { fromHex, layerLikeWeights, relativeRmse, seededGaussian, toHex } from './seededValues.js'

const QUANTIZED = ['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q4_K', 'Q5_K', 'Q6_K'] as const

describe('quantize: byte layout', () => {
  it.each([
    ['F32', 2048],
    ['F16', 1024],
    ['BF16', 1024],
    ['Q8_0', 16 * 34],
    ['Q4_0', 16 * 18],
    ['Q4_1', 16 * 20],
    ['Q5_0', 16 * 22],
    ['Q5_1', 16 * 24],
    ['Q4_K', 2 * 144],
    ['Q5_K', 2 * 176],
    ['Q6_K', 2 * 210],
  ] as const)('%s: 512 values take %d bytes', (type, bytes) => {
    expect(quantize(type, seededGaussian(512, 1)).length).toBe(bytes)
  })

  it.each(QUANTIZED)('%s: the same bytes as llama.cpp’s reference quantizer', (type) => {
    const values = layerLikeWeights(LLAMA_CPP_REFERENCE_INPUT.count, LLAMA_CPP_REFERENCE_INPUT.seed)
    expect(toHex(quantize(type, values))).toBe(LLAMA_CPP_REFERENCE_BYTES[type])
  })

  it('and llama.cpp’s bytes decode to the values they approximate', () => {
    const values = layerLikeWeights(LLAMA_CPP_REFERENCE_INPUT.count, LLAMA_CPP_REFERENCE_INPUT.seed)
    for (const type of QUANTIZED) {
      const decoded = dequantize(type, fromHex(LLAMA_CPP_REFERENCE_BYTES[type]!), values.length)
      expect(relativeRmse(values, decoded), type).toBeLessThan(0.2)
    }
  })

  it('Q8_0: d = amax/127 as F16, q = x/d rounded half away from zero', () => {
    const values = Float32Array.from({ length: 32 }, (_, j) => (j - 16) * 0.25) // amax 4, id = 127/4
    const bytes = quantize('Q8_0', values)
    const d = Math.fround(4 / 127)
    const expected = Array.from(values, (x) => {
      const v = Math.fround(x * Math.fround(1 / d))
      return (v < 0 ? -Math.round(-v) : Math.round(v)) & 0xff
    })
    expect(Array.from(bytes.subarray(2))).toEqual(expected)
    expect(bytes[2]).toBe(0x81) // -4 -> -127
    expect(bytes[2 + 15]).toBe(0xf8) // -0.25 -> -7.9375 -> -8
    expect(bytes[2 + 24]).toBe(64) // 2 -> 63.5 exactly -> 64 (half away from zero)
    expect(bytes[2 + 8]).toBe(0xc0) // -2 -> -63.5 -> -64
    expect(bytes[0]! | (bytes[1]! << 8)).toBe(0x2808) // F16 of 4/127 ≈ 0.0315
  })
})

describe('quantize: round trips', () => {
  // Gaussian "weights" with std 0.02, like a trained layer's.
  const weights = seededGaussian(1 << 16, 11, 0.02)
  const error = Object.fromEntries(QUANTIZE_TYPES.map((type) => [type, relativeRmse(weights, dequantize(type, quantize(type, weights), weights.length))]))

  // Measured: F16 0.021%, BF16 0.166%, Q8_0 0.53%, Q6_K 1.76%, Q5_K 3.57%, Q5_1 3.75%, Q5_0 4.19%,
  // Q4_K 7.08%, Q4_1 7.79%, Q4_0 8.47% relative RMSE. Bounds leave about 25% headroom.
  it.each([
    ['F32', 0],
    ['F16', 0.0003],
    ['BF16', 0.0025],
    ['Q8_0', 0.007],
    ['Q6_K', 0.022],
    ['Q5_K', 0.045],
    ['Q5_1', 0.047],
    ['Q5_0', 0.053],
    ['Q4_K', 0.09],
    ['Q4_1', 0.098],
    ['Q4_0', 0.106],
  ] as const)('%s: relative RMSE at most %d', (type, bound) => {
    expect(error[type]).toBeLessThanOrEqual(bound)
  })

  it('more bits, less error: Q8_0 < Q6_K < Q5_K < Q4_K, and K-quants beat the 32-block types of the same width', () => {
    expect(error.Q8_0!).toBeLessThan(error.Q6_K!)
    expect(error.Q6_K!).toBeLessThan(error.Q5_K!)
    expect(error.Q5_K!).toBeLessThan(error.Q4_K!)
    expect(error.Q5_K!).toBeLessThan(error.Q5_1!)
    expect(error.Q4_K!).toBeLessThan(error.Q4_1!)
    expect(error.Q4_1!).toBeLessThan(error.Q4_0!)
  })

  it('F32 is a plain little-endian copy', () => {
    const values = Float32Array.of(1, -0, 3.5e-40, Infinity)
    const bytes = quantize('F32', values)
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0x80])
    expect(Object.is(dequantize('F32', bytes, 4)[1], -0)).toBe(true)
    expect(Array.from(dequantize('F32', bytes, 4))).toEqual(Array.from(values))
  })

  it.each(QUANTIZE_TYPES)('%s: an all-zero block decodes to zeros', (type) => {
    const zeros = new Float32Array(512)
    expect(Array.from(dequantize(type, quantize(type, zeros), 512)).every((v) => v === 0)).toBe(true)
  })

  it('K-quants and Q8_0 write an all-zero block as zero bytes', () => {
    for (const type of ['Q8_0', 'Q4_K', 'Q5_K', 'Q6_K'] as const) {
      expect(quantize(type, new Float32Array(256)).every((b) => b === 0), type).toBe(true)
    }
  })

  it.each(QUANTIZED)('%s: constant blocks (positive, negative) come back within F16 precision', (type) => {
    // Tiny values lose more: a K-quant's super-block scale is an F16 that is subnormal below 6e-5 (as in
    // llama.cpp), and a constant 3e-3 puts Q6_K's scale near 7e-7, where F16 keeps about 4 bits.
    for (const [c, tolerance] of [[0.7, 2 ** -8], [-0.7, 2 ** -8], [3e-3, 0.05]] as const) {
      const decoded = dequantize(type, quantize(type, new Float32Array(256).fill(c)), 256)
      for (const v of decoded) expect(Math.abs(v - c), `${type} ${c}`).toBeLessThanOrEqual(Math.abs(c) * tolerance)
    }
  })

  it('weights with outliers and all-positive stretches stay close too', () => {
    const values = layerLikeWeights(1 << 14, 3)
    for (const type of QUANTIZED) {
      expect(relativeRmse(values, dequantize(type, quantize(type, values), values.length)), type).toBeLessThan(0.2)
    }
  })
})

describe('quantize: calls', () => {
  it('keeps no state between calls and fills a given output', () => {
    const a = seededGaussian(512, 21, 0.05)
    const b = seededGaussian(512, 22, 3)
    for (const type of QUANTIZED) {
      const first = quantize(type, a)
      quantize(type, b)
      const out = new Uint8Array(first.length + 5).fill(0xee)
      const again = quantize(type, a, out)
      expect(again.buffer).toBe(out.buffer)
      expect(toHex(again), type).toBe(toHex(first))
      expect(out[first.length]).toBe(0xee)
    }
  })

  it('quantizes rows independently: two halves give the same bytes as the whole', () => {
    const values = seededGaussian(1024, 30, 0.1)
    for (const type of QUANTIZED) {
      const whole = quantize(type, values)
      const parts = [quantize(type, values.subarray(0, 512)), quantize(type, values.subarray(512))]
      expect(toHex(whole), type).toBe(parts.map(toHex).join(''))
    }
  })

  it('refuses lengths that are not whole blocks, short outputs, non-finite values and unknown types', () => {
    expect(() => quantize('Q4_K', new Float32Array(300))).toThrow('cannot quantize 300 values to Q4_K: not a whole number of 256-element blocks')
    expect(() => quantize('Q8_0', new Float32Array(32), new Uint8Array(33))).toThrow(/output holds 33 bytes, Q8_0 needs 34/)
    const bad = new Float32Array(64)
    bad[40] = NaN
    expect(() => quantize('Q8_0', bad)).toThrow('cannot quantize to Q8_0: value 40 is NaN')
    bad[40] = -Infinity
    expect(() => quantize('Q6_K', new Float32Array(256).fill(Infinity))).toThrow(/value 0 is Infinity/)
    expect(() => quantize('Q2_K', new Float32Array(256))).toThrow(/cannot quantize to Q2_K/)
  })
})
