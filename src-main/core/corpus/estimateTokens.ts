/**
 * Token count estimate used for chunking when no tokenizer is chosen. Byte-pair tokenizers of current
 * models spend about one token on a common word or a word piece of up to ~6 letters, one per group of up
 * to 3 digits (Llama 3, Qwen), one per punctuation mark or symbol, one per CJK character, and one per line
 * break run. Words in other scripts split more finely: one token per 3 letters. It is an estimate, used
 * only to size chunks; a project that names its generator model counts with that model's tokenizer.
 */
export function estimateTokens(text: string, start = 0, end = text.length): number {
  let tokens = 0
  let letters = 0
  let nonAsciiLetters = false
  let digits = 0
  let previousNewline = false
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i)
    if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90)) {
      if (digits > 0) {
        tokens += Math.ceil(digits / 3)
        digits = 0
      }
      letters++
      previousNewline = false
      continue
    }
    if (code >= 48 && code <= 57) {
      if (letters > 0) {
        tokens += Math.ceil(letters / (nonAsciiLetters ? 3 : 6))
        letters = 0
        nonAsciiLetters = false
      }
      digits++
      previousNewline = false
      continue
    }
    if (code >= 128 && isLetterLike(code)) {
      if (digits > 0) {
        tokens += Math.ceil(digits / 3)
        digits = 0
      }
      letters++
      nonAsciiLetters = true
      previousNewline = false
      continue
    }
    // Anything else ends the current word.
    if (letters > 0) tokens += Math.ceil(letters / (nonAsciiLetters ? 3 : 6))
    if (digits > 0) tokens += Math.ceil(digits / 3)
    letters = 0
    digits = 0
    nonAsciiLetters = false
    if (code === 32 || code === 9) continue
    if (code === 10) {
      if (!previousNewline) tokens++
      previousNewline = true
      continue
    }
    previousNewline = false
    tokens++
    // An astral character (emoji, rare CJK) is one token: skip its low surrogate.
    if (code >= 0xd800 && code <= 0xdbff) i++
  }
  if (letters > 0) tokens += Math.ceil(letters / (nonAsciiLetters ? 3 : 6))
  if (digits > 0) tokens += Math.ceil(digits / 3)
  return tokens
}

function isCjk(code: number): boolean {
  return (code >= 0x3040 && code <= 0x30ff) || (code >= 0x3400 && code <= 0x9fff) || (code >= 0xac00 && code <= 0xd7af) || (code >= 0xf900 && code <= 0xfaff)
}

// Latin-1 letters, Latin Extended, Greek, Cyrillic, Armenian, Hebrew, Arabic, Indic… count as word letters;
// general punctuation (U+2000–U+206F) and symbols count as their own tokens.
function isLetterLike(code: number): boolean {
  if (code < 0xc0) return false
  if (isCjk(code) || (code >= 0xd800 && code <= 0xdfff)) return false
  if (code === 0xd7 || code === 0xf7) return false
  if (code >= 0x2000 && code <= 0x2bff) return false
  if (code >= 0x3000 && code <= 0x303f) return false
  if (code >= 0xff00 && code <= 0xffef) return false
  return true
}
