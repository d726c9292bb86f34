import { seededRandom } from '../../../src-main/core/train/random.js'

/** One key → value pair of the UUID memory task (specs/mora.md §7). */
export interface UuidPair {
  key: string
  value: string
}

export interface UuidPairsOptions {
  /** Hex digits per key and per value; a UUID has 32. Defaults to `32`. */
  hexDigits?: number
  /** Defaults to `0`. */
  seed?: number
}

/** Written between key and value; it ends the prompt, so the value's tokens are the only ones that count. */
export const UUID_SEPARATOR = ':'

// Upper case on purpose: the tiny SentencePiece vocabulary has lower-case pieces such as `de`, `be` and `ca`
// (from its word list), which would merge two hex digits into one token. Upper-case digits are one token each,
// so token accuracy and character accuracy agree, as they would for a model whose vocabulary splits UUIDs evenly.
const HEX = '0123456789ABCDEF'

/**
 * `count` seeded random pairs of hex strings, the keys all distinct. Both halves are uniform, so nothing about a
 * value can be inferred from its key: the pairs can only be memorized.
 */
export function uuidPairs(count: number, { hexDigits = 32, seed = 0 }: UuidPairsOptions = {}): UuidPair[] {
  const random = seededRandom(seed)
  const hex = (): string => Array.from({ length: hexDigits }, () => HEX[random.nextBelow(16)]).join('')
  const keys = new Set<string>()
  const pairs: UuidPair[] = []
  while (pairs.length < count) {
    const key = hex()
    if (keys.has(key)) continue
    keys.add(key)
    pairs.push({ key, value: hex() })
  }
  return pairs
}

/** The pairs as training JSONL: {"prompt": key + separator, "response": value}. */
export function uuidPairsJsonl(pairs: readonly UuidPair[]): string {
  return pairs.map(({ key, value }) => JSON.stringify({ prompt: key + UUID_SEPARATOR, response: value })).join('\n') + '\n'
}
