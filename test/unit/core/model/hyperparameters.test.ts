import { describe, expect, it } from 'vitest'
import {
  expectedHfTensorShapes,
  ggufHyperparameterMetadata,
  hfConfigFromHyperparameters,
  hyperparametersFromGguf,
  hyperparametersFromHfConfig,
} from '../../../../src-main/core/model/hyperparameters.js'
import { tinyHyperparameters } from '../../../fixtures/tinyWeights.js'

const smolLmConfig = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 576,
  intermediate_size: 1536,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  num_hidden_layers: 30,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
  vocab_size: 49152,
}

describe('model hyper-parameters', () => {
  it('reads a SmolLM-style config.json', () => {
    expect(hyperparametersFromHfConfig(smolLmConfig, 'config.json')).toEqual({
      architecture: 'llama',
      vocabSize: 49152,
      contextLength: 2048,
      embeddingLength: 576,
      blockCount: 30,
      feedForwardLength: 1536,
      headCount: 9,
      headCountKv: 3,
      headDim: 64,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      tiedEmbeddings: true,
    })
  })

  it.each(['llama', 'qwen2', 'qwen3'] as const)('round-trips %s through config.json and GGUF metadata', (arch) => {
    const h = tinyHyperparameters(arch, 300, { rmsNormEps: 0.25 })
    const config = hfConfigFromHyperparameters(h, { bos: 1, eos: 2 })
    expect(hyperparametersFromHfConfig(config, 'config.json')).toEqual(h)
    const tensorNames = [...expectedHfTensorShapes(h).keys()].some((n) => n === 'lm_head.weight') ? ['output.weight'] : []
    expect(hyperparametersFromGguf(ggufHyperparameterMetadata(h), 'model.gguf', tensorNames)).toEqual(h)
  })

  it('writes key_length/value_length only when heads do not divide the width evenly into D', () => {
    expect(ggufHyperparameterMetadata(tinyHyperparameters('llama', 10)).has('llama.attention.key_length')).toBe(false)
    expect(ggufHyperparameterMetadata(tinyHyperparameters('qwen3', 10)).get('qwen3.attention.key_length')).toEqual({ type: 'u32', value: 32 })
  })

  it('names the file and field of a bad config', () => {
    expect(() => hyperparametersFromHfConfig({ ...smolLmConfig, hidden_size: '576' }, '/m/config.json')).toThrow(
      '/m/config.json: hidden_size must be a positive integer (found "576")',
    )
    expect(() => hyperparametersFromHfConfig({ ...smolLmConfig, rope_scaling: { rope_type: 'yarn' } }, '/m/config.json')).toThrow(/rope_scaling "yarn" is not supported/)
    const scaled = ggufHyperparameterMetadata(tinyHyperparameters('llama', 10))
    scaled.set('llama.rope.scaling.type', { type: 'string', value: 'yarn' })
    expect(() => hyperparametersFromGguf(scaled, '/m/x.gguf', [])).toThrow('/m/x.gguf: RoPE scaling "yarn" is not supported yet')
    expect(() => hyperparametersFromGguf(new Map([['general.architecture', { type: 'string', value: 'llama' }]]), '/m/x.gguf', [])).toThrow(
      /\/m\/x\.gguf: required metadata key llama\.embedding_length is missing/,
    )
  })

  it('lists the tensors each architecture has', () => {
    const count = (arch: 'llama' | 'qwen2' | 'qwen3'): number => expectedHfTensorShapes(tinyHyperparameters(arch, 10)).size
    expect(count('llama')).toBe(3 + 2 * 9)
    expect(count('qwen2')).toBe(3 + 2 * 12)
    expect(count('qwen3')).toBe(3 + 2 * 11)
    expect(expectedHfTensorShapes(tinyHyperparameters('llama', 10, { tiedEmbeddings: true })).has('lm_head.weight')).toBe(false)
  })
})
