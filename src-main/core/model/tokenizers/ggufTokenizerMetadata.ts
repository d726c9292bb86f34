import type { GgufMetadata } from '../gguf/ggufTypes.js'
import { ggufTokenizerEntries } from './ggufTokenizer.js'
import { readHfTokenizer, type HfTokenizerFiles, type ReadHfTokenizerOptions } from './hfTokenizer.js'

/**
 * The `tokenizer.*` GGUF metadata for a Hugging Face tokenizer (for HF folder → GGUF), in the key order and
 * value types convert_hf_to_gguf writes. `fileName` names the folder or tokenizer.json in errors.
 */
export function ggufTokenizerMetadata(files: HfTokenizerFiles, fileName: string, options: ReadHfTokenizerOptions = {}): GgufMetadata {
  return ggufTokenizerEntries(readHfTokenizer(files, fileName, options))
}
