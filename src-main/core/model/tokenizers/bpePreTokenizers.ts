/**
 * The byte-level BPE pre-tokenizers we support, by their `tokenizer.ggml.pre` name: how Hugging Face's
 * tokenizer.json writes each one, and the flags llama.cpp's llama-vocab.cpp attaches to that name.
 */
export interface BpePreTokenizer {
  /** `tokenizer.ggml.pre` as convert_hf_to_gguf writes it. */
  name: string
  /** Other names llama.cpp treats the same way. */
  aliases: readonly string[]
  /** The `pre_tokenizer` section of tokenizer.json. */
  hfPreTokenizer: HfJson
  /** Whole pre-tokens found in the vocabulary skip the merges (tokenizer.json `model.ignore_merges`). */
  ignoreMerges: boolean
  /** llama.cpp's detokenizer removes spaces before `.,!?` and some apostrophes. */
  cleanSpaces: boolean
  /** llama.cpp adds BOS when `tokenizer.ggml.add_bos_token` is absent. */
  addBosByDefault: boolean
}

export type HfJson = { [key: string]: unknown }

// The regexes exactly as Qwen2's and Llama 3's tokenizer.json spell them (llama.cpp rewrites `(?i:…)` as
// `(?:'[sS]|…)` because std::regex lacks inline flags; both forms are accepted when reading).
const CONTRACTIONS_HF = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)`
const CONTRACTIONS_LLAMA_CPP = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`
const QWEN2_REGEX = CONTRACTIONS_HF + String.raw`|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
const LLAMA3_REGEX = CONTRACTIONS_HF + String.raw`|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

const split = (regex: string): HfJson => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false })
const byteLevel = (useRegex: boolean, trimOffsets: boolean): HfJson => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: trimOffsets, use_regex: useRegex })

export const BPE_PRE_TOKENIZERS: readonly BpePreTokenizer[] = [
  {
    name: 'qwen2',
    aliases: ['deepseek-r1-qwen'],
    hfPreTokenizer: { type: 'Sequence', pretokenizers: [split(QWEN2_REGEX), byteLevel(false, false)] },
    ignoreMerges: false,
    cleanSpaces: false,
    addBosByDefault: false,
  },
  {
    name: 'llama-bpe',
    aliases: ['llama3', 'llama-v3'],
    hfPreTokenizer: { type: 'Sequence', pretokenizers: [split(LLAMA3_REGEX), byteLevel(false, true)] },
    ignoreMerges: true,
    cleanSpaces: true,
    addBosByDefault: true,
  },
  {
    name: 'gpt-2',
    aliases: [],
    hfPreTokenizer: byteLevel(true, true),
    ignoreMerges: false,
    cleanSpaces: true,
    addBosByDefault: false,
  },
  {
    name: 'smollm',
    aliases: [],
    hfPreTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(true, true)] },
    ignoreMerges: false,
    cleanSpaces: false,
    addBosByDefault: false,
  },
]

export const SUPPORTED_BPE_PRE = BPE_PRE_TOKENIZERS.map((p) => p.name)

export function bpePreTokenizer(name: string | undefined): BpePreTokenizer | undefined {
  return BPE_PRE_TOKENIZERS.find((p) => p.name === name || p.aliases.includes(name ?? ''))
}

/**
 * The `tokenizer.ggml.pre` name of a tokenizer.json `pre_tokenizer`, found by its structure rather than by
 * convert_hf_to_gguf's hash of a test tokenization (which needs the Python tokenizer). Undefined when the
 * structure is none we know.
 */
export function bpePreFromHf(preTokenizer: unknown): string | undefined {
  const signature = preTokenizerSignature(preTokenizer)
  return signature === undefined ? undefined : BPE_PRE_TOKENIZERS.find((p) => preTokenizerSignature(p.hfPreTokenizer) === signature)?.name
}

/** What decides how a pre-tokenizer splits text; options that do not change the split are left out. */
function preTokenizerSignature(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined
  const node = json as HfJson
  switch (node['type']) {
    case 'Sequence': {
      const parts = Array.isArray(node['pretokenizers']) ? node['pretokenizers'].map(preTokenizerSignature) : []
      return parts.length === 0 || parts.includes(undefined) ? undefined : parts.join(' + ')
    }
    case 'Split': {
      const pattern = node['pattern'] as HfJson | undefined
      const regex = typeof pattern?.['Regex'] === 'string' ? pattern['Regex'] : undefined
      if (regex === undefined || node['behavior'] !== 'Isolated' || node['invert'] === true) return undefined
      return `split(${regex.replace(CONTRACTIONS_LLAMA_CPP, CONTRACTIONS_HF)})`
    }
    case 'ByteLevel':
      // A prefix space changes every tokenization and llama.cpp never adds one.
      if (node['add_prefix_space'] === true) return undefined
      return `bytelevel(regex=${node['use_regex'] !== false})`
    case 'Digits':
      return `digits(${node['individual_digits'] === true})`
    default:
      return undefined
  }
}
