/**
 * Deterministic test weights from integer arithmetic only (no Math.sin/log, whose last bits may vary
 * between engines), so the same float32 values can be fed to llama.cpp's C quantizers to make fixtures.
 */
export function seededGaussian(count: number, seed: number, std = 1): Float32Array {
  let state = seed >>> 0
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
  const out = new Float32Array(count)
  // Irwin–Hall: the sum of 12 uniforms minus 6 has mean 0 and variance 1, close enough to a Gaussian.
  for (let i = 0; i < count; i++) {
    let sum = -6
    for (let k = 0; k < 12; k++) sum += next()
    out[i] = sum * std
  }
  return out
}

/**
 * Weights shaped like a real layer's: Gaussian with std 0.02, a few large outliers, and, in the second
 * super-block, an all-positive stretch and an all-zero 32-element sub-block, so every branch of the
 * scale searches runs.
 */
export function layerLikeWeights(count: number, seed: number): Float32Array {
  const values = seededGaussian(count, seed, 0.02)
  for (let i = 0; i < count; i += 97) values[i] = values[i]! * 12
  if (count >= 512) {
    for (let i = 256; i < 320; i++) values[i] = Math.abs(values[i]!) + 0.01
    values.fill(0, 384, 416)
  }
  return values
}

/** sqrt(mean((a-b)²)) / sqrt(mean(a²)). */
export function relativeRmse(reference: Float32Array, approximation: Float32Array): number {
  let error = 0
  let energy = 0
  for (let i = 0; i < reference.length; i++) {
    const diff = reference[i]! - approximation[i]!
    error += diff * diff
    energy += reference[i]! * reference[i]!
  }
  return Math.sqrt(error / energy)
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}
