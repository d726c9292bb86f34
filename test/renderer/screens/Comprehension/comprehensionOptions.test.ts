import { describe, expect, it } from 'vitest'
import { clusterParamsSchema, comprehendParamsSchema, datasetParamsSchema } from '../../../../src-main/shared/types/comprehension'
import {
  EMPTY_CLUSTER_FORM,
  EMPTY_COMPREHEND_FORM,
  EMPTY_DATASET_FORM,
  toClusterParams,
  toComprehendParams,
  toDatasetParams,
} from '../../../../src-renderer/src/screens/Comprehension/comprehensionOptions'

describe('toComprehendParams', () => {
  it('sends only the mining settings in regex mode, accepted by the schema', () => {
    const { params, errors } = toComprehendParams({ ...EMPTY_COMPREHEND_FORM, generator: '/ignored.gguf', pairs: '99', seed: '7', domain: ' leases ' }, null)
    expect(errors).toEqual({})
    expect(params).toEqual({ mode: 'regex', seed: 7, domain: 'leases', preview: null })
    expect(comprehendParamsSchema.safeParse(params).success).toBe(true)
  })

  it('builds a local-model preview with its settings and the grounding filter', () => {
    const form = { ...EMPTY_COMPREHEND_FORM, mode: 'llm' as const, generator: ' /m/qwen.gguf ', pairs: '4', temperature: '0.2', timeoutSeconds: '60', minGrounding: '0.5' }
    const { params } = toComprehendParams(form, 3)
    expect(params).toEqual({ mode: 'llm', generator: '/m/qwen.gguf', endpoint: null, endpointModel: null, seed: 1, domain: null, preview: 3, pairs: 4, temperature: 0.2, timeoutSeconds: 60, filters: { minGrounding: 0.5 } })
    expect(comprehendParamsSchema.safeParse(params).success).toBe(true)
  })

  it('builds a remote-endpoint run the schema accepts', () => {
    const { params } = toComprehendParams({ ...EMPTY_COMPREHEND_FORM, mode: 'llm', source: 'remote', generator: '/x.gguf', endpoint: 'http://gpu-box:8080', endpointModel: 'qwen' }, null)
    expect(params).toMatchObject({ generator: null, endpoint: 'http://gpu-box:8080', endpointModel: 'qwen' })
    expect(comprehendParamsSchema.safeParse(params).success).toBe(true)
  })

  it('limits a run, not a preview, and retries failed chunks only when asked', () => {
    const form = { ...EMPTY_COMPREHEND_FORM, mode: 'llm' as const, generator: '/m/qwen.gguf', limit: '50', retryFailed: true }
    const run = toComprehendParams(form, null).params
    expect(run).toMatchObject({ limit: 50, retryFailed: true })
    expect(comprehendParamsSchema.safeParse(run).success).toBe(true)
    expect(toComprehendParams(form, 3).params).not.toHaveProperty('limit')
    expect(toComprehendParams({ ...form, retryFailed: false }, null).params).not.toHaveProperty('retryFailed')
    expect(toComprehendParams({ ...form, asciiOnly: true }, null).params).toMatchObject({ asciiOnly: true })
    expect(toComprehendParams(form, null).params).not.toHaveProperty('asciiOnly')
    expect(toComprehendParams({ ...form, limit: '0' }, null).errors.limit).toMatch(/^Chunk limit must be between 1 and/)
  })

  it('names each field out of the schema limits', () => {
    const { params, errors } = toComprehendParams(
      { ...EMPTY_COMPREHEND_FORM, mode: 'llm', pairs: '21', temperature: '3', seed: '-1', timeoutSeconds: '1.5', minGrounding: '2' },
      null,
    )
    expect(params).toBeNull()
    expect(errors).toEqual({
      generator: 'Choose a local instruct model (.gguf)',
      pairs: 'Pairs per chunk must be between 1 and 20',
      temperature: 'Temperature must be a number between 0 and 2',
      seed: 'Seed must be between 0 and 2147483647',
      timeoutSeconds: 'Timeout must be a whole number',
      minGrounding: 'Minimum grounding must be a number between 0 and 1',
    })
    const remote = toComprehendParams({ ...EMPTY_COMPREHEND_FORM, mode: 'llm', source: 'remote', endpoint: 'gpu-box' }, null)
    expect(Object.keys(remote.errors).sort()).toEqual(['endpoint', 'endpointModel'])
  })
})

describe('toClusterParams and toDatasetParams', () => {
  it('build what the schemas accept, leaving empty fields to their defaults', () => {
    const cluster = toClusterParams({ ...EMPTY_CLUSTER_FORM, embedder: '/m/bge.gguf', maxDocs: '4', kMeans: '12' })
    expect(cluster.params).toEqual({ embedder: '/m/bge.gguf', kMeans: 12, threshold: 0.7, maxDocs: 4 })
    expect(clusterParamsSchema.safeParse(cluster.params).success).toBe(true)
    expect(toClusterParams(EMPTY_CLUSTER_FORM).params).toEqual({ embedder: null, kMeans: null, threshold: 0.7 })

    const dataset = toDatasetParams({ ...EMPTY_DATASET_FORM, mix: '/d/general.jsonl', ratio: '1:2', seqLen: '4096', heldout: '0.1', out: '/d/out.jsonl', format: 'chat' })
    expect(dataset.params).toEqual({ mix: '/d/general.jsonl', out: '/d/out.jsonl', format: 'chat', ratio: '1:2', seqLen: 4096, heldout: 0.1 })
    expect(datasetParamsSchema.safeParse(dataset.params).success).toBe(true)
  })

  it('refuse values out of the schema limits', () => {
    expect(toClusterParams({ ...EMPTY_CLUSTER_FORM, threshold: '1', maxTokens: '8', kMeans: '1' }).errors).toEqual({
      threshold: 'Threshold must be a number between -1 and 1 (exclusive)',
      maxTokens: 'Tokens per cluster must be between 16 and 1000000',
      kMeans: 'k must be between 2 and 10000',
    })
    expect(toDatasetParams({ ...EMPTY_DATASET_FORM, ratio: 'half', seqLen: '16', heldout: '0.6' }).errors).toEqual({
      ratio: 'Give a ratio like 1:1 or 1:2',
      seqLen: 'Sequence length must be between 32 and 131072',
      heldout: 'Held-out fraction must be a number between 0 and 0.5',
    })
  })
})
