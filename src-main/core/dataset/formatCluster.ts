import type { ChatMessage } from '../model/tokenizers/Tokenizer.js'
import { type UniformRandom, pickOne, shuffled } from '../comprehension/miners/seededChoice.js'

export interface QaPair {
  question: string
  answer: string
}

export interface ClusterDocument {
  text: string
  /** The document's QA pairs (ETRC §2.1); may be empty. */
  qaPairs: readonly QaPair[]
}

export interface FormattedCluster {
  /** The reading context followed by the questions, for language-model training on every token. */
  text: string
  /**
   * The same cluster as a conversation: the documents and the first question from the user, then the answers and
   * the remaining questions alternating. `null` when the cluster has no QA pair.
   */
  messages: ChatMessage[] | null
  /** The QA pairs in the shuffled order both renderings use. */
  qaPairs: QaPair[]
}

/**
 * Lines that lead from the reading context to its questions. Each starts with the break after the documents and
 * ends with the break before the first question. Our own wording, in the spirit of AdaptLLM's connectors.
 */
export const CLUSTER_CONNECTORS: readonly string[] = [
  '\n\nAnswer the following questions using the texts above.\n\n',
  '\n\nQuestions about the passages above:\n\n',
  '\n\nBased on what you just read, answer these questions.\n\n',
  '\n\nCheck your understanding of the articles above:\n\n',
  '\n\nNow respond to the questions below.\n\n',
  '\n\nHere are some questions on the material above.\n\n',
  '\n\n',
]

/** Documents of one extended reading context are separated by a blank line. */
export const DOCUMENT_SEPARATOR = '\n\n'

/**
 * ETRC's cluster formatting (domain-rc.md §2.2 step 3): the documents concatenated, then every QA pair of the
 * cluster shuffled together (so a question may refer to any document of the context), rendered as
 * `Question: …\nAnswer: …` blocks after a connector. The connector and the order come from `random`.
 */
export function formatCluster(documents: readonly ClusterDocument[], random: UniformRandom): FormattedCluster {
  const context = documents.map((d) => d.text).join(DOCUMENT_SEPARATOR)
  const qaPairs = shuffled(
    random,
    documents.flatMap((d) => d.qaPairs),
  )
  if (qaPairs.length === 0) return { text: context, messages: null, qaPairs }
  const connector = pickOne(random, CLUSTER_CONNECTORS)
  const blocks = qaPairs.map((qa) => `Question: ${qa.question}\nAnswer: ${qa.answer}`)
  const text = context + connector + blocks.join('\n\n')
  return { text, messages: clusterConversation(context, qaPairs), qaPairs }
}

/** The chat rendering: user (context + first question), assistant (answer), user (next question), … */
export function clusterConversation(context: string, qaPairs: readonly QaPair[]): ChatMessage[] {
  const messages: ChatMessage[] = []
  qaPairs.forEach((qa, i) => {
    messages.push({ role: 'user', content: i === 0 ? `${context}\n\n${qa.question}` : qa.question })
    messages.push({ role: 'assistant', content: qa.answer })
  })
  return messages
}
