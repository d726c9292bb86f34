import { describe, expect, it } from 'vitest'
import { gradients } from '../../../../src-main/core/autodiff/gradient.js'
import { Graph } from '../../../../src-main/core/autodiff/Graph.js'
import { graphCost } from '../../../../src-main/core/autodiff/graphCost.js'
import type { ModelHyperparameters } from '../../../../src-main/core/model/hyperparameters.js'
import { planAdapters, type AdapterConfig } from '../../../../src-main/core/train/adapters.js'
import { buildGradientGraph } from '../../../../src-main/core/train/trainGraphs.js'

describe('graphCost', () => {
  it('counts 2·m·n·k per MatMul, times the broadcast batch of its output', () => {
    const g = new Graph()
    const a = g.input('a', [2, 3])
    const w = g.input('w', [3, 4])
    const plain = g.matmul(a, w) // 2·2·4·3 = 48
    const batched = g.matmul(g.input('x', [5, 2, 3]), w) // 5 · 48 = 240
    const broadcast = g.matmul(g.input('p', [2, 1, 2, 3]), g.input('q', [3, 3, 4])) // output (2, 3, 2, 4): 6 · 48 = 288
    const cost = graphCost(g, [plain, batched, broadcast])
    expect(cost.matmulFlops).toBe(48 + 240 + 288)
    expect(cost.matmulNodes).toBe(3)
    expect(cost.byOp.matmul).toEqual({ nodes: 3, work: 576 })
    expect(cost.elementwiseOps + cost.reducedElements + cost.movedElements).toBe(0)
  })

  it('sorts the other ops into elementwise, reduction, movement and free work, counted in elements', () => {
    const g = new Graph()
    const x = g.input('x', [4, 6])
    const e = g.exp(g.neg(x)) // 24 + 24 elementwise
    const s = g.reduceSum(e, [1], true) // reads 24
    const y = g.div(e, s) // 24 elementwise (broadcast output (4, 6))
    const t = g.transpose(y, [1, 0]) // moves 24
    const r = g.reshape(t, [24]) // free
    const out = g.concat([r, g.slice(r, 0, 0, 8)], 0) // slice moves 8, concat 32
    const cost = graphCost(g, { out })
    expect(cost).toMatchObject({ matmulFlops: 0, elementwiseOps: 72, reducedElements: 24, movedElements: 24 + 8 + 32, nodes: 8 })
    expect(cost.byOp.reshape).toEqual({ nodes: 1, work: 0 })
    expect(cost.byOp.exp).toEqual({ nodes: 1, work: 24 })
  })

  it('counts only what the outputs need, as lowerToOnnx emits it', () => {
    const g = new Graph()
    const x = g.input('x', [2, 3])
    const kept = g.add(x, x)
    g.matmul(x, g.input('unused', [3, 100])) // nobody asks for it
    expect(graphCost(g, [kept])).toMatchObject({ matmulFlops: 0, elementwiseOps: 6, nodes: 1 })
  })

  it('drops the gradient into a frozen weight: y = x·W, dW only, is twice the forward MatMul', () => {
    // N tokens, k in, d out. Forward 2·N·k·d. Backward: the VJP builds dX = G·Wᵀ and dW = Xᵀ·G; only dW is
    // needed: Xᵀ (moves N·k) and 2·k·N·d. The loss sum's VJP is a Reshape (free) and an Expand of N·d.
    const [N, k, d] = [5, 3, 7]
    const g = new Graph()
    const x = g.input('x', [N, k])
    const w = g.input('w', [k, d])
    const y = g.matmul(x, w)
    const loss = g.reduceSum(y, [0, 1])
    const [dw] = gradients(g, loss, [w])
    const cost = graphCost(g, { loss, dw: dw! })
    expect(cost.matmulFlops).toBe(2 * (2 * N * k * d))
    expect(cost.matmulNodes).toBe(2)
    expect(cost.byOp.transpose).toEqual({ nodes: 1, work: N * k })
    expect(cost.byOp.expand).toEqual({ nodes: 1, work: N * d })
    expect(cost.reducedElements).toBe(N * d)
  })

  it("gives a decoder's forward MatMul FLOPs as 2·tokens·(projection weights) plus attention's 4·B·H·T²·D", () => {
    const h: ModelHyperparameters = {
      architecture: 'llama',
      vocabSize: 50,
      contextLength: 64,
      embeddingLength: 16,
      blockCount: 2,
      feedForwardLength: 24,
      headCount: 4,
      headCountKv: 2,
      headDim: 4,
      rmsNormEps: 1e-6,
      ropeTheta: 10000,
      tiedEmbeddings: false,
    }
    const config: AdapterConfig = { method: 'lora', rank: 2, moraType: 6, targets: ['q'], loraAlpha: 4, rsLora: false, dropout: 0 }
    const [B, T] = [2, 8]
    const { graph, outputs } = buildGradientGraph(h, planAdapters(h, config), config, B, T, { withGradients: false })
    const { embeddingLength: E, feedForwardLength: F, headCount: H, headCountKv: K, headDim: D, vocabSize: V } = h
    const perLayerWeights = E * H * D + 2 * E * K * D + H * D * E + 3 * E * F
    const loraQ = E * 2 + 2 * H * D // x·Aᵀ then h·Bᵀ
    const tokens = B * T
    const expected = 2 * tokens * (h.blockCount * (perLayerWeights + loraQ) + E * V) + h.blockCount * 4 * B * H * T * T * D
    expect(graphCost(graph, outputs).matmulFlops).toBe(expected)
  })
})
