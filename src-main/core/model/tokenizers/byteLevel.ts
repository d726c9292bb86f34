/**
 * GPT-2's byte-level alphabet: every byte maps to one printable character, so byte-level BPE vocabularies
 * (GPT-2, Llama 3, Qwen2) are plain strings. Printable Latin-1 bytes map to themselves; the other 68 bytes
 * map, in byte order, to U+0100 onwards (space 0x20 → `Ġ` U+0120, newline 0x0A → `Ċ` U+010A).
 */
function buildByteLevel(): { byteToChar: string[]; charToByte: Map<string, number>; order: number[] } {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)
  const byteToChar: string[] = []
  let shifted = 0
  for (let b = 0; b < 256; b++) byteToChar[b] = String.fromCodePoint(printable(b) ? b : 256 + shifted++)
  // GPT-2's vocabulary lists the printable bytes first, then the shifted ones: the order its encoder.json uses.
  const order = [...Array(256).keys()].sort((a, b) => Number(!printable(a)) - Number(!printable(b)) || a - b)
  return { byteToChar, charToByte: new Map(byteToChar.map((c, b) => [c, b])), order }
}

const BYTE_LEVEL = buildByteLevel()

/** The character standing for each byte (index = byte). */
export const BYTE_TO_CHAR: readonly string[] = BYTE_LEVEL.byteToChar
/** The byte each byte-level character stands for. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = BYTE_LEVEL.charToByte
/** Bytes in the order GPT-2-style vocabularies give them ids 0–255. */
export const BYTE_LEVEL_ORDER: readonly number[] = BYTE_LEVEL.order

/** Text as its byte-level characters (UTF-8 bytes, each as one character). */
export function toByteLevel(text: string): string {
  let out = ''
  for (const b of new TextEncoder().encode(text)) out += BYTE_TO_CHAR[b]!
  return out
}
