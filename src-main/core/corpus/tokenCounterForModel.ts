import { openModel } from '../modelFiles/openModel.js'
import { Tokenizer } from '../model/tokenizers/Tokenizer.js'
import type { TokenCounter } from './chunkDocument.js'

/** Counts tokens with the tokenizer of a model the user brings (a .gguf file or a Hugging Face folder). */
export async function tokenCounterForModel(modelPath: string): Promise<TokenCounter> {
  const model = await openModel(modelPath)
  try {
    const tokenizer = Tokenizer.fromGguf(model.source.tokenizer, model.source.name)
    return (text, start, end) => tokenizer.encode(text.slice(start, end)).length
  } finally {
    await model.close()
  }
}
