/** Escapes SQL LIKE wildcards (and the escape character) with `\`, for a `LIKE ? ESCAPE '\'` that matches `text` literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}
