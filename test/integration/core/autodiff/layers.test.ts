import { describe, it } from 'vitest'
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
