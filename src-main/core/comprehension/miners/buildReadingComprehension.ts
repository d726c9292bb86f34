import { splitSentences } from '../../corpus/splitSentences.js'
import { randomStream, type RandomKey } from '../../train/random.js'
import { mineCommonsense, type MineCommonsenseOptions } from './mineCommonsense.js'
import { mineNli, NLI_LABELS, type NliLabel } from './mineNli.js'
import { mineParaphrase } from './mineParaphrase.js'
import { mineKeywordSentences, mineWordToText } from './mineWordToText.js'
import { pickOne, pickWeighted, randomIndex, shuffled } from './seededChoice.js'
import {
  CAUSE_EFFECT_TEMPLATES,
  COMPLETION_TEMPLATES,
  DEFINITION_TEMPLATES,
  EFFECT_CAUSE_TEMPLATES,
  fillTemplate,
  INTRO_CONNECTORS,
  KEYWORD_TEMPLATES,
  NEITHER_TEMPLATES,
  NLI_ANSWERS,
  NLI_CLASSIFY_TEMPLATES,
  NLI_GENERATE_TEMPLATES,
  NLI_OPTIONS,
  PARAPHRASE_DIFFERENT_TEMPLATES,
  PARAPHRASE_SIMILAR_TEMPLATES,
  SUMMARIZE_COMPLETION_TEMPLATES,
  SUMMARIZE_TEMPLATES,
  TOPIC_TEMPLATES,
  type QaTemplate,
} from './templates.js'

export interface ReadingComprehensionDocument {
  /** Names the document's random stream (its id or a hash of its text), so its choices don't depend on order. */
  key: RandomKey
  /** The text without its title. */
  text: string
  /** `null`, absent or empty: no title, so no summarization task. */
  title?: string | null
}

export type RcTaskType = 'nli' | 'commonsense' | 'paraphrase' | 'wordToText'
export type RcSubcategory = NliLabel | 'causeEffect' | 'effectCause' | 'similar' | 'different' | 'definition' | 'topic' | 'keywords'
export type RcWrapper = 'summarize' | 'completion' | 'summarizeCompletion' | 'neither'

/** One mined item as it appears in the output. */
export interface RcTask {
  type: RcTaskType
  subcategory: RcSubcategory
  /** The mined fields (premise, hypothesis, verbalizer…). */
  fields: Readonly<Record<string, string>>
  question: string
  answer: string
}

export interface ReadingComprehension {
  /** The training text: raw text in a wrapper, then the tasks (§1.4). */
  text: string
  wrapper: RcWrapper
  /** The tasks kept (at most `maxItemsPerSubcategory` per subcategory), in output order. */
  tasks: RcTask[]
  /** How many matches each subcategory had before the cap. */
  matchCounts: Record<RcSubcategory, number>
  /** Whether the text was cut to `maxContextChars`. */
  truncated: boolean
}

export interface BuildReadingComprehensionOptions {
  /** Fills `{domain}` in templates ("biomedicine", "finance", "law" in the paper). Defaults to `'general'`. */
  domain?: string
  /** Lower-cased domain words for the keyword task; without them the task is skipped. Defaults to none. */
  domainKeywords?: ReadonlySet<string>
  /**
   * The text is cut at the last sentence end within this many characters (the code cuts at 1,848 tokens, §1.2
   * step 1; 4 characters per token, §5.1, keeps this tokenizer-independent). Defaults to `7392`.
   */
  maxContextChars?: number
  /** §1.4 step 1, "to prevent task dominance". Defaults to `2`. */
  maxItemsPerSubcategory?: number
  /** See `MineCommonsenseOptions.effectCause`. Defaults to `'faithful'`. */
  effectCause?: MineCommonsenseOptions['effectCause']
}

/** §1.3: one draw per document picks NLI classification (80%) or generation (20%). */
const NLI_CLASSIFY_PROBABILITY = 0.8

/** §1.4 step 3: wrapper probabilities, by what the document has. */
const WRAPPER_WEIGHTS: Record<'titleAndSentences' | 'titleOnly' | 'sentencesOnly', Readonly<Record<RcWrapper, number>>> = {
  titleAndSentences: { summarize: 0.4, completion: 0.1, summarizeCompletion: 0.4, neither: 0.1 },
  titleOnly: { summarize: 0.5, completion: 0, summarizeCompletion: 0, neither: 0.5 },
  sentencesOnly: { summarize: 0, completion: 0.5, summarizeCompletion: 0, neither: 0.5 },
}
const WRAPPERS: readonly RcWrapper[] = ['summarize', 'completion', 'summarizeCompletion', 'neither']

/**
 * One AdaptLLM reading-comprehension training text (domain-rc.md §1.2–1.4): truncate, split into sentences, mine,
 * keep at most two items per subcategory, render each type as a block of items, then wrap the raw text in a
 * summarization / completion / plain template with the blocks appended. Every random choice comes from one stream,
 * `randomStream(seed, 'readingComprehension', document.key)`, so the same (seed, key, text) always gives the same text.
 */
export function buildReadingComprehension(
  document: ReadingComprehensionDocument,
  seed: number,
  { domain = 'general', domainKeywords = new Set(), maxContextChars = 7392, maxItemsPerSubcategory = 2, effectCause = 'faithful' }: BuildReadingComprehensionOptions = {},
): ReadingComprehension {
  const random = randomStream(seed, 'readingComprehension', document.key)
  const title = document.title === undefined || document.title === null || document.title.trim() === '' ? null : document.title
  const { context, truncated } = truncateAtSentence(document.text, maxContextChars)
  const sentenceUnits = [...splitSentences(context)]
  const sentenceStarts = sentenceUnits.map((unit) => unit.start)
  const sentences = sentenceUnits.map((unit) => context.slice(unit.start, unit.end))

  const nliMode = random() < NLI_CLASSIFY_PROBABILITY ? 'classify' : 'generate'
  const nli = mineNli(context)
  const commonsense = mineCommonsense(context, { effectCause })
  const paraphrase = mineParaphrase(context)
  const wordToText = mineWordToText(context)
  const keywords = mineKeywordSentences(sentences, domainKeywords, random, { maxSentences: maxItemsPerSubcategory })

  const matchCounts: Record<RcSubcategory, number> = {
    entail: nli.entail.length,
    contradict: nli.contradict.length,
    neutral: nli.neutral.length,
    causeEffect: commonsense.causeEffect.length,
    effectCause: commonsense.effectCause.length,
    similar: paraphrase.similar.length,
    different: paraphrase.different.length,
    definition: wordToText.definition.length,
    topic: wordToText.topic.length,
    keywords: keywords.length,
  }

  // §1.4: "seeded uniform pick per family (same seed within a document)": every item of a family in this document
  // uses the same template, picked the first time the family is needed.
  const templateOf = new Map<readonly QaTemplate[], QaTemplate>()
  const familyTemplate = (family: readonly QaTemplate[]): QaTemplate => {
    let template = templateOf.get(family)
    if (template === undefined) {
      template = pickOne(random, family)
      templateOf.set(family, template)
    }
    return template
  }
  const fieldsWithDomain = (fields: Record<string, string>): Record<string, string> => ({ domain, ...fields })
  const capped = <T>(items: readonly T[]): T[] => shuffled(random, items).slice(0, maxItemsPerSubcategory)
  const render = (type: RcTaskType, subcategory: RcSubcategory, family: readonly QaTemplate[], fields: Record<string, string>, templateFields: Record<string, string> = fields): RcTask => {
    const template = familyTemplate(family)
    const all = fieldsWithDomain(templateFields)
    return { type, subcategory, fields, question: fillTemplate(template.question, all), answer: fillTemplate(template.answer, all) }
  }

  const blocks: RcTask[][] = []
  const nliTasks: RcTask[] = []
  for (const label of NLI_LABELS) {
    for (const item of capped(nli[label])) {
      const fields = { premise: item.premise, hypothesis: item.hypothesis, verbalizer: item.verbalizer }
      if (nliMode === 'classify') nliTasks.push(render('nli', label, NLI_CLASSIFY_TEMPLATES, fields, { ...fields, ...NLI_ANSWERS[label], options: NLI_OPTIONS }))
      else nliTasks.push(render('nli', label, NLI_GENERATE_TEMPLATES[label], fields))
    }
  }
  blocks.push(nliTasks)
  blocks.push([
    ...capped(commonsense.causeEffect).map((item) => render('commonsense', 'causeEffect', CAUSE_EFFECT_TEMPLATES, { cause: item.cause, effect: item.effect, verbalizer: item.verbalizer })),
    ...capped(commonsense.effectCause).map((item) => render('commonsense', 'effectCause', EFFECT_CAUSE_TEMPLATES, { effect: item.effect, cause: item.cause, verbalizer: item.verbalizer })),
  ])
  blocks.push([
    ...capped(paraphrase.similar).map((item) => render('paraphrase', 'similar', PARAPHRASE_SIMILAR_TEMPLATES, { sentence1: item.sentence1, sentence2: item.sentence2, verbalizer: item.verbalizer })),
    ...capped(paraphrase.different).map((item) => render('paraphrase', 'different', PARAPHRASE_DIFFERENT_TEMPLATES, { sentence1: item.sentence1, sentence2: item.sentence2, verbalizer: item.verbalizer })),
  ])
  blocks.push([
    ...capped(wordToText.definition).map((item) => render('wordToText', 'definition', DEFINITION_TEMPLATES, { word: item.word, definition: item.definition, verbalizer: item.verbalizer })),
    ...capped(wordToText.topic).map((item) => render('wordToText', 'topic', TOPIC_TEMPLATES, { sentence: item.sentence, topic: item.topic, verbalizer: item.verbalizer })),
    ...keywords.map((item) => render('wordToText', 'keywords', KEYWORD_TEMPLATES, { tripleset: item.tripleset, sentence: item.sentence })),
  ])

  const orderedBlocks = shuffled(random, blocks.filter((block) => block.length > 0))
  const tasks = orderedBlocks.flat()
  const qaDemos =
    orderedBlocks.length === 0
      ? ''
      : fillTemplate(pickOne(random, INTRO_CONNECTORS), { domain }) +
        orderedBlocks.map((block) => block.map((task) => `${task.question} ${task.answer}`).join('\n\n')).join('\n\n')

  const hasSentences = sentences.length >= 2
  const weights = title !== null && hasSentences ? WRAPPER_WEIGHTS.titleAndSentences : title !== null ? WRAPPER_WEIGHTS.titleOnly : hasSentences ? WRAPPER_WEIGHTS.sentencesOnly : null
  const wrapper: RcWrapper = weights === null ? 'neither' : (WRAPPERS[pickWeighted(random, WRAPPERS.map((w) => weights[w]))] ?? 'neither')

  let wrapped: string
  if (wrapper === 'neither') {
    wrapped = fillTemplate(pickOne(random, NEITHER_TEMPLATES), { domain, context: title === null ? context : `${title}\n${context}`, qaDemos })
  } else if (wrapper === 'summarize') {
    wrapped = fillTemplate(pickOne(random, SUMMARIZE_TEMPLATES), { domain, contextWithoutTitle: context, title: title ?? '', qaDemos })
  } else {
    // §1.3: the cut point is uniform in [1, n−1]; `first` is the text before sentence `cut`.
    const cut = 1 + randomIndex(random, sentences.length - 1)
    const cutAt = sentenceStarts[cut] ?? context.length
    const before = context.slice(0, cutAt).trimEnd()
    const second = context.slice(cutAt)
    const first = wrapper === 'completion' && title !== null ? `${title}\n${before}` : before
    const family = wrapper === 'completion' ? COMPLETION_TEMPLATES : SUMMARIZE_COMPLETION_TEMPLATES
    wrapped = fillTemplate(pickOne(random, family), { domain, first, second, title: title ?? '', qaDemos })
  }

  // §1.4 step 4: remove_double_space.
  return { text: wrapped.replace(/ {2,}/g, ' '), wrapper, tasks, matchCounts, truncated }
}

function truncateAtSentence(text: string, maxChars: number): { context: string; truncated: boolean } {
  if (text.length <= maxChars) return { context: text, truncated: false }
  const units = [...splitSentences(text, 0, maxChars)]
  const last = units.at(-1)
  // Only the last unit can be a sentence cut short by the limit.
  const lastIsWhole = last !== undefined && /[.!?]["'”’)\]]*$/.test(text.slice(last.start, last.end))
  const end = lastIsWhole ? last.end : (units.at(-2)?.end ?? maxChars)
  return { context: text.slice(0, end), truncated: true }
}
