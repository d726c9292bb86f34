import { shuffled, type UniformRandom } from './seededChoice.js'

export const DEFINITION_VERBALIZERS = ['is defined as', "'s definition is"] as const
export const TOPIC_VERBALIZERS = ['was about', 'talks about', 'is about', "'s topic is"] as const

export interface DefinitionItem {
  kind: 'definition'
  word: string
  definition: string
  verbalizer: string
}

export interface TopicItem {
  kind: 'topic'
  sentence: string
  topic: string
  verbalizer: string
}

export interface KeywordItem {
  kind: 'keywords'
  /** The sentence's first three domain keywords, joined with ", ". */
  tripleset: string
  sentence: string
}

export interface WordToTextMatches {
  definition: DefinitionItem[]
  topic: TopicItem[]
  keywords: KeywordItem[]
}

// domain-rc.md §1.3, Word-to-text. As in the code, "'s definition is" needs whitespace before it (the word class
// excludes whitespace but not "'"), so "X's definition is" is only caught in the spaced form "X 's definition is".
const DEFINITION_PATTERN = new RegExp(`([\\s]+)([^.!?,;\\s"]{10,})([\\s]+)(${DEFINITION_VERBALIZERS.join('|')})([\\s]+)([^.!?\\n]{20,}[.!?]+)([\\s]+)`, 'gi')
const TOPIC_PATTERN = new RegExp(`([.!?]+[\\s]+)([^.!?,;\\n]{20,})([\\s]+)(${TOPIC_VERBALIZERS.join('|')})([\\s]+)([^.!?\\n]{20,}[.!?]+)([\\s]+)`, 'gi')

/** Definitions (word = g2, definition = g6) and topic sentences (sentence = g2, topic = g6) in `text`. */
export function mineWordToText(text: string): Omit<WordToTextMatches, 'keywords'> {
  const definition: DefinitionItem[] = []
  for (const m of text.matchAll(DEFINITION_PATTERN)) definition.push({ kind: 'definition', word: m[2] ?? '', definition: m[6] ?? '', verbalizer: m[4] ?? '' })
  const topic: TopicItem[] = []
  for (const m of text.matchAll(TOPIC_PATTERN)) topic.push({ kind: 'topic', sentence: m[2] ?? '', topic: m[6] ?? '', verbalizer: m[4] ?? '' })
  return { definition, topic }
}

export interface MineKeywordSentencesOptions {
  /** A sentence needs at least this many distinct domain keywords. Defaults to `3`. */
  minKeywords?: number
  /** And at most this many distinct words. Defaults to `100`. */
  maxUniqueWords?: number
  /** Stop after this many sentences. Defaults to `2`. */
  maxSentences?: number
}

/**
 * The domain-keyword task (§1.3): visit the sentences in a shuffled order and keep those that hold enough domain
 * keywords. The code counts domain-SPM pieces missing from the general SPM; here a keyword is a word (lower-cased)
 * in `domainKeywords`, the substitute the spec allows, and counts are over distinct words so a tripleset never
 * repeats a word. The code shuffles with seed = text length; we draw from the document's stream instead.
 */
export function mineKeywordSentences(
  sentences: readonly string[],
  domainKeywords: ReadonlySet<string>,
  random: UniformRandom,
  { minKeywords = 3, maxUniqueWords = 100, maxSentences = 2 }: MineKeywordSentencesOptions = {},
): KeywordItem[] {
  const items: KeywordItem[] = []
  if (domainKeywords.size === 0) return items
  for (const sentence of shuffled(random, sentences)) {
    if (items.length >= maxSentences) break
    const words = [...new Set(sentence.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [])]
    if (words.length > maxUniqueWords) continue
    const keywords = words.filter((word) => domainKeywords.has(word))
    if (keywords.length < minKeywords) continue
    items.push({ kind: 'keywords', tripleset: keywords.slice(0, 3).join(', '), sentence })
  }
  return items
}
