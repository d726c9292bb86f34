import { getLlama, LlamaLogLevel, type Llama, type Token } from 'node-llama-cpp'
import { createExactContext } from '../../src-main/core/export/verifyExport.js'

let llamaPromise: Promise<Llama> | null = null

/** One CPU llama.cpp per test process; never builds from source. */
export function testLlama(): Promise<Llama> {
  llamaPromise ??= getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
  return llamaPromise
}

/**
 * llama.cpp's next-token distribution after every prefix of `tokens` (teacher-forced, one batch), each as a
 * dense Float64Array over the vocabulary, from `createExactContext` (close to a float64 reference).
 */
export async function llamaNextTokenProbabilities(modelPath: string, tokens: number[], vocabSize: number): Promise<Float64Array[]> {
  const llama = await testLlama()
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 })
  try {
    const context = await createExactContext(model, Math.max(64, tokens.length + 8))
    try {
      const sequence = context.getSequence()
      const results = await sequence.controlledEvaluate(tokens.map((t) => [t as Token, { generateNext: { probabilities: true } }]))
      return results.map((result, position) => {
        const map = result?.next.probabilities
        if (!map) throw new Error(`llama.cpp returned no probabilities at position ${position}`)
        const dense = new Float64Array(vocabSize)
        for (const [token, p] of map) dense[token] = p
        return dense
      })
    } finally {
      await context.dispose()
    }
  } finally {
    await model.dispose()
  }
}
