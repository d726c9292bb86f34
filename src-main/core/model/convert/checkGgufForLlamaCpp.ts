import { LecternError } from '../../../shared/errors.js'
import { GgufMetadataReader } from '../gguf/ggufMetadata.js'
import type { GgufHeader } from '../gguf/ggufTypes.js'

/**
 * Checks the tokenizer section of a GGUF before llama.cpp sees it: llama.cpp refuses some omissions with an
 * error but aborts the whole process on others, so everything it needs is checked here (node-llama-cpp.md §2).
 * The model section and the tensors are checked by `openGgufModelSource`.
 */
export function checkGgufTokenizer(header: GgufHeader, file: string): void {
  const m = new GgufMetadataReader(file, header.metadata)
  const model = m.string('tokenizer.ggml.model')
  if (model !== 'llama' && model !== 'gpt2') {
    throw new LecternError('unsupported_model', `${file}: tokenizer "${model}" is not supported (llama or gpt2)`, { file })
  }
  const tokens = m.stringArray('tokenizer.ggml.tokens')
  if (tokens.length === 0) m.fail('tokenizer.ggml.tokens is empty')
  const sameLength = (key: string): void => {
    const values = m.optionalNumberArray(key)
    if (values && values.length !== tokens.length) m.fail(`${key} has ${values.length} entries for ${tokens.length} tokens`)
  }
  sameLength('tokenizer.ggml.scores')
  sameLength('tokenizer.ggml.token_type')
  if (model === 'gpt2' && m.stringArray('tokenizer.ggml.merges').length === 0) m.fail('tokenizer.ggml.merges is empty')
  for (const key of ['bos', 'eos', 'unknown', 'padding'].map((k) => `tokenizer.ggml.${k}_token_id`)) {
    const id = m.optionalNumber(key)
    if (id !== undefined && (id < 0 || id >= tokens.length)) m.fail(`${key} ${id} is outside the vocabulary of ${tokens.length} tokens`)
  }
  const architecture = m.string('general.architecture')
  const vocabSize = m.optionalNumber(`${architecture}.vocab_size`)
  if (vocabSize !== undefined && vocabSize !== tokens.length) m.fail(`${architecture}.vocab_size is ${vocabSize} but the tokenizer has ${tokens.length} tokens`)
}
