import type { ModelSource } from '../model/convert/ModelSource.js'
import type { ModelHyperparameters } from '../model/hyperparameters.js'

export interface TensorSummary {
  /** As stored in the file. */
  name: string
  /** As the file states it: ne0 first for GGUF, outermost first for safetensors. */
  shape: number[]
  type: string
  elementCount: number
}

export interface ModelInspection {
  path: string
  format: ModelSource['format']
  architecture: string
  hyperparameters: ModelHyperparameters
  parameterCount: number
  /** Elements per storage type, e.g. { F32: 1234, Q4_K: 567890 }. */
  typeSummary: Record<string, number>
  tokenizer: { kind: string; vocabSize: number; bosTokenId: number | null; eosTokenId: number | null }
  chatTemplate: boolean
  tensors: TensorSummary[]
}

/** What `lectern model inspect` shows: facts only, gathered from headers (no tensor data is read). */
export function inspectModel(source: ModelSource): ModelInspection {
  const tensors = source.tensors.map((t) => ({ name: t.storedName, shape: source.format === 'gguf' ? [...t.shape].reverse() : t.shape, type: t.sourceType, elementCount: t.shape.reduce((a, b) => a * b, 1) }))
  const typeSummary: Record<string, number> = {}
  for (const t of tensors) typeSummary[t.type] = (typeSummary[t.type] ?? 0) + t.elementCount
  const value = (key: string): unknown => source.tokenizer.get(key)?.value
  const tokens = value('tokenizer.ggml.tokens')
  const id = (key: string): number | null => (typeof value(key) === 'number' ? (value(key) as number) : null)
  return {
    path: source.name,
    format: source.format,
    architecture: source.hyperparameters.architecture,
    hyperparameters: source.hyperparameters,
    parameterCount: tensors.reduce((sum, t) => sum + t.elementCount, 0),
    typeSummary,
    tokenizer: {
      kind: { llama: 'SentencePiece (llama)', gpt2: 'byte-level BPE (gpt2)' }[String(value('tokenizer.ggml.model'))] ?? String(value('tokenizer.ggml.model')),
      vocabSize: Array.isArray(tokens) ? tokens.length : 0,
      bosTokenId: id('tokenizer.ggml.bos_token_id'),
      eosTokenId: id('tokenizer.ggml.eos_token_id'),
    },
    chatTemplate: typeof value('tokenizer.chat_template') === 'string',
    tensors,
  }
}
