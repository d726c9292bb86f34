import { TOKEN_TYPE, tokenizerError } from './tokenizerVocab.js'

/**
 * SentencePiece-style vocabularies reach Hugging Face as BPE with merges, and come back to GGUF with scores.
 *
 * llama.cpp's SPM tokenizer merges, at each step, the adjacent pair whose joined text is a token with the
 * highest score (ties: leftmost). Hugging Face's BPE merges the pair of lowest rank. transformers'
 * SentencePieceExtractor turns scores into ranks: every split of every token into two tokens is a merge,
 * ordered by the token's score (best first), splits of one token by the ids of their halves. With that
 * complete list both algorithms make the same merges, so we go back by giving each token a score from the
 * rank of the first merge that makes it.
 */
export function spmMergesFromScores(tokens: readonly string[], scores: readonly number[], include: (id: number) => boolean): [string, string][] {
  const ids = new Map<string, number>()
  tokens.forEach((text, id) => {
    if (include(id)) ids.set(text, id)
  })
  const merges: { left: string; right: string; score: number }[] = []
  tokens.forEach((text, id) => {
    if (!include(id)) return
    const chars = Array.from(text)
    const splits: { left: string; right: string; leftId: number; rightId: number }[] = []
    for (let i = 1; i < chars.length; i++) {
      const left = chars.slice(0, i).join('')
      const right = chars.slice(i).join('')
      const leftId = ids.get(left)
      const rightId = ids.get(right)
      if (leftId !== undefined && rightId !== undefined) splits.push({ left, right, leftId, rightId })
    }
    splits.sort((a, b) => a.leftId - b.leftId || a.rightId - b.rightId)
    for (const s of splits) merges.push({ left: s.left, right: s.right, score: scores[id] ?? 0 })
  })
  // Array.prototype.sort is stable, like Python's sorted(reverse=True): equal scores keep id order.
  merges.sort((a, b) => b.score - a.score)
  return merges.map((m) => [m.left, m.right])
}

/** Score of padding tokens (`[PAD<id>]`, type unused), as convert_hf_to_gguf's SentencePiece path writes it. */
export const SPM_PAD_SCORE = -10000

/**
 * Scores for a SentencePiece-style vocabulary given as BPE merges: normal tokens score 0, -1, -2, … in the
 * order the merges first make them, then the normal tokens no merge makes, by id; other tokens score 0
 * (unused padding SPM_PAD_SCORE). Every merge must join two tokens into a token.
 */
export function spmScoresFromMerges(tokens: readonly string[], tokenTypes: readonly number[], merges: readonly [string, string][], fileName: string): number[] {
  const ids = new Map(tokens.map((text, id) => [text, id]))
  const scores: (number | undefined)[] = new Array<number | undefined>(tokens.length).fill(undefined)
  let rank = 0
  merges.forEach(([left, right], index) => {
    for (const part of [left, right, left + right]) {
      if (!ids.has(part)) tokenizerError(fileName, `tokenizer.json merge ${index} ${JSON.stringify(`${left} ${right}`)} refers to unknown token ${JSON.stringify(part)}`)
    }
    const id = ids.get(left + right)!
    if (tokenTypes[id] === TOKEN_TYPE.normal && scores[id] === undefined) scores[id] = 0 - rank++
  })
  return tokenTypes.map((type, id) => {
    if (type === TOKEN_TYPE.unused) return SPM_PAD_SCORE
    if (type !== TOKEN_TYPE.normal) return 0
    return scores[id] ?? 0 - rank++
  })
}
