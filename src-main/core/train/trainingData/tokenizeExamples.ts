import { LecternError } from '../../../shared/errors.js'
import type { ChatMessage, Tokenizer } from '../../model/tokenizers/Tokenizer.js'
import type { TrainingExample } from './readTrainingJsonl.js'

/**
 * One example as tokens. `weights[i]` is the loss weight of predicting `ids[i]` from the tokens before it: 1 where
 * the prediction counts, 0 where it does not (the prompt, BOS).
 */
export interface TokenizedExample {
  ids: number[]
  weights: number[]
  /**
   * Instruction examples (prompt/response, chat) must not be cut from their prompt: packing starts them in a
   * fresh window when they would straddle one. Plain text may span windows.
   */
  keepWhole?: boolean
  /** The example's packed sequence, from a built dataset: a change of value starts a new window. */
  sequence?: number
}

/** The subset of Tokenizer used here. */
export type TrainingTokenizer = Pick<Tokenizer, 'encode' | 'applyChatTemplate' | 'bosId' | 'eosId' | 'addBos' | 'vocab'>

/** A rendered example: its text, the character ranges whose tokens count, and whether the closing EOS counts. */
interface Rendered {
  text: string
  spans: [start: number, end: number][]
  /** Control-token text in `text` becomes those tokens (chat templates write `<|im_start|>`); never for user text. */
  parseSpecial: boolean
  eosCounts: boolean
}

/**
 * Tokenizes examples for training, in order:
 *
 * - **BOS** first when the tokenizer adds one (`add_bos_token`), unless the text already starts with it (a chat
 *   template that writes `{{ bos_token }}`); its weight is 0.
 * - **text**: the text as is (control-token text stays plain characters); every token counts.
 * - **completion**: prompt and response written back to back, verbatim, as TRL's prompt-completion format does:
 *   any separator ("\n", "Answer: ") belongs at the end of the prompt or the start of the response. Only the
 *   response tokens count.
 * - **chat** with a tokenizer that has a chat template: the conversation rendered by the template; for each
 *   assistant turn, the text between the render of the turns before it with the generation prompt and the
 *   render through it counts, i.e. the reply and the template's end-of-turn (`…<|im_end|>\n` in ChatML), so the
 *   model learns to end its turn. A template that does not render conversations incrementally is refused.
 * - **chat** without a template, the plain format: messages written as `role: content`, separated by a blank line
 *   (`"\n\n"`); an assistant's content counts, and so does the blank line that closes it when another message
 *   follows.
 * - **EOS** after every example (unless the rendered text already ends with it). It separates packed examples. It
 *   counts for text, for completions, and for chats that end with an assistant turn: the model must learn to stop.
 *
 * A token that straddles the edge of a counted range (tokenizing the text up to the edge does not give a prefix
 * of the whole example's tokens) counts. Empty examples are refused: `readTrainingJsonl` has already left them out.
 */
export function tokenizeExamples(examples: readonly TrainingExample[], tokenizer: TrainingTokenizer): TokenizedExample[] {
  const eosId = tokenizer.eosId
  if (eosId === undefined) throw new LecternError('unsupported_model', 'The tokenizer has no EOS token, which training needs to end and separate examples')
  const bosId = tokenizer.addBos ? tokenizer.bosId : undefined
  return examples.map((example, index) => {
    const where = example.source ? `${example.source.file}:${example.source.line}` : `example ${index + 1}`
    const rendered = render(example, tokenizer, where)
    const body = tokenizer.encode(rendered.text, { parseSpecial: rendered.parseSpecial })
    const bodyWeights = new Array<number>(body.length).fill(0)
    for (const [start, end] of rendered.spans) {
      const from = tokenBoundary(tokenizer, rendered, body, start, 'start')
      const to = tokenBoundary(tokenizer, rendered, body, end, 'end')
      for (let i = from; i < to; i++) bodyWeights[i] = 1
    }
    const ids = bosId !== undefined && body[0] !== bosId ? [bosId, ...body] : body
    const weights = ids === body ? bodyWeights : [0, ...bodyWeights]
    if (ids[ids.length - 1] !== eosId) {
      ids.push(eosId)
      weights.push(rendered.eosCounts ? 1 : 0)
    }
    if (!weights.some((w) => w > 0)) {
      throw new LecternError('invalid_argument', `${where}: nothing to train on (no token of the example counts)`, example.source ? { file: example.source.file } : {})
    }
    const tokenized: TokenizedExample = example.kind === 'text' ? { ids, weights } : { ids, weights, keepWhole: true }
    if (example.sequence !== undefined) tokenized.sequence = example.sequence
    return tokenized
  })
}

function render(example: TrainingExample, tokenizer: TrainingTokenizer, where: string): Rendered {
  switch (example.kind) {
    case 'text':
      return { text: example.text, spans: [[0, example.text.length]], parseSpecial: false, eosCounts: true }
    case 'completion': {
      const text = example.prompt + example.response
      return { text, spans: [[example.prompt.length, text.length]], parseSpecial: false, eosCounts: true }
    }
    case 'chat': {
      const eosCounts = example.messages[example.messages.length - 1]?.role === 'assistant'
      if (tokenizer.vocab.chatTemplate === undefined) return { ...plainConversation(example.messages), parseSpecial: false, eosCounts }
      return { ...templatedConversation(example.messages, tokenizer, where, example.source?.file), parseSpecial: true, eosCounts }
    }
  }
}

/** The plain conversation format (no chat template): `role: content` blocks joined by "\n\n". */
export function plainConversation(messages: readonly ChatMessage[]): Pick<Rendered, 'text' | 'spans'> {
  const SEPARATOR = '\n\n'
  let text = ''
  const spans: [number, number][] = []
  messages.forEach((message, i) => {
    if (i > 0) text += SEPARATOR
    text += `${message.role}: `
    const start = text.length
    text += message.content
    const closes = i + 1 < messages.length ? SEPARATOR.length : 0
    if (message.role === 'assistant') spans.push([start, text.length + closes])
  })
  return { text, spans }
}

function templatedConversation(messages: readonly ChatMessage[], tokenizer: TrainingTokenizer, where: string, file: string | undefined): Pick<Rendered, 'text' | 'spans'> {
  const apply = (slice: readonly ChatMessage[], addGenerationPrompt: boolean): string => {
    try {
      return tokenizer.applyChatTemplate(slice, { addGenerationPrompt })
    } catch (error) {
      throw new LecternError('invalid_argument', `${where}: the model's chat template failed on this conversation: ${(error as Error).message}`, {
        ...(file === undefined ? {} : { file }),
        cause: error,
      })
    }
  }
  const text = apply(messages, false)
  const spans: [number, number][] = []
  messages.forEach((message, i) => {
    if (message.role !== 'assistant') return
    const before = apply(messages.slice(0, i), true)
    const through = apply(messages.slice(0, i + 1), false)
    if (!text.startsWith(before) || !text.startsWith(through) || through.length < before.length) {
      throw new LecternError(
        'invalid_argument',
        `${where}: the model's chat template renders earlier turns differently once later ones follow, so the tokens of assistant turn ${i + 1} cannot be located; ` +
          'give this example as {"prompt", "response"} instead',
        file === undefined ? {} : { file },
      )
    }
    spans.push([before.length, through.length])
  })
  return { text, spans }
}

/**
 * The index in `body` (the tokens of the whole text) where character `at` falls: the token count of the text
 * before `at` when those tokens are a prefix of `body`. Otherwise a token spans the edge, and the range is widened
 * to include it (a start edge moves back to it, an end edge past it).
 */
function tokenBoundary(tokenizer: TrainingTokenizer, rendered: Rendered, body: readonly number[], at: number, edge: 'start' | 'end'): number {
  if (at <= 0) return 0
  if (at >= rendered.text.length) return body.length
  const prefix = tokenizer.encode(rendered.text.slice(0, at), { parseSpecial: rendered.parseSpecial })
  let common = 0
  while (common < prefix.length && common < body.length && prefix[common] === body[common]) common++
  if (common === prefix.length || edge === 'start') return common
  return Math.min(common + 1, body.length)
}
