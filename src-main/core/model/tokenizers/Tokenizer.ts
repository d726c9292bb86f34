import { Template } from '@huggingface/jinja'
import { Tokenizer as HfLibraryTokenizer } from '@huggingface/tokenizers'
import type { GgufMetadata } from '../gguf/ggufTypes.js'
import { bpePreTokenizer } from './bpePreTokenizers.js'
import { BYTE_TO_CHAR, CHAR_TO_BYTE } from './byteLevel.js'
import { effectiveSpecials, type EffectiveSpecials } from './effectiveSpecials.js'
import { readGgufTokenizer } from './ggufTokenizer.js'
import { readHfTokenizer, unsupportedPre, type HfTokenizerFiles, type ReadHfTokenizerOptions } from './hfTokenizer.js'
import { SpmEncoder } from './SpmEncoder.js'
import { checkTokenizerVocab, splitMerge, TOKEN_TYPE, tokenizerError, tokenTypeOf, type TokenizerModelName, type TokenizerVocab } from './tokenizerVocab.js'

export interface TokenizerEncodeOptions {
  /** Add BOS / EOS where the model asks for them (`add_bos_token`, `add_eos_token`). Defaults to `false`. */
  addSpecial?: boolean
  /**
   * Turn the text of control tokens (`<|im_start|>`, `<s>`) into those tokens. Off, such text is tokenized as
   * plain characters; user-defined tokens are matched either way, as in llama.cpp. Defaults to `false`.
   */
  parseSpecial?: boolean
}

export interface TokenizerDecodeOptions {
  /** Write control tokens as their text; otherwise they produce nothing. Defaults to `false`. */
  renderSpecial?: boolean
}

export interface ChatMessage {
  role: string
  content: string
}

export interface ApplyChatTemplateOptions {
  /** End with the header of an assistant turn, ready for generation. Defaults to `false`. */
  addGenerationPrompt?: boolean
  /** More variables for the template (`tools`, `date_string`…). Defaults to `{}`. */
  variables?: Record<string, unknown>
}

// llama.cpp marks tokens with these texts as control (end of generation) whatever their type says
// (llama-vocab.cpp, "maintain a list of tokens that cause end-of-generation").
const EOG_TEXTS = new Set([
  '<|eot_id|>',
  '<|im_end|>',
  '<|end|>',
  '<|return|>',
  '<|call|>',
  '<|flush|>',
  '<|calls|>',
  '<end_of_turn>',
  '<|endoftext|>',
  '</s>',
  '<|eom_id|>',
  '<EOT>',
  '_<EOT>',
  '[EOT]',
  '[EOS]',
  '<|end_of_text|>',
  '<end_of_utterance>',
  '<eos>',
  '<turn|>',
  '<|tool_response>',
  '<｜end▁of▁sentence｜>',
  '[e~[',
])

const SPACE = '▁'

/**
 * Text ↔ token ids exactly as llama.cpp does them for the same model (llama-vocab.cpp: tokenize with
 * add_special / parse_special, detokenize with remove_special = false), for training data that the model
 * will later see through llama.cpp. SentencePiece-style vocabularies use SpmEncoder (llama.cpp's algorithm);
 * byte-level BPE uses @huggingface/tokenizers' BPE and pre-tokenizers. Built from GGUF metadata or from a
 * Hugging Face tokenizer.json (converted as for a GGUF file, so both give the same ids); never touches the
 * network or the file system.
 */
export class Tokenizer {
  readonly kind: TokenizerModelName
  readonly vocab: TokenizerVocab
  readonly vocabSize: number
  /** BOS id (llama.cpp's default where the file has none); undefined when the vocabulary has none. */
  readonly bosId: number | undefined
  readonly eosId: number | undefined
  /** Whether `encode(…, {addSpecial: true})` adds BOS / EOS. */
  readonly addBos: boolean
  readonly addEos: boolean
  private readonly settings: EffectiveSpecials
  private readonly fileName: string
  /** Tokens matched in the text before tokenizing, longest text first (llama.cpp's cache_special_tokens). */
  private readonly specialTokens: { id: number; text: string; control: boolean }[]
  private readonly controlIds: ReadonlySet<number>
  private readonly spm: SpmEncoder | undefined
  private readonly bpe: HfLibraryTokenizer | undefined
  private readonly pieces: Uint8Array[]
  private template: Template | undefined

  private constructor(vocab: TokenizerVocab, fileName: string) {
    checkTokenizerVocab(vocab, fileName)
    this.vocab = vocab
    this.fileName = fileName
    this.kind = vocab.model
    this.vocabSize = vocab.tokens.length
    this.settings = effectiveSpecials(vocab)
    this.bosId = this.settings.bosId
    this.eosId = this.settings.eosId
    this.addBos = this.settings.addBos
    this.addEos = this.settings.addEos
    if (this.addBos && this.bosId === undefined) tokenizerError(fileName, 'the tokenizer adds BOS but has no BOS token')
    if (this.addEos && this.eosId === undefined) tokenizerError(fileName, 'the tokenizer adds EOS but has no EOS token')

    const type = (id: number): number => tokenTypeOf(vocab, id)
    const controlIds = new Set<number>()
    vocab.tokens.forEach((text, id) => {
      if (type(id) === TOKEN_TYPE.control || EOG_TEXTS.has(text)) controlIds.add(id)
    })
    this.controlIds = controlIds
    this.specialTokens = vocab.tokens
      .flatMap((text, id) => {
        const control = controlIds.has(id) || type(id) === TOKEN_TYPE.unknown
        return control || type(id) === TOKEN_TYPE.userDefined ? [{ id, text, control }] : []
      })
      .sort((a, b) => byteLength(b.text) - byteLength(a.text) || a.id - b.id)

    if (vocab.model === 'llama') {
      this.spm = new SpmEncoder(vocab.tokens, vocab.scores)
    } else {
      this.bpe = byteLevelBpe(vocab, fileName)
    }
    this.pieces = vocab.tokens.map((_, id) => this.piece(id))
  }

  static fromVocab(vocab: TokenizerVocab, fileName: string): Tokenizer {
    return new Tokenizer(vocab, fileName)
  }

  /** From a GGUF file's metadata (only the `tokenizer.*` keys are read). */
  static fromGguf(metadata: GgufMetadata, fileName: string): Tokenizer {
    return new Tokenizer(readGgufTokenizer(metadata, fileName), fileName)
  }

  /** From a Hugging Face tokenizer.json (+ tokenizer_config.json), already read by the caller. */
  static fromHf(files: HfTokenizerFiles, fileName: string, options: ReadHfTokenizerOptions = {}): Tokenizer {
    return new Tokenizer(readHfTokenizer(files, fileName, options), fileName)
  }

  /** The token's text as stored in the vocabulary (`▁the`, `Ġthe`, `<|im_end|>`). */
  tokenText(id: number): string {
    const text = this.vocab.tokens[id]
    if (text === undefined) throw new RangeError(`${this.fileName}: token id ${id} is outside the vocabulary (${this.vocabSize} tokens)`)
    return text
  }

  encode(text: string, options: TokenizerEncodeOptions = {}): number[] {
    const { addSpecial = false, parseSpecial = false } = options
    const out: number[] = []
    if (addSpecial && this.addBos) out.push(this.bosId!)
    let previousWasSpecial = true
    for (const fragment of this.fragments(text, parseSpecial)) {
      if (typeof fragment === 'number') {
        out.push(fragment)
        previousWasSpecial = true
        continue
      }
      if (this.spm) {
        // llama.cpp puts a space before text that starts the input or follows a special token.
        const spaced = this.settings.addSpacePrefix && previousWasSpecial ? ` ${fragment}` : fragment
        this.spm.encode(spaced.replaceAll(' ', SPACE), out)
      } else {
        for (const id of this.bpe!.encode(fragment, { add_special_tokens: false }).ids) {
          if (id === undefined) throw new Error(`${this.fileName}: byte-level BPE produced a piece outside the vocabulary for ${JSON.stringify(fragment)}`)
          out.push(id)
        }
      }
      previousWasSpecial = false
    }
    if (addSpecial && this.addEos) out.push(this.eosId!)
    return out
  }

  decode(ids: readonly number[], options: TokenizerDecodeOptions = {}): string {
    const { renderSpecial = false } = options
    let bytes: number[] = []
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`${this.fileName}: token id ${id} is outside the vocabulary (${this.vocabSize} tokens)`)
      }
      if (!renderSpecial && (this.controlIds.has(id) || tokenTypeOf(this.vocab, id) === TOKEN_TYPE.unknown)) return
      const piece = this.pieces[id]!
      // llama.cpp drops one leading space of the first token, even when an earlier control token printed nothing.
      bytes.push(...(i === 0 && this.settings.addSpacePrefix && piece[0] === 0x20 ? piece.subarray(1) : piece))
    })
    if (this.settings.cleanSpaces) bytes = cleanSpaces(bytes)
    return new TextDecoder().decode(Uint8Array.from(bytes))
  }

  /**
   * The model's chat template (tokenizer.chat_template) rendered with @huggingface/jinja, given
   * `messages`, `add_generation_prompt`, `bos_token` and `eos_token` as transformers does. Encode the result
   * with `parseSpecial: true` and without `addSpecial` (the template writes any BOS itself).
   */
  applyChatTemplate(messages: readonly ChatMessage[], options: ApplyChatTemplateOptions = {}): string {
    const { addGenerationPrompt = false, variables = {} } = options
    if (this.vocab.chatTemplate === undefined) tokenizerError(this.fileName, 'the model has no chat template (tokenizer.chat_template)')
    this.template ??= new Template(this.vocab.chatTemplate)
    const text = (id: number | undefined): string => (id === undefined ? '' : this.vocab.tokens[id]!)
    return this.template.render({
      ...variables,
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: addGenerationPrompt,
      bos_token: text(this.bosId),
      eos_token: text(this.eosId),
    })
  }

  /**
   * Splits text at special tokens the way llama.cpp's tokenizer_st_partition does: each special token in turn,
   * longest first, is cut out of every remaining text fragment. Control and unknown tokens only with
   * `parseSpecial`; user-defined tokens always.
   */
  private fragments(text: string, parseSpecial: boolean): (string | number)[] {
    let fragments: (string | number)[] = text === '' ? [] : [text]
    for (const special of this.specialTokens) {
      if (special.control && !parseSpecial) continue
      fragments = fragments.flatMap((fragment) => {
        if (typeof fragment === 'number' || !fragment.includes(special.text)) return [fragment]
        const parts = fragment.split(special.text)
        return parts.flatMap((part, i) => [...(i > 0 ? [special.id] : []), ...(part === '' ? [] : [part])])
      })
    }
    return fragments
  }

  /** What llama.cpp's token_to_piece writes for a token (control tokens: their text, shown only on request). */
  private piece(id: number): Uint8Array {
    const text = this.vocab.tokens[id]!
    const type = tokenTypeOf(this.vocab, id)
    const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
    if (this.controlIds.has(id) || type === TOKEN_TYPE.unknown || type === TOKEN_TYPE.userDefined) return utf8(text)
    if (type === TOKEN_TYPE.byte) return Uint8Array.of(parseInt(text.slice(3, 5), 16) || 0)
    if (type !== TOKEN_TYPE.normal) return new Uint8Array()
    if (this.kind === 'llama') return utf8(text.replaceAll(SPACE, ' '))
    const bytes: number[] = []
    for (const char of text) {
      const b = CHAR_TO_BYTE.get(char)
      if (b !== undefined) bytes.push(b)
      else {
        // llama_decode_text's marker for a character outside the byte-level alphabet.
        const hex = [...utf8(char)].map((x) => x.toString(16).padStart(2, '0')).join('')
        bytes.push(...utf8(`[UNK_BYTE_0x${hex}${text}]`))
      }
    }
    return Uint8Array.from(bytes)
  }
}

/** @huggingface/tokenizers' BPE over the whole vocabulary, with the pre-tokenizer llama.cpp uses for `pre`. */
function byteLevelBpe(vocab: TokenizerVocab, fileName: string): HfLibraryTokenizer {
  const pre = bpePreTokenizer(vocab.pre)
  if (pre === undefined) return unsupportedPre(fileName, vocab.pre)
  const ids = new Map(vocab.tokens.map((text, id) => [text, id]))
  BYTE_TO_CHAR.forEach((char, b) => {
    if (!ids.has(char)) tokenizerError(fileName, `byte-level BPE vocabulary lacks the symbol ${JSON.stringify(char)} for byte 0x${b.toString(16).padStart(2, '0')}`)
  })
  // Special tokens are split off by Tokenizer.fragments, so the library sees none (added_tokens is empty).
  return new HfLibraryTokenizer(
    {
      version: '1.0',
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: pre.hfPreTokenizer,
      post_processor: null,
      decoder: null,
      model: {
        type: 'BPE',
        vocab: Object.fromEntries(ids),
        merges: vocab.merges!.map(splitMerge),
        ignore_merges: pre.ignoreMerges,
        byte_fallback: false,
        fuse_unk: false,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
      },
    },
    {},
  )
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length
}

/** llama.cpp's clean_up_tokenization_spaces, three passes over the bytes. */
function cleanSpaces(input: number[]): number[] {
  const SP = 0x20
  const QUOTE = 0x27
  const ch = (c: string): number => c.charCodeAt(0)
  // 1: " ?", " !", " .", " ," lose the space.
  let a = input
  let out: number[] = a.slice(0, 1)
  for (let i = 1; i < a.length; i++) {
    if (a[i - 1] === SP && [ch('?'), ch('!'), ch('.'), ch(',')].includes(a[i]!)) out.pop()
    out.push(a[i]!)
  }
  // 2: " ' " becomes "'".
  a = out
  out = a.slice(0, 1)
  for (let i = 1; i < a.length; i++) {
    const x = a[i]!
    if (x === QUOTE && i + 1 < a.length && a[i - 1] === SP && a[i + 1] === SP) {
      out.pop()
      a[i + 1] = 0
      out.push(x)
      i++
      continue
    }
    out.push(x)
  }
  // 3: " 's", " 'm", " 're", " 've" lose the space (" 't", " 'd", " 'll" keep it).
  a = out
  out = a.slice(0, 1)
  for (let i = 1; i < a.length; i++) {
    const x = a[i]!
    if (a[i - 1] === SP && x === QUOTE && i + 1 < a.length) {
      const x1 = a[i + 1]!
      const x2 = a[i + 2]
      if (x1 === ch('s') || x1 === ch('m')) out.pop()
      else if (i + 2 < a.length && ((x1 === ch('r') && x2 === ch('e')) || (x1 === ch('v') && x2 === ch('e')))) out.pop()
    }
    out.push(x)
  }
  return out
}
