import { bpePreTokenizer } from './bpePreTokenizers.js'
import type { TokenizerVocab } from './tokenizerVocab.js'

/** The tokenizer settings llama.cpp ends up with once its defaults fill the keys a file leaves out. */
export interface EffectiveSpecials {
  bosId: number | undefined
  eosId: number | undefined
  unkId: number | undefined
  addBos: boolean
  addEos: boolean
  /** SPM: a space goes before every text fragment; both kinds: the detokenizer drops the first leading space. */
  addSpacePrefix: boolean
  /** The detokenizer removes spaces before `.,!?` and some apostrophes (clean_up_tokenization_spaces). */
  cleanSpaces: boolean
  /** Byte-level BPE takes a whole pre-token found in the vocabulary without merging. */
  ignoreMerges: boolean
}

/** llama-vocab.cpp's defaults: SPM bos 1, eos 2, unk 0, adds BOS; gpt2 bos = eos = 11; then per pre-tokenizer. */
export function effectiveSpecials(vocab: TokenizerVocab): EffectiveSpecials {
  const spm = vocab.model === 'llama'
  const inRange = (id: number | undefined): number | undefined => (id !== undefined && id < vocab.tokens.length ? id : undefined)
  const pre = spm ? undefined : bpePreTokenizer(vocab.pre)
  return {
    bosId: vocab.bosId ?? inRange(spm ? 1 : 11),
    eosId: vocab.eosId ?? inRange(spm ? 2 : 11),
    unkId: vocab.unkId ?? (spm ? inRange(0) : undefined),
    addBos: vocab.addBos ?? (spm ? true : (pre?.addBosByDefault ?? false)),
    addEos: vocab.addEos ?? false,
    addSpacePrefix: vocab.addSpacePrefix ?? spm,
    cleanSpaces: spm ? false : (pre?.cleanSpaces ?? true),
    ignoreMerges: pre?.ignoreMerges ?? false,
  }
}
