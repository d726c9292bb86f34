import { bpePreFromHf, bpePreTokenizer, SUPPORTED_BPE_PRE, type HfJson } from './bpePreTokenizers.js'
import { effectiveSpecials } from './effectiveSpecials.js'
import { spmMergesFromScores, spmScoresFromMerges } from './spmMerges.js'
import { checkTokenizerVocab, splitMerge, TOKEN_TYPE, tokenizerError, tokenTypeOf, unsupportedTokenizer, type TokenizerVocab } from './tokenizerVocab.js'

/** A Hugging Face tokenizer as parsed JSON: what AutoTokenizer reads from a model folder. */
export interface HfTokenizerFiles {
  /** tokenizer.json */
  tokenizerJson: HfJson
  /** tokenizer_config.json, where the folder has one. */
  tokenizerConfig?: HfJson
  /** chat_template.jinja, which newer transformers write instead of `chat_template` in the config. */
  chatTemplateJinja?: string
}

export interface ReadHfTokenizerOptions {
  /**
   * The model's vocabulary size (config.json `vocab_size`, the embedding rows). Ids below it that no token
   * holds become `[PAD<id>]` tokens of type unused, as convert_hf_to_gguf pads them. Defaults to `one past
   * the highest token id`.
   */
  vocabSize?: number
}

const SPACE = '▁'
const BYTE_TOKEN = /^<0x[0-9A-Fa-f]{2}>$/

/**
 * Hugging Face tokenizer.json + tokenizer_config.json for a vocabulary, laid out as the HF converters write
 * them: SentencePiece-style (`llama`) as BPE with byte fallback and `▁` (Llama 2, TinyLlama), every token in
 * `model.vocab`, merges derived from the scores (see spmMerges.ts); byte-level BPE (`gpt2`) as Qwen2 and
 * Llama 3 do, control and user-defined tokens only in `added_tokens`. `[PAD<id>]` padding is left out.
 */
export function hfTokenizerFiles(vocab: TokenizerVocab, fileName: string): Required<Omit<HfTokenizerFiles, 'chatTemplateJinja'>> {
  checkTokenizerVocab(vocab, fileName)
  const spm = vocab.model === 'llama'
  const pre = spm ? undefined : bpePreTokenizer(vocab.pre)
  if (!spm && pre === undefined) unsupportedPre(fileName, vocab.pre)
  const specials = effectiveSpecials(vocab)
  const type = (id: number): number => tokenTypeOf(vocab, id)
  const isPad = (id: number): boolean => type(id) === TOKEN_TYPE.unused && vocab.tokens[id] === `[PAD${id}]`
  const isAdded = (id: number): boolean => ([TOKEN_TYPE.control, TOKEN_TYPE.unknown, TOKEN_TYPE.userDefined] as number[]).includes(type(id))
  const text = (id: number | undefined): string | null => (id === undefined ? null : vocab.tokens[id]!)

  const modelVocab: Record<string, number> = {}
  vocab.tokens.forEach((token, id) => {
    if (!isPad(id) && (spm || !isAdded(id))) modelVocab[token] = id
  })
  const merges = spm
    ? spmMergesFromScores(vocab.tokens, vocab.scores ?? vocab.tokens.map(() => 0), (id) => !isPad(id))
    : vocab.merges!.map((m) => splitMerge(m) as [string, string])

  const addedTokens = vocab.tokens.flatMap((content, id) =>
    isAdded(id) ? [{ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: type(id) !== TOKEN_TYPE.userDefined }] : [],
  )

  const bosText = spm ? text(specials.bosId) : text(vocab.bosId)
  const eosText = spm ? text(specials.eosId) : text(vocab.eosId)
  const template = templateProcessing(specials.addBos ? bosText : null, specials.addEos ? eosText : null, vocab)
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }

  const tokenizerJson: HfJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: spm
      ? {
          type: 'Sequence',
          normalizers: [...(specials.addSpacePrefix ? [{ type: 'Prepend', prepend: SPACE }] : []), { type: 'Replace', pattern: { String: ' ' }, content: SPACE }],
        }
      : null,
    pre_tokenizer: spm ? null : pre!.hfPreTokenizer,
    post_processor: spm ? template : template ? { type: 'Sequence', processors: [byteLevel, template] } : byteLevel,
    decoder: spm
      ? {
          type: 'Sequence',
          decoders: [
            { type: 'Replace', pattern: { String: SPACE }, content: ' ' },
            { type: 'ByteFallback' },
            { type: 'Fuse' },
            ...(specials.addSpacePrefix ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
          ],
        }
      : byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: spm ? text(specials.unkId) : null,
      continuing_subword_prefix: spm ? null : '',
      end_of_word_suffix: spm ? null : '',
      fuse_unk: spm,
      byte_fallback: spm,
      ignore_merges: pre?.ignoreMerges ?? false,
      vocab: modelVocab,
      merges,
    },
  }

  const tokenizerConfig: HfJson = {}
  if (vocab.addBos !== undefined) tokenizerConfig['add_bos_token'] = vocab.addBos
  if (vocab.addEos !== undefined) tokenizerConfig['add_eos_token'] = vocab.addEos
  tokenizerConfig['added_tokens_decoder'] = Object.fromEntries(addedTokens.map(({ id, ...token }) => [String(id), token]))
  tokenizerConfig['bos_token'] = bosText
  if (vocab.chatTemplate !== undefined) tokenizerConfig['chat_template'] = vocab.chatTemplate
  tokenizerConfig['clean_up_tokenization_spaces'] = pre?.cleanSpaces ?? false
  tokenizerConfig['eos_token'] = eosText
  if (spm) tokenizerConfig['legacy'] = true
  tokenizerConfig['pad_token'] = text(vocab.padId)
  tokenizerConfig['tokenizer_class'] = spm ? 'LlamaTokenizerFast' : 'PreTrainedTokenizerFast'
  tokenizerConfig['unk_token'] = spm ? text(specials.unkId) : text(vocab.unkId)
  return { tokenizerJson, tokenizerConfig }
}

function templateProcessing(bos: string | null, eos: string | null, vocab: TokenizerVocab): HfJson | null {
  if (bos === null && eos === null) return null
  const special = (token: string, typeId: number): HfJson => ({ SpecialToken: { id: token, type_id: typeId } })
  const sequence = (id: 'A' | 'B', typeId: number): HfJson => ({ Sequence: { id, type_id: typeId } })
  const around = (inner: HfJson, typeId: number): HfJson[] => [...(bos ? [special(bos, typeId)] : []), inner, ...(eos ? [special(eos, typeId)] : [])]
  const specialTokens: HfJson = {}
  for (const token of [bos, eos]) {
    if (token !== null) specialTokens[token] = { id: token, ids: [vocab.tokens.indexOf(token)], tokens: [token] }
  }
  return { type: 'TemplateProcessing', single: around(sequence('A', 0), 0), pair: [...around(sequence('A', 0), 0), ...around(sequence('B', 1), 1)], special_tokens: specialTokens }
}

/**
 * The vocabulary of a Hugging Face tokenizer, as convert_hf_to_gguf would put it into a GGUF file, with one
 * deliberate difference: SentencePiece-style scores come from the merge ranks (convert_hf_to_gguf gives every
 * token -1000 when there is no tokenizer.model, and llama.cpp then merges leftmost-first instead of as HF does).
 */
export function readHfTokenizer(files: HfTokenizerFiles, fileName: string, options: ReadHfTokenizerOptions = {}): TokenizerVocab {
  const json = files.tokenizerJson
  const config = files.tokenizerConfig ?? {}
  const fail = (message: string): never => tokenizerError(fileName, message)
  const model = object(json['model']) ?? fail('tokenizer.json has no model section')
  if (model['type'] !== 'BPE') unsupportedTokenizer(fileName, `tokenizer.json model type ${JSON.stringify(model['type'])} is not supported (BPE only)`)
  const modelVocab = object(model['vocab']) ?? fail('tokenizer.json model.vocab is missing')
  const addedTokens = Array.isArray(json['added_tokens']) ? json['added_tokens'].map((t, i) => addedToken(t, i, fail)) : []

  const byId = new Map<number, string>()
  for (const [token, id] of Object.entries(modelVocab)) {
    if (!isId(id)) return fail(`tokenizer.json model.vocab gives ${JSON.stringify(token)} the id ${JSON.stringify(id)}`)
    if (byId.has(id)) fail(`tokenizer.json model.vocab gives id ${id} to both ${JSON.stringify(byId.get(id))} and ${JSON.stringify(token)}`)
    byId.set(id, token)
  }
  for (const added of addedTokens) byId.set(added.id, added.content)
  let highest = -1
  for (const id of byId.keys()) highest = Math.max(highest, id)
  const vocabSize = options.vocabSize ?? highest + 1
  if (highest >= vocabSize) fail(`token id ${highest} does not fit a vocabulary of ${vocabSize}`)
  const tokens = Array.from({ length: vocabSize }, (_, id) => byId.get(id) ?? `[PAD${id}]`)

  const spm = model['byte_fallback'] === true || containsType(json['pre_tokenizer'], 'Metaspace') || containsType(json['normalizer'], 'Prepend')
  if (!spm && !containsType(json['pre_tokenizer'], 'ByteLevel')) {
    unsupportedTokenizer(fileName, 'tokenizer.json is neither SentencePiece-style BPE (byte_fallback, ▁) nor byte-level BPE (ByteLevel pre-tokenizer)')
  }
  const idOf = (token: string): number | undefined => addedTokens.find((a) => a.content === token)?.id ?? (isId(modelVocab[token]) ? modelVocab[token] : undefined)
  const specialId = (key: string): number | undefined => {
    const token = tokenContent(config[key])
    if (token === undefined) return undefined
    return idOf(token) ?? fail(`tokenizer_config.json ${key} ${JSON.stringify(token)} is not a token of tokenizer.json`)
  }
  const vocab: TokenizerVocab = { model: spm ? 'llama' : 'gpt2', tokens }
  const unkId = specialId('unk_token') ?? (spm && typeof model['unk_token'] === 'string' ? idOf(model['unk_token']) : undefined)

  const added = new Map(addedTokens.map((a) => [a.id, a]))
  vocab.tokenTypes = tokens.map((token, id) => {
    if (!byId.has(id)) return TOKEN_TYPE.unused
    const a = added.get(id)
    if (spm && id === unkId) return TOKEN_TYPE.unknown
    if (a) return a.special || looksSpecial(token) ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined
    return spm && BYTE_TOKEN.test(token) ? TOKEN_TYPE.byte : TOKEN_TYPE.normal
  })
  const merges = readMerges(model['merges'], fail)
  if (spm) {
    vocab.pre = 'default'
    vocab.scores = spmScoresFromMerges(tokens, vocab.tokenTypes, merges, fileName)
  } else {
    const pre = bpePreFromHf(json['pre_tokenizer'])
    if (pre === undefined) {
      unsupportedTokenizer(fileName, `tokenizer.json has a byte-level pre-tokenizer we do not know (supported: ${SUPPORTED_BPE_PRE.join(', ')}): ${JSON.stringify(json['pre_tokenizer'])}`)
    }
    vocab.pre = pre
    // gguf-py's SpecialVocab writes a space inside a merge part as U+0120, since GGUF merges are "left right".
    vocab.merges = merges.map((pair) => pair.map((part) => part.replaceAll(' ', '\u0120')).join(' '))
  }

  const template = templateEnds(json['post_processor'])
  const bosId = specialId('bos_token') ?? (template.first === undefined ? undefined : idOf(template.first))
  const eosId = specialId('eos_token') ?? (template.last === undefined ? undefined : idOf(template.last))
  const set = <F extends keyof TokenizerVocab>(field: F, value: TokenizerVocab[F] | undefined): void => {
    if (value !== undefined) vocab[field] = value
  }
  set('bosId', bosId)
  set('eosId', eosId)
  set('unkId', unkId)
  set('padId', specialId('pad_token'))
  const addBos = typeof config['add_bos_token'] === 'boolean' ? config['add_bos_token'] : template.first !== undefined && template.first === text(bosId) ? true : undefined
  const addEos = typeof config['add_eos_token'] === 'boolean' ? config['add_eos_token'] : template.last !== undefined && template.last === text(eosId) ? true : undefined
  set('addBos', addBos)
  set('addEos', addEos)
  if (spm && !prependsSpace(json)) vocab.addSpacePrefix = false
  set('chatTemplate', chatTemplate(config['chat_template']) ?? files.chatTemplateJinja)
  checkTokenizerVocab(vocab, fileName)
  return vocab

  function text(id: number | undefined): string | undefined {
    return id === undefined ? undefined : tokens[id]
  }
}

interface AddedToken {
  id: number
  content: string
  special: boolean
}

function addedToken(value: unknown, index: number, fail: (message: string) => never): AddedToken {
  const t = object(value)
  if (!t || !isId(t['id']) || typeof t['content'] !== 'string') fail(`tokenizer.json added_tokens[${index}] needs an integer id and a content string`)
  return { id: t['id'], content: t['content'], special: t['special'] === true }
}

function readMerges(value: unknown, fail: (message: string) => never): [string, string][] {
  if (value === undefined) return []
  if (!Array.isArray(value)) fail('tokenizer.json model.merges is not a list')
  return value.map((merge, i): [string, string] => {
    // Two formats: "left right" (before transformers 4.45) and ["left", "right"].
    if (typeof merge === 'string') {
      const parts = merge.split(' ')
      if (parts.length === 2 && parts[0] && parts[1]) return [parts[0], parts[1]]
    } else if (Array.isArray(merge) && merge.length === 2 && typeof merge[0] === 'string' && typeof merge[1] === 'string') {
      return [merge[0], merge[1]]
    }
    return fail(`tokenizer.json model.merges[${i}] is not a pair: ${JSON.stringify(merge)}`)
  })
}

/** The special tokens a TemplateProcessing post-processor puts before and after a single sequence. */
function templateEnds(postProcessor: unknown): { first?: string; last?: string } {
  const node = object(postProcessor)
  if (!node) return {}
  if (node['type'] === 'Sequence' && Array.isArray(node['processors'])) {
    for (const p of node['processors']) {
      const ends = templateEnds(p)
      if (ends.first !== undefined || ends.last !== undefined) return ends
    }
    return {}
  }
  if (node['type'] !== 'TemplateProcessing' || !Array.isArray(node['single']) || node['single'].length < 2) return {}
  const specialOf = (item: unknown): string | undefined => {
    const id = object(object(item)?.['SpecialToken'])?.['id']
    return typeof id === 'string' ? id : undefined
  }
  const out: { first?: string; last?: string } = {}
  const first = specialOf(node['single'][0])
  const last = specialOf(node['single'].at(-1))
  if (first !== undefined) out.first = first
  if (last !== undefined) out.last = last
  return out
}

/** Whether a SentencePiece-style tokenizer.json puts `▁` before the text (Prepend normalizer or Metaspace). */
function prependsSpace(json: HfJson): boolean {
  let found = false
  const visit = (value: unknown): void => {
    const node = object(value)
    if (!node) return
    if (node['type'] === 'Prepend' && node['prepend'] === SPACE) found = true
    if (node['type'] === 'Metaspace' && node['prepend_scheme'] !== 'never' && node['add_prefix_space'] !== false) found = true
    for (const child of [node['normalizers'], node['pretokenizers']]) if (Array.isArray(child)) child.forEach(visit)
  }
  visit(json['normalizer'])
  visit(json['pre_tokenizer'])
  return found
}

function chatTemplate(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) {
    const named = value.map(object).find((t) => t?.['name'] === 'default')
    return typeof named?.['template'] === 'string' ? named['template'] : undefined
  }
  return undefined
}

/** convert_hf_to_gguf's does_token_look_special: added tokens some models forget to mark special. */
function looksSpecial(token: string): boolean {
  return (
    ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(token) ||
    (token.startsWith('<|') && token.endsWith('|>')) ||
    (token.startsWith('<｜') && token.endsWith('｜>')) ||
    (token.startsWith('<unused') && token.endsWith('>'))
  )
}

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  const content = object(value)?.['content']
  return typeof content === 'string' ? content : undefined
}

function containsType(value: unknown, type: string): boolean {
  const node = object(value)
  if (!node) return false
  if (node['type'] === type) return true
  return [node['normalizers'], node['pretokenizers']].some((child) => Array.isArray(child) && child.some((c) => containsType(c, type)))
}

function object(value: unknown): HfJson | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as HfJson) : undefined
}

function isId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}

export function unsupportedPre(fileName: string, pre: string | undefined): never {
  return unsupportedTokenizer(
    fileName,
    pre === undefined
      ? `the gpt2 tokenizer has no tokenizer.ggml.pre (supported: ${SUPPORTED_BPE_PRE.join(', ')})`
      : `unsupported pre-tokenizer "${pre}" (supported: ${SUPPORTED_BPE_PRE.join(', ')})`,
  )
}
