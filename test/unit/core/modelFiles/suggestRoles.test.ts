import { describe, expect, it } from 'vitest'
import { suggestRoles } from '../../../../src-main/core/modelFiles/readModelFacts.js'
import { roleProblem } from '../../../../src-main/shared/types/models.js'

const facts = { embedding: false, chatTemplate: false, trainable: false, llamaCppUsable: true }

describe('suggestRoles', () => {
  it('suggests the embedder role only for an embedding GGUF', () => {
    expect(suggestRoles({ ...facts, embedding: true, chatTemplate: true })).toEqual(['embedder'])
    expect(suggestRoles({ ...facts, embedding: true, llamaCppUsable: false })).toEqual([])
  })

  it('suggests generating for a chat model and training for an architecture the trainer knows', () => {
    expect(suggestRoles({ ...facts, chatTemplate: true, trainable: true })).toEqual(['generator', 'base'])
    expect(suggestRoles({ ...facts, chatTemplate: true })).toEqual(['generator'])
    expect(suggestRoles({ ...facts, trainable: true })).toEqual(['base'])
    expect(suggestRoles({ ...facts, trainable: true, llamaCppUsable: false, chatTemplate: true })).toEqual(['base'])
  })

  it('falls back to generating for a loadable model with nothing else to go by', () => {
    expect(suggestRoles(facts)).toEqual(['generator'])
  })
})

describe('roleProblem', () => {
  it('names why a role does not fit', () => {
    expect(roleProblem('generator', { llamaCppUsable: false, trainable: true, architecture: 'qwen2' })).toBe('a generator must be a GGUF file llama.cpp can load')
    expect(roleProblem('base', { llamaCppUsable: true, trainable: false, architecture: 'gemma3' })).toBe('Lectern cannot train gemma3 models')
    expect(roleProblem('embedder', { llamaCppUsable: true, trainable: false, architecture: 'bert' })).toBeNull()
  })
})
