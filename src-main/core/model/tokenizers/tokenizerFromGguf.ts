import type { GgufMetadata } from '../gguf/ggufTypes.js'
import { readGgufTokenizer } from './ggufTokenizer.js'
import { hfTokenizerFiles, type HfTokenizerFiles } from './hfTokenizer.js'

/**
 * A GGUF file's tokenizer as Hugging Face tokenizer.json + tokenizer_config.json (for GGUF → HF folder).
 * `fileName` names the GGUF file in errors.
 */
export function tokenizerFromGguf(metadata: GgufMetadata, fileName: string): Required<Omit<HfTokenizerFiles, 'chatTemplateJinja'>> {
  return hfTokenizerFiles(readGgufTokenizer(metadata, fileName), fileName)
}
