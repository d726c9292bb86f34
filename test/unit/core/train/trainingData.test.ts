import { describe, expect, it } from 'vitest'
import type { GgufMetadata } from '../../../../src-main/core/model/gguf/ggufTypes.js'
import { Tokenizer } from '../../../../src-main/core/model/tokenizers/Tokenizer.js'
import {
  batchOrder,
  nextBatch,
  packedSequenceCount,
  packingExtents,
  packSequences,
  readTrainingJsonlLines,
  stepsPerEpoch,
  tokenizeExamples,
  type BatchCursor,
  type PackedDataset,
  type TokenizedExample,
  type TrainingExample,
  type TrainingTokenizer,
} from '../../../../src-main/core/train/trainingData.js'
import { LecternError } from '../../../../src-main/shared/errors.js'
import { CHATML_TEMPLATE, tinyBpeTokenizerMetadata, tinySpmTokenizerMetadata } from '../../../fixtures/tokenizers/tinyTokenizers.js'

const FILE = 'data.jsonl'
const spm = Tokenizer.fromGguf(tinySpmTokenizerMetadata(), 'tiny-spm.gguf')
const bpe = Tokenizer.fromGguf(tinyBpeTokenizerMetadata(), 'tiny-bpe.gguf')
const TOKENIZERS = [
  ['spm', spm],
  ['bpe', bpe],
] as const

function withMetadata(metadata: GgufMetadata, change: (m: GgufMetadata) => void): Tokenizer {
  const copy = new Map(metadata)
  change(copy)
  return Tokenizer.fromGguf(copy, 'variant.gguf')
}

/** What `fn` throws, checked to be a LecternError. */
async function thrown(fn: () => unknown): Promise<LecternError> {
  try {
    await fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LecternError)
    return error as LecternError
  }
  throw new Error('expected an error')
}

const read = (lines: string[]): ReturnType<typeof readTrainingJsonlLines> => readTrainingJsonlLines(lines, FILE)

/** Maximal runs of consecutive tokens with weight 1, each decoded with control tokens shown. */
function weightedRuns(tokenizer: Tokenizer, example: TokenizedExample): string[] {
  const runs: number[][] = []
  example.weights.forEach((w, i) => {
    if (w === 0) return
    if (i > 0 && example.weights[i - 1] !== 0) runs[runs.length - 1]!.push(example.ids[i]!)
    else runs.push([example.ids[i]!])
  })
  return runs.map((ids) => tokenizer.decode(ids, { renderSpecial: true }))
}

describe('readTrainingJsonlLines', () => {
  it('reads the three forms, keeps their line numbers and ignores other fields', async () => {
    const out = await read([
      '\uFEFF{"text": "the model", "id": 7}',
      '',
      '{"prompt": "what is it?", "response": " the model"}',
      '   ',
      '{"prompt": "q", "completion": "a", "meta": {"source": "x"}}',
      '{"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}',
    ])
    expect(out.examples).toEqual([
      { kind: 'text', text: 'the model', source: { file: FILE, line: 1 } },
      { kind: 'completion', prompt: 'what is it?', response: ' the model', source: { file: FILE, line: 3 } },
      { kind: 'completion', prompt: 'q', response: 'a', source: { file: FILE, line: 5 } },
      {
        kind: 'chat',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
        source: { file: FILE, line: 6 },
      },
    ])
    expect(out.counts).toEqual({ text: 1, completion: 2, chat: 1 })
    expect([out.lines, out.blankLines, out.skipped]).toEqual([6, 2, []])
    expect(out.summary).toBe('4 examples (1 text, 2 prompt/response, 1 chat) from 6 lines of data.jsonl; skipped 2 blank lines')
  })

  it('counts and reports examples with nothing to learn instead of dropping them silently', async () => {
    const out = await read([
      '{"text": "the"}',
      '{"text": "  "}',
      '{"prompt": "q", "response": ""}',
      '{"prompt": "q", "completion": "\\n"}',
      '{"messages": []}',
      '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " "}]}',
      '',
    ])
    expect(out.examples).toHaveLength(1)
    expect(out.skipped).toEqual([
      { line: 2, reason: 'empty `text`' },
      { line: 3, reason: 'empty `response`' },
      { line: 4, reason: 'empty `completion`' },
      { line: 5, reason: 'empty `messages`' },
      { line: 6, reason: 'every assistant turn is empty' },
    ])
    expect(out.summary).toContain('skipped 1 blank line and 5 empty examples (line 2: empty `text`; line 3: empty `response`; line 4: empty `completion`; …)')
  })

  const malformed: [string, string[], number, string][] = [
    ['bad JSON', ['{"text": "a"}', '{"text": "b"'], 2, 'not valid JSON'],
    ['a JSON array', ['[1, 2]'], 1, 'expected a JSON object'],
    ['a JSON string', ['"text"'], 1, 'expected a JSON object'],
    ['null', ['null'], 1, 'expected a JSON object'],
    ['no known field', ['{"title": "x", "body": "y"}'], 1, 'no training fields'],
    ['an empty object', ['{}'], 1, 'the line has no fields'],
    ['text not a string', ['{"text": 42}'], 1, '`text` must be a string, got a number'],
    ['text null', ['{"text": null}'], 1, '`text` must be a string, got null'],
    ['text and messages', ['{"text": "a", "messages": []}'], 1, 'has both `text` and `messages`'],
    ['text and prompt', ['{"text": "a", "prompt": "b", "response": "c"}'], 1, 'has both `text` and `prompt`/`response`'],
    ['prompt without response', ['', '{"prompt": "a"}'], 2, 'has `prompt` but no `response`'],
    ['response without prompt', ['{"response": "a"}'], 1, 'has `response` but no `prompt`'],
    ['completion without prompt', ['{"completion": "a"}'], 1, 'has `completion` but no `prompt`'],
    ['response and completion', ['{"prompt": "a", "response": "b", "completion": "c"}'], 1, 'has both `response` and `completion`'],
    ['prompt not a string', ['{"prompt": ["a"], "response": "b"}'], 1, '`prompt` must be a string, got an array'],
    ['response not a string', ['{"prompt": "a", "response": {"x": 1}}'], 1, '`response` must be a string, got an object'],
    ['messages not an array', ['{"messages": "hi"}'], 1, '`messages` must be an array'],
    ['a message not an object', ['{"messages": ["hi"]}'], 1, '`messages[0]` must be an object'],
    ['a message without role', ['{"messages": [{"content": "hi"}]}'], 1, '`messages[0]` has no `role`'],
    ['a message without content', ['{"messages": [{"role": "user", "content": "a"}, {"role": "assistant"}]}'], 1, '`messages[1]` has no `content`'],
    ['content not a string', ['{"messages": [{"role": "assistant", "content": null}]}'], 1, '`messages[0]`.content must be a string, got null'],
    ['an empty role', ['{"messages": [{"role": "", "content": "x"}]}'], 1, '`messages[0]`.role is empty'],
    ['no assistant turn', ['{"messages": [{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}]}'], 1, 'no "assistant" turn (roles: user, bot)'],
  ]
  it.each(malformed)('refuses %s, naming file:line and the reason', async (_, lines, line, reason) => {
    const error = await thrown(() => read(lines))
    expect(error.code).toBe('invalid_argument')
    expect(error.file).toBe(FILE)
    expect(error.message.startsWith(`${FILE}:${line}: `), error.message).toBe(true)
    expect(error.message).toContain(reason)
  })

  it('refuses a dataset without usable examples, saying what it found', async () => {
    for (const lines of [[], ['', '  '], ['{"text": ""}', '', '{"prompt": "q", "response": " "}']]) {
      const error = await thrown(() => read(lines))
      expect(error.code).toBe('invalid_argument')
      expect(error.file).toBe(FILE)
      expect(error.message).toMatch(/^data\.jsonl: no usable training examples\. 0 examples from \d+ lines? of data\.jsonl/)
    }
    const error = await thrown(() => read(['{"text": ""}', '', '{"prompt": "q", "response": " "}']))
    expect(error.message).toContain('skipped 1 blank line and 2 empty examples (line 1: empty `text`; line 3: empty `response`)')
  })

  it('reads async line sources and stops when aborted', async () => {
    async function* lines(): AsyncGenerator<string> {
      for (let i = 0; i < 3000; i++) yield JSON.stringify({ text: `line ${i}` })
    }
    expect((await readTrainingJsonlLines(lines(), FILE)).examples).toHaveLength(3000)
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(readTrainingJsonlLines(lines(), FILE, { signal: controller.signal })).rejects.toThrow('stop')
  })
})

describe('tokenizeExamples', () => {
  it.each(TOKENIZERS)('%s: text counts every token; BOS (when added) does not; EOS ends it and counts', (_, tok) => {
    const [out] = tokenizeExamples([{ kind: 'text', text: 'the model is <|im_end|> on' }], tok)
    const bos = tok.addBos ? [tok.bosId!] : []
    // Control-token text in plain data stays plain characters.
    expect(out!.ids).toEqual([...bos, ...tok.encode('the model is <|im_end|> on'), tok.eosId!])
    expect(out!.ids.filter((id) => id === tok.eosId)).toHaveLength(1)
    expect(out!.weights).toEqual([...bos.map(() => 0), ...tok.encode('the model is <|im_end|> on').map(() => 1), 1])
  })

  it.each(TOKENIZERS)('%s: prompt/response counts exactly the response and the EOS after it', (_, tok) => {
    const prompt = 'what is the model?\nanswer:'
    const response = ' it is that model'
    const [out] = tokenizeExamples([{ kind: 'completion', prompt, response }], tok)
    const bos = tok.addBos ? [tok.bosId!] : []
    expect(out!.ids).toEqual([...bos, ...tok.encode(prompt + response), tok.eosId!])
    const promptLength = bos.length + tok.encode(prompt).length
    expect(out!.weights).toEqual(out!.ids.map((_, i) => (i < promptLength ? 0 : 1)))
    expect(tok.decode(out!.ids.slice(promptLength, -1)).trim()).toBe(response.trim())
    expect(out!.weights.at(-1)).toBe(1)
  })

  it.each(TOKENIZERS)('%s: a token that straddles the prompt/response edge counts', (_, tok) => {
    // "model" is one token; the edge falls inside it.
    const [out] = tokenizeExamples([{ kind: 'completion', prompt: 'the mod', response: 'el' }], tok)
    const body = out!.ids.slice(tok.addBos ? 1 : 0, -1).map((id) => tok.tokenText(id))
    expect(body).toEqual(tok === spm ? ['▁the', '▁model'] : ['the', 'Ġmodel'])
    expect(out!.weights.slice(tok.addBos ? 1 : 0)).toEqual([0, 1, 1])
  })

  it('widens a counted range to tokens that straddle either edge', () => {
    // The template writes contents back to back, so the assistant turn "at is th" starts inside "what" and
    // ends inside " the".
    const tok = withMetadata(tinyBpeTokenizerMetadata(), (m) => m.set('tokenizer.chat_template', { type: 'string', value: "{% for m in messages %}{{ m['content'] }}{% endfor %}" }))
    const messages = [
      { role: 'user', content: 'wh' },
      { role: 'assistant', content: 'at is th' },
      { role: 'user', content: 'e model' },
    ]
    const [out] = tokenizeExamples([{ kind: 'chat', messages }], tok)
    expect(out!.ids.map((id) => tok.tokenText(id))).toEqual(['what', 'Ġis', 'Ġthe', 'Ġmodel', '<|im_end|>'])
    expect(out!.weights).toEqual([1, 1, 1, 0, 0])
  })

  const conversation: TrainingExample = {
    kind: 'chat',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'what is it' },
      { role: 'assistant', content: 'it is the model' },
      { role: 'user', content: 'and?' },
      { role: 'assistant', content: 'that' },
    ],
  }

  it.each(TOKENIZERS)('%s: a chat rendered by the template counts exactly the assistant turns with their end-of-turn, and the EOS', (_, tok) => {
    const [out] = tokenizeExamples([conversation], tok)
    const rendered = tok.applyChatTemplate(conversation.kind === 'chat' ? conversation.messages : [])
    const bos = tok.addBos ? [tok.bosId!] : []
    expect(out!.ids).toEqual([...bos, ...tok.encode(rendered, { parseSpecial: true }), tok.eosId!])
    const eos = tok.decode([tok.eosId!], { renderSpecial: true })
    // llama.cpp's SPM puts a space before text that follows a control token, so "\n" after <|im_end|> is " \n".
    const nl = tok === spm ? ' \n' : '\n'
    // The last run is the final reply, its end-of-turn and the EOS that ends the example.
    expect(weightedRuns(tok, out!).map((run) => run.replace(/^ /, ''))).toEqual([`it is the model<|im_end|>${nl}`, `that<|im_end|>${nl}${eos}`])
    // Nothing outside the assistant turns counts: the unweighted tokens hold every prompt part.
    const unweighted = tok.decode(out!.ids.filter((_, i) => out!.weights[i] === 0), { renderSpecial: true })
    const prompts = '<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nwhat is it<|im_end|>\n<|im_start|>assistant\n<|im_start|>user\nand?<|im_end|>\n<|im_start|>assistant\n'
    expect(unweighted.replace(/(<\|im_(?:start|end)\|>) /g, '$1')).toBe(`${tok === spm ? '<s>' : ''}${prompts}`)
  })

  it('a chat that ends with a user turn does not count its EOS', () => {
    const [out] = tokenizeExamples([{ kind: 'chat', messages: [{ role: 'assistant', content: 'the model' }, { role: 'user', content: 'is it' }] }], bpe)
    expect(weightedRuns(bpe, out!)).toEqual(['the model<|im_end|>\n'])
    expect(out!.weights.at(-1)).toBe(0)
  })

  it.each(TOKENIZERS)('%s: without a chat template, a chat uses the plain "role: content" format', (_, base) => {
    const tok = withMetadata(base === spm ? tinySpmTokenizerMetadata() : tinyBpeTokenizerMetadata(), (m) => m.delete('tokenizer.chat_template'))
    const [out] = tokenizeExamples([conversation], tok)
    const text = 'system: be brief\n\nuser: what is it\n\nassistant: it is the model\n\nuser: and?\n\nassistant: that'
    const bos = tok.addBos ? [tok.bosId!] : []
    expect(out!.ids).toEqual([...bos, ...tok.encode(text), tok.eosId!])
    const eos = tok.decode([tok.eosId!], { renderSpecial: true })
    expect(weightedRuns(tok, out!).map((run) => run.replace(/^ /, ''))).toEqual(['it is the model\n\n', `that${eos}`])
  })

  it('does not double a BOS that the chat template writes', () => {
    const tok = withMetadata(tinySpmTokenizerMetadata(), (m) => m.set('tokenizer.chat_template', { type: 'string', value: `{{ bos_token }}${CHATML_TEMPLATE}` }))
    const [out] = tokenizeExamples([conversation], tok)
    expect(out!.ids.slice(0, 2)).toEqual([tok.bosId!, tok.encode('<|im_start|>', { parseSpecial: true })[0]!])
    expect(out!.ids.filter((id) => id === tok.bosId)).toHaveLength(1)
  })

  it('does not double an EOS that the chat template writes', () => {
    const template = "{% for m in messages %}{{ m['role'] + ': ' + m['content'] }}{% if m['role'] == 'assistant' %}{{ eos_token }}{% else %}{{ '\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}"
    const tok = withMetadata(tinyBpeTokenizerMetadata(), (m) => m.set('tokenizer.chat_template', { type: 'string', value: template }))
    const [out] = tokenizeExamples([{ kind: 'chat', messages: [{ role: 'user', content: 'is it' }, { role: 'assistant', content: ' the model' }] }], tok)
    expect(out!.ids.filter((id) => id === tok.eosId)).toHaveLength(1)
    expect(weightedRuns(tok, out!)).toEqual([' the model<|im_end|>'])
  })

  it('refuses a template that renders earlier turns differently, naming file:line', async () => {
    const template = "{% for m in messages %}{{ m['role'] + (messages|length|string) + ': ' + m['content'] + '\\n' }}{% endfor %}"
    const tok = withMetadata(tinyBpeTokenizerMetadata(), (m) => m.set('tokenizer.chat_template', { type: 'string', value: template }))
    const example: TrainingExample = { kind: 'chat', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }], source: { file: FILE, line: 9 } }
    const error = await thrown(() => tokenizeExamples([example], tok))
    expect(error.code).toBe('invalid_argument')
    expect(error.file).toBe(FILE)
    expect(error.message).toMatch(/^data\.jsonl:9: the model's chat template renders earlier turns differently/)
  })

  it('reports a chat template that fails, naming file:line', async () => {
    const tok = withMetadata(tinyBpeTokenizerMetadata(), (m) => m.set('tokenizer.chat_template', { type: 'string', value: '{{ messages[0].content.no_such_method() }}' }))
    const example: TrainingExample = { kind: 'chat', messages: [{ role: 'assistant', content: 'b' }], source: { file: FILE, line: 4 } }
    const error = await thrown(() => tokenizeExamples([example], tok))
    expect(error.message).toMatch(/^data\.jsonl:4: the model's chat template failed on this conversation: /)
  })

  it('refuses a tokenizer without EOS', async () => {
    const noEos: TrainingTokenizer = {
      encode: spm.encode.bind(spm),
      applyChatTemplate: spm.applyChatTemplate.bind(spm),
      bosId: spm.bosId,
      eosId: undefined,
      addBos: spm.addBos,
      vocab: spm.vocab,
    }
    expect((await thrown(() => tokenizeExamples([{ kind: 'text', text: 'the' }], noEos))).message).toContain('no EOS token')
  })
})

/** A stream of `n` distinct ids with arbitrary weights, cut into examples of the given lengths. */
function examplesOf(lengths: number[]): { examples: TokenizedExample[]; ids: number[]; weights: number[] } {
  const ids: number[] = []
  const weights: number[] = []
  const examples = lengths.map((length) => {
    const e: TokenizedExample = { ids: [], weights: [] }
    for (let i = 0; i < length; i++) {
      e.ids.push(100 + ids.length)
      e.weights.push(ids.length % 3 === 0 ? 0 : ids.length % 5 === 0 ? 0.5 : 1)
      ids.push(e.ids.at(-1)!)
      weights.push(e.weights.at(-1)!)
    }
    e.ids[length - 1] = 7 // the EOS each example ends with
    ids[ids.length - 1] = 7
    return e
  })
  return { examples, ids, weights }
}

describe('packSequences', () => {
  it.each([1, 2, 3, 4, 7, 11, 12, 13, 40])('seqLen %i: windows overlap by one token and reproduce the stream and its weights', (seqLen) => {
    const { examples, ids, weights } = examplesOf([5, 1, 3, 2])
    const packed = packSequences(examples, seqLen)
    const T = seqLen
    expect(packed.sequenceCount).toBe(Math.ceil((ids.length - 1) / T))
    expect(packed.tokens).toHaveLength(packed.sequenceCount * (T + 1))
    expect(packed.weights).toHaveLength(packed.sequenceCount * T)
    // Inputs of all windows, then the last target: the stream, then padding.
    const inputs: number[] = []
    const targetWeights: number[] = []
    for (let k = 0; k < packed.sequenceCount; k++) {
      const window = [...packed.tokens.subarray(k * (T + 1), (k + 1) * (T + 1))]
      if (k > 0) expect(window[0]).toBe(packed.tokens[k * (T + 1) - 1]) // last token of the previous window
      inputs.push(...window.slice(0, T))
      targetWeights.push(...packed.weights.subarray(k * T, (k + 1) * T))
    }
    inputs.push(packed.tokens.at(-1)!)
    const padding = inputs.length - ids.length
    expect(inputs).toEqual([...ids, ...new Array<number>(padding).fill(7)])
    expect(padding).toBeLessThan(T)
    // weights[k, t] belongs to target k·T + t + 1 of the stream; padding weighs 0.
    expect(targetWeights).toEqual([...weights.slice(1), ...new Array<number>(padding).fill(0)])
    expect(packed.streamTokens).toBe(ids.length)
    expect(packed.weightedTargets).toBeCloseTo(weights.slice(1).reduce((a, b) => a + b, 0), 6)
  })

  it('lets an example longer than seqLen span windows, and pads with the given id', () => {
    const { examples, ids } = examplesOf([10])
    const packed = packSequences(examples, 4, { padId: 0 })
    expect(packed.sequenceCount).toBe(3)
    expect([...packed.tokens]).toEqual([...ids.slice(0, 5), ...ids.slice(4, 9), ids[8]!, ids[9]!, 0, 0, 0])
    expect([...packed.weights.subarray(8)].slice(1)).toEqual([0, 0, 0])
    expect(packed.padId).toBe(0)
  })

  it('starts an instruction example in a fresh window rather than cutting it from its prompt', () => {
    const whole = (from: number, n: number): TokenizedExample => ({ ids: Array.from({ length: n }, (_, i) => from + i), weights: Array.from({ length: n }, (_, i) => (i < 2 ? 0 : 1)), keepWhole: true })
    const text: TokenizedExample = { ids: [1, 2, 3], weights: [0, 1, 1] }
    // T = 4: windows cover stream positions [0, 4], [4, 8], … The text fills 0–2; a 4-token example at 3–6 would straddle.
    const packed = packSequences([text, whole(10, 4), whole(20, 5), whole(30, 7)], 4, { padId: 0 })
    const windows = Array.from({ length: packed.sequenceCount }, (_, k) => [...packed.tokens.subarray(k * 5, (k + 1) * 5)])
    expect(windows[0]).toEqual([1, 2, 3, 0, 10])
    expect(windows[1]).toEqual([10, 11, 12, 13, 20]) // windows share their border token
    expect(windows[2]).toEqual([20, 21, 22, 23, 24])
    // Longer than a window: it spans windows as plain text does.
    expect(windows[3]).toEqual([24, 30, 31, 32, 33])
    for (const from of [10, 20]) {
      const holder = windows.findIndex((w) => w.includes(from + 2))
      expect(windows[holder]).toContain(from)
    }
    expect(packed.weightedTargets).toBe(2 + 2 + 3 + 5)
  })

  it("starts each of a built dataset's packed sequences at a window border", () => {
    const example = (from: number, n: number, sequence: number): TokenizedExample => ({ ids: Array.from({ length: n }, (_, i) => from + i), weights: new Array<number>(n).fill(1), sequence })
    // T = 4. Sequence 0 holds two examples (3 tokens), sequence 1 one of 4, sequence 2 one of 2.
    const packed = packSequences([example(10, 2, 0), example(20, 1, 0), example(30, 4, 1), example(40, 2, 2)], 4, { padId: 0 })
    const windows = Array.from({ length: packed.sequenceCount }, (_, k) => [...packed.tokens.subarray(k * 5, (k + 1) * 5)])
    expect(windows[0]).toEqual([10, 11, 20, 0, 30])
    expect(windows[1]).toEqual([30, 31, 32, 33, 40])
    expect(windows[2]).toEqual([40, 41, 0, 0, 0])
    // The padding is never a target.
    expect(packed.weightedTargets).toBe(2 + 1 + 4 + 2 - 1)
  })

  it('counts the windows of any sequence length from the examples\' extents alone', () => {
    const mixed: TokenizedExample[] = [
      ...examplesOf([5, 1, 3]).examples,
      { ids: [1, 2, 3, 4, 5], weights: [0, 0, 1, 1, 1], keepWhole: true },
      { ids: [6, 7], weights: [1, 1], sequence: 0 },
      { ids: [8, 9, 10], weights: [1, 1, 1], sequence: 1 },
      { ids: [11, 12, 13, 14, 15, 16, 17], weights: new Array<number>(7).fill(1), keepWhole: true, sequence: 1 },
    ]
    const extents = packingExtents(mixed)
    expect(extents[3]).toEqual({ length: 5, keepWhole: true, sequence: undefined })
    for (const seqLen of [1, 2, 3, 4, 5, 6, 7, 9, 16, 64]) expect(packedSequenceCount(extents, seqLen), `seqLen ${seqLen}`).toBe(packSequences(mixed, seqLen).sequenceCount)
  })

  it('reads the packed sequence number of a line and refuses a malformed one', async () => {
    const read = await readTrainingJsonlLines(['{"text": "a", "sequence": 3}'], 'data.jsonl')
    expect(read.examples[0]).toMatchObject({ kind: 'text', text: 'a', sequence: 3 })
    const error = await thrown(() => readTrainingJsonlLines(['{"text": "a", "sequence": -1}'], 'data.jsonl'))
    expect(error.message).toContain('data.jsonl:1')
    expect(error.message).toContain('sequence')
  })

  it('refuses what it cannot pack', async () => {
    expect((await thrown(() => packSequences([], 8))).message).toContain('Nothing to train on')
    expect((await thrown(() => packSequences([{ ids: [1], weights: [1] }], 8))).message).toContain('at least 2')
    expect((await thrown(() => packSequences([{ ids: [1, 2], weights: [0, 0] }], 8))).message).toContain('no token of the examples carries loss weight')
    expect((await thrown(() => packSequences([{ ids: [1, 2], weights: [1] }], 8))).message).toContain('2 ids but 1 weights')
    expect((await thrown(() => packSequences([{ ids: [1, -2], weights: [1, 1] }], 8))).message).toContain('not a token id')
    expect((await thrown(() => packSequences([{ ids: [1, 2], weights: [1, Number.NaN] }], 8))).message).toContain('weight NaN')
    for (const seqLen of [0, -1, 1.5]) expect((await thrown(() => packSequences([{ ids: [1, 2], weights: [1, 1] }], seqLen))).code).toBe('invalid_argument')
  })
})

function dataset(windows: number, seqLen = 3): PackedDataset {
  const { examples } = examplesOf([windows * seqLen + 1])
  const packed = packSequences(examples, seqLen)
  expect(packed.sequenceCount).toBe(windows)
  return packed
}

describe('batchOrder', () => {
  it('is a permutation, the same for the same (seed, epoch), different across epochs and seeds', () => {
    const n = 50
    const orders = [0, 1, 2, 3].map((epoch) => [...batchOrder(n, epoch, 42)])
    for (const order of orders) expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))
    expect([...batchOrder(n, 2, 42)]).toEqual(orders[2])
    expect(new Set(orders.map((o) => o.join(','))).size).toBe(4)
    expect([...batchOrder(n, 0, 43)]).not.toEqual(orders[0])
    expect(orders[0]).not.toEqual(Array.from({ length: n }, (_, i) => i))
    expect([...batchOrder(1, 5, 1)]).toEqual([0])
    expect([...batchOrder(0, 0, 1)]).toEqual([])
  })

  it('hands out copies, so a caller cannot change the order nextBatch uses', () => {
    const packed = dataset(6)
    const order = batchOrder(6, 0, 9)
    const expected = [...order]
    order.fill(0)
    expect([...nextBatch(packed, { epoch: 0, position: 0 }, 6, 9).sequences]).toEqual(expected)
  })

  it('places every index roughly uniformly (no Fisher-Yates off-by-one bias)', () => {
    // With the classic bug (j drawn from [0, i) instead of [0, i]) element 0 could never stay in place.
    const n = 4
    const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0))
    const trials = 4000
    for (let epoch = 0; epoch < trials; epoch++) batchOrder(n, epoch, 3).forEach((value, position) => counts[value]![position]!++)
    for (const row of counts) for (const c of row) expect(Math.abs(c - trials / n)).toBeLessThan(150)
  })
})

describe('nextBatch', () => {
  it('gives inputs, targets and weights of the chosen windows, and covers each epoch once', () => {
    const packed = dataset(6)
    const T = packed.seqLen
    let cursor: BatchCursor = { epoch: 0, position: 0 }
    const seen: number[] = []
    for (let step = 0; step < 3; step++) {
      const batch = nextBatch(packed, cursor, 2, 5)
      expect(batch.tokenIds).toBeInstanceOf(BigInt64Array)
      batch.sequences.forEach((k, b) => {
        const window = packed.tokens.subarray(k * (T + 1), (k + 1) * (T + 1))
        expect([...batch.tokenIds.subarray(b * T, (b + 1) * T)].map(Number)).toEqual([...window.subarray(0, T)])
        expect([...batch.targets.subarray(b * T, (b + 1) * T)]).toEqual([...window.subarray(1)])
        expect([...batch.weights.subarray(b * T, (b + 1) * T)]).toEqual([...packed.weights.subarray(k * T, (k + 1) * T)])
      })
      seen.push(...batch.sequences)
      cursor = batch.cursor
    }
    expect(seen).toEqual([...batchOrder(6, 0, 5)])
    expect(cursor).toEqual({ epoch: 1, position: 0 })
  })

  it("continues a batch into the next epoch's order", () => {
    const packed = dataset(5)
    const first = nextBatch(packed, { epoch: 0, position: 0 }, 4, 1)
    const second = nextBatch(packed, first.cursor, 4, 1)
    const e0 = [...batchOrder(5, 0, 1)]
    const e1 = [...batchOrder(5, 1, 1)]
    expect([...first.sequences, ...second.sequences]).toEqual([...e0, ...e1.slice(0, 3)])
    expect(second.cursor).toEqual({ epoch: 1, position: 3 })
    // A batch larger than the dataset spans several epochs.
    const big = nextBatch(packed, { epoch: 0, position: 0 }, 12, 1)
    expect([...big.sequences]).toEqual([...e0, ...e1, ...[...batchOrder(5, 2, 1)].slice(0, 2)])
    expect(big.cursor).toEqual({ epoch: 2, position: 2 })
  })

  it('resumed from a stored (JSON) cursor, gives the batches of the uninterrupted run', () => {
    const packed = dataset(7, 4)
    const run = (cursor: BatchCursor, steps: number): { batches: ReturnType<typeof nextBatch>[]; cursor: BatchCursor } => {
      const batches = []
      for (let i = 0; i < steps; i++) {
        const batch = nextBatch(packed, cursor, 3, 1234)
        batches.push(batch)
        cursor = batch.cursor
      }
      return { batches, cursor }
    }
    const whole = run({ epoch: 0, position: 0 }, 9)
    const head = run({ epoch: 0, position: 0 }, 4)
    const stored = JSON.parse(JSON.stringify({ cursor: head.cursor })) as { cursor: BatchCursor }
    // Other work in between (other epochs' orders, other seeds) must not matter.
    batchOrder(7, 11, 1)
    nextBatch(packed, { epoch: 5, position: 2 }, 2, 99)
    const tail = run(stored.cursor, 5)
    const flat = (batches: ReturnType<typeof nextBatch>[]): unknown[] => batches.map((b) => [[...b.tokenIds], [...b.targets], [...b.weights], b.cursor])
    expect(flat([...head.batches, ...tail.batches])).toEqual(flat(whole.batches))
    expect(tail.cursor).toEqual(whole.cursor)
  })

  it('treats a cursor at the end of an epoch as the start of the next', () => {
    const packed = dataset(4)
    expect([...nextBatch(packed, { epoch: 0, position: 4 }, 2, 3).sequences]).toEqual([...batchOrder(4, 1, 3)].slice(0, 2))
  })

  it('refuses bad cursors, batch sizes and datasets', async () => {
    const packed = dataset(4)
    for (const cursor of [{ epoch: -1, position: 0 }, { epoch: 0, position: 5 }, { epoch: 0.5, position: 0 }, { epoch: 0, position: -1 }]) {
      expect((await thrown(() => nextBatch(packed, cursor, 2, 1))).message).toContain('does not fit a dataset of 4 sequences')
    }
    expect((await thrown(() => nextBatch(packed, { epoch: 0, position: 0 }, 0, 1))).code).toBe('invalid_argument')
    expect((await thrown(() => nextBatch({ ...packed, sequenceCount: 5 }, { epoch: 0, position: 0 }, 1, 1))).code).toBe('invalid_argument')
  })
})

describe('stepsPerEpoch', () => {
  it('rounds partial steps up', () => {
    expect(stepsPerEpoch(10, 2, 1)).toBe(5)
    expect(stepsPerEpoch(10, 2, 2)).toBe(3)
    expect(stepsPerEpoch(10, 3)).toBe(4)
    expect(stepsPerEpoch(1, 8, 4)).toBe(1)
    expect(stepsPerEpoch(64, 8, 4)).toBe(2)
  })
  it('refuses non-positive counts', async () => {
    for (const [count, batch, accum] of [[0, 1, 1], [5, 0, 1], [5, 1, 0], [5, 1.5, 1]]) expect((await thrown(() => stepsPerEpoch(count!, batch!, accum))).code).toBe('invalid_argument')
  })
})

describe('end to end', () => {
  it('from JSONL lines to a batch whose weighted targets are the responses', async () => {
    const data = await read([
      '{"prompt": "what is the", "response": " model"}',
      '{"messages": [{"role": "user", "content": "and it"}, {"role": "assistant", "content": "is that"}]}',
      '{"text": "we can"}',
    ])
    const tokenized = tokenizeExamples(data.examples, bpe)
    const packed = packSequences(tokenized, 8)
    const batch = nextBatch(packed, { epoch: 0, position: 0 }, packed.sequenceCount, 0)
    const weighted = [...batch.targets].filter((_, i) => batch.weights[i]! > 0)
    expect(weighted.sort((a, b) => a - b)).toEqual(tokenized.flatMap((e, i) => e.ids.filter((_, j) => e.weights[j]! > 0 && (i > 0 || j > 0))).sort((a, b) => a - b))
    expect(bpe.decode(weighted.filter((id) => id !== bpe.eosId).sort((a, b) => a - b))).not.toContain('what')
  })
})
