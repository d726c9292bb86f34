import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { gradients } from '../../../../src-main/core/autodiff/gradient.js'
import { Graph } from '../../../../src-main/core/autodiff/Graph.js'
import { lowerToOnnx } from '../../../../src-main/core/autodiff/toOnnx.js'
import { crossEntropy, flatTargetIndices, logSoftmax, rmsNorm, ropeNeox, sigmoid, silu, softmax } from '../../../../src-main/core/autodiff/layers.js'
import { checkGraphFunction } from '../../../support/checkOp.js'
import { crossEntropyRef, logSoftmaxRef, rmsNormRef, ropeNeoxRef, sigmoidRef, siluRef, softmaxRef } from '../../../support/layerReferences.js'

describe('composite layers: forward = independent float64 reference, gradients = central differences', () => {
  it('sigmoid', () => checkGraphFunction('sigmoid', [[3, 4]], (g, [x]) => sigmoid(g, x!), ([x]) => sigmoidRef(x!)))
  it('silu', () => checkGraphFunction('silu', [[3, 4]], (g, [x]) => silu(g, x!), ([x]) => siluRef(x!)))
  it('rmsNorm with weight', () =>
    checkGraphFunction('rmsNorm', [[2, 3, 8], [8]], (g, [x, w]) => rmsNorm(g, x!, w!, 1e-5), ([x, w]) => rmsNormRef(x!, w!, 1e-5)))
  it('softmax', () => checkGraphFunction('softmax', [[3, 5]], (g, [x]) => softmax(g, x!), ([x]) => softmaxRef(x!)))
  it('logSoftmax', () => checkGraphFunction('logSoftmax', [[3, 5]], (g, [x]) => logSoftmax(g, x!), ([x]) => logSoftmaxRef(x!)))
  it('weighted cross-entropy (gradient to the logits)', () => {
    const targets = [1, 2, 0, 4]
    const oneHot = targets.flatMap((t) => Array.from({ length: 5 }, (_, v) => (v === t ? 1 : 0)))
    const weights = [1, 0, 1, 1]
    return checkGraphFunction(
      'crossEntropy',
      [[4, 5]],
      (g, [logits]) => crossEntropy(g, logits!, g.constant(Array.from(flatTargetIndices(targets, 5), Number), [4], 'int64'), g.constant(weights, [4])),
      ([logits]) => crossEntropyRef(logits!, { shape: [4, 5], data: Float64Array.from(oneHot) }, { shape: [4], data: Float64Array.from(weights) }),
    )
  })
  it('NeoX RoPE on (B, H, T, D)', () =>
    checkGraphFunction(
      'ropeNeox',
      [[2, 2, 3, 8], [3, 4], [3, 4]],
      (g, [x, c, s]) => ropeNeox(g, x!, c!, s!),
      ([x, c, s]) => ropeNeoxRef(x!, c!, s!),
    ))
})

describe('sigmoid and SiLU far from zero (float32)', () => {
  it('gives finite, correct gradients where exp(−x) would overflow', async () => {
    const xs = [-120, -100, -89, -20, 0, 3, 95]
    const g = new Graph()
    const x = g.input('x', [xs.length])
    const y = silu(g, x)
    const [grad] = gradients(g, g.reduceSum(y, [0]), [x])
    const session = await ort.InferenceSession.create(lowerToOnnx(g, { y, grad: grad! }, { elementType: 'float32' }), { intraOpNumThreads: 1 })
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(xs), [xs.length]) })
    await session.release()
    const sigma = (v: number): number => 1 / (1 + Math.exp(-v))
    xs.forEach((v, i) => {
      const dy = sigma(v) * (1 + v * (1 - sigma(v)))
      expect((out['grad']!.data as Float32Array)[i], `d silu(${v})`).toBeCloseTo(dy, 6)
      expect((out['y']!.data as Float32Array)[i], `silu(${v})`).toBeCloseTo(v * sigma(v), 4)
    })
  })
})
