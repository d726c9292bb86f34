import { availableParallelism } from 'node:os'
import type { Llama, LlamaModel } from 'node-llama-cpp'
import { LecternError } from '../../shared/errors.js'
import { FileByteSource } from '../io/fileBytes.js'
import { checkGgufTokenizer } from '../model/convert/checkGgufForLlamaCpp.js'
import { GgufMetadataReader } from '../model/gguf/ggufMetadata.js'
import type { GgufHeader } from '../model/gguf/ggufTypes.js'
import { readGgufHeader } from '../model/gguf/readGgufHeader.js'

/** One context per core, capped so that llama.cpp's decodes never wait on libuv's four worker threads. */
export function defaultContextCount(): number {
  return Math.max(1, Math.min(availableParallelism(), 4))
}

/**
 * Reads a GGUF's header with our own reader before llama.cpp sees it, because some malformed files make
 * llama.cpp abort the whole process (node-llama-cpp.md §2, §5.6). Checks the tokenizer and the keys whose absence
 * llama.cpp asserts on, for any architecture, so embedding models (BERT and others) pass too.
 */
export async function checkGgufForLoading(modelPath: string): Promise<GgufHeader> {
  const file = await FileByteSource.open(modelPath)
  try {
    const header = await readGgufHeader(file)
    const m = new GgufMetadataReader(modelPath, header.metadata)
    const architecture = m.string('general.architecture')
    for (const key of ['context_length', 'embedding_length', 'block_count', 'feed_forward_length', 'attention.head_count']) {
      const value = m.number(`${architecture}.${key}`)
      if (!Number.isFinite(value) || value <= 0) m.fail(`${architecture}.${key} is ${value}, expected a positive number`)
    }
    checkGgufTokenizer(header, modelPath)
    if (header.tensors.length === 0) m.fail('the file holds no tensors')
    return header
  } finally {
    await file.close()
  }
}

export interface LoadedLlamaModel {
  llama: Llama
  model: LlamaModel
  header: GgufHeader
  /** Disposes the model, and the llama.cpp instance too when it was made here. */
  dispose(): Promise<void>
}

/** Checks the file, then loads it into llama.cpp; every failure is a LecternError naming the file. */
export async function loadCheckedLlamaModel(modelPath: string, options: { llama?: Llama; gpu?: false | 'auto' } = {}): Promise<LoadedLlamaModel> {
  const header = await checkGgufForLoading(modelPath)
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp')
  const gpu = options.gpu ?? false
  const ownsLlama = options.llama === undefined
  const llama = options.llama ?? (await getLlama({ gpu, build: 'never', logLevel: LlamaLogLevel.error }))
  try {
    const model = await llama.loadModel({ modelPath, gpuLayers: gpu === false ? 0 : 'auto' })
    return {
      llama,
      model,
      header,
      dispose: async () => {
        await model.dispose()
        if (ownsLlama) await llama.dispose()
      },
    }
  } catch (error) {
    if (ownsLlama) await llama.dispose()
    throw new LecternError('invalid_model_file', `${modelPath}: llama.cpp could not load the model (${(error as Error).message})`, { file: modelPath, cause: error })
  }
}
