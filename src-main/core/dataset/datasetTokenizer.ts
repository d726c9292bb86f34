import { estimateTokens } from '../corpus/estimateTokens.js'
import { openModel } from '../modelFiles/openModel.js'
import type { ChatMessage } from '../model/tokenizers/Tokenizer.js'
import { Tokenizer } from '../model/tokenizers/Tokenizer.js'

/** What the dataset build needs of a tokenizer: sizes as the trainer will see them, cuts and the EOS text. */
export interface DatasetTokenizer {
  /** "model.gguf" or "estimate". */
  name: string
  /** Tokens the trainer spends on a text before its EOS (a BOS included when the tokenizer adds one). */
  countTokens(text: string): number
  /** Consecutive pieces of at most `maxTokens` tokens each, whose concatenation is the text. */
  splitText(text: string, maxTokens: number): string[]
  eosText: string
  /** The model's chat template, when it has one. */
  renderChat?: ((messages: readonly ChatMessage[]) => string) | undefined
}

/**
 * The tokenizer of the model the user will train (a .gguf or Hugging Face folder); without one, the corpus's
 * token estimate, so sequences are sized approximately and the trainer re-packs what overflows.
 */
export async function datasetTokenizer(modelPath: string | null): Promise<DatasetTokenizer> {
  if (modelPath === null) return estimatingTokenizer()
  const model = await openModel(modelPath)
  let tokenizer: Tokenizer
  try {
    tokenizer = Tokenizer.fromGguf(model.source.tokenizer, model.source.name)
  } finally {
    await model.close()
  }
  const bos = tokenizer.addBos && tokenizer.bosId !== undefined ? 1 : 0
  return {
    name: model.source.name,
    countTokens: (text) => bos + tokenizer.encode(text).length,
    splitText: (text, maxTokens) => {
      const ids = tokenizer.encode(text)
      const room = Math.max(1, maxTokens - bos)
      const pieces: string[] = []
      for (let start = 0; start < ids.length; start += room) pieces.push(tokenizer.decode(ids.slice(start, start + room)))
      return pieces
    },
    eosText: tokenizer.eosId === undefined ? '' : tokenizer.tokenText(tokenizer.eosId),
    renderChat: tokenizer.vocab.chatTemplate === undefined ? undefined : (messages) => tokenizer.applyChatTemplate(messages),
  }
}

/** Splits at whitespace so that each piece's estimate stays within the budget (a longer single word is cut by characters). */
function estimatingTokenizer(): DatasetTokenizer {
  return {
    name: 'estimate',
    countTokens: (text) => estimateTokens(text),
    splitText: (text, maxTokens) => {
      const pieces: string[] = []
      let start = 0
      let end = 0
      const words = /\s*\S+\s*/gy
      for (let match = words.exec(text); match !== null; match = words.exec(text)) {
        const next = match.index + match[0].length
        if (estimateTokens(text, start, next) > maxTokens && end > start) {
          pieces.push(text.slice(start, end))
          start = end
        }
        while (estimateTokens(text, start, next) > maxTokens) {
          // One word over the budget: cut it at the longest prefix that fits.
          let cut = start + 1
          while (cut < next && estimateTokens(text, start, cut + 1) <= maxTokens) cut++
          pieces.push(text.slice(start, cut))
          start = cut
        }
        end = next
      }
      if (text.length > start) pieces.push(text.slice(start))
      return pieces
    },
    eosText: '</s>',
  }
}
