const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c

/**
 * The first key that appears twice in one object of a JSON text, or undefined. `JSON.parse` silently keeps
 * the last of two equal keys, and the safetensors format forbids them because two readers may then see two
 * different tensors under one name. Call it only on text that `JSON.parse` accepted: it assumes valid JSON.
 */
export function findDuplicateJsonKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: (Set<string> | null)[] = []
  let expectingKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const start = i
      for (i++; text.charCodeAt(i) !== QUOTE; i++) {
        if (text.charCodeAt(i) === BACKSLASH) i++
      }
      const keys = stack.at(-1)
      if (expectingKey && keys) {
        const key = JSON.parse(text.slice(start, i + 1)) as string
        if (keys.has(key)) return key
        keys.add(key)
        expectingKey = false
      }
    } else if (c === OPEN_BRACE) {
      stack.push(new Set())
      expectingKey = true
    } else if (c === OPEN_BRACKET) {
      stack.push(null)
      expectingKey = false
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      stack.pop()
      expectingKey = false
    } else if (c === COMMA) {
      expectingKey = stack.at(-1) instanceof Set
    }
  }
  return undefined
}
