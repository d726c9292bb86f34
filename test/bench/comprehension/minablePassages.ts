import { NLI_VERBALIZERS } from '../../../src-main/core/comprehension/miners/mineNli.js'
import { ProseGenerator } from '../import/syntheticCorpus.js'

/** Connectives the AdaptLLM miners look for, by the shape of sentence they need (see the miners' patterns). */
const NLI_CONNECTIVES = [...NLI_VERBALIZERS.entail, ...NLI_VERBALIZERS.contradict, ...NLI_VERBALIZERS.neutral].filter((v) => !['Yes', 'No', 'Maybe'].includes(v))
const PARAPHRASE_CONNECTIVES = ['In other words', 'Namely', 'That is to say', 'Similarly']
const EFFECT_CAUSE_CONNECTIVES = ['Due to', 'Owing to', 'On account of']
const DEFINITION_CONNECTIVES = ['is defined as', "'s definition is"]
const TOPIC_CONNECTIVES = ['is about', 'talks about', 'was about']

/**
 * Prose passages of about `chars` characters for the reading-comprehension miners: the import bench's made-up
 * Zipf vocabulary, with about two sentences in five joined by a connective that one of the miners matches
 * ("X. Therefore, y." for NLI and cause/effect, "X. In other words, y." for paraphrase, "X. Due to y." for
 * effect/cause, "word is defined as …" and "… is about …" for the word-to-text tasks). Deterministic for a seed.
 */
export class MinablePassages {
  private readonly prose: ProseGenerator

  constructor(seed: number) {
    this.prose = new ProseGenerator(seed)
  }

  /** One passage of at least `chars` characters (a sentence more at most), in paragraphs of about five sentences. */
  passage(chars = 2000): string {
    const paragraphs: string[] = []
    let sentences: string[] = []
    let length = 0
    while (length < chars) {
      const sentence = this.nextSentence()
      sentences.push(sentence)
      length += sentence.length + 1
      if (sentences.length >= 5) {
        paragraphs.push(sentences.join(' '))
        sentences = []
        length += 1
      }
    }
    if (sentences.length > 0) paragraphs.push(sentences.join(' '))
    return paragraphs.join('\n\n')
  }

  private nextSentence(): string {
    const roll = this.prose.nextInt(100)
    const plain = this.prose.sentence()
    if (roll >= 40) return plain
    const next = lowerFirst(this.statement())
    const pick = <T>(list: readonly T[]): T => list[this.prose.nextInt(list.length)] as T
    if (roll < 16) return `${plain} ${pick(NLI_CONNECTIVES)}, ${next}`
    if (roll < 24) return `${plain} ${pick(PARAPHRASE_CONNECTIVES)}, ${next}`
    if (roll < 32) return `${this.statement()} ${pick(EFFECT_CAUSE_CONNECTIVES)} ${next}`
    if (roll < 36) return `The ${this.longWord()} ${pick(DEFINITION_CONNECTIVES)} ${next}`
    return `${plain.slice(0, -1)} ${pick(TOPIC_CONNECTIVES)} ${next}`
  }

  /** A sentence ending in a full stop and long enough (≥ 50 characters) for the cause/effect patterns. */
  private statement(): string {
    let sentence = this.prose.sentence().replace(/\?$/, '.')
    while (sentence.length < 60) sentence = `${sentence.slice(0, -1)} ${lowerFirst(this.prose.sentence().replace(/\?$/, '.'))}`
    return sentence
  }

  /** A word of at least ten letters, as the definition pattern wants. */
  private longWord(): string {
    for (;;) {
      const word = (/[a-z]{10,}/.exec(this.prose.sentence().toLowerCase()) ?? [])[0]
      if (word) return word
    }
  }
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1)
