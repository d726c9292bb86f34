/** What the prompt calls the document's field when the user names none. */
export const DEFAULT_QA_DOMAIN = 'the subject of the document'

/** Kept short: the paper uses no system prompt, and every token here is prefilled again for each chunk. */
export const QA_SYSTEM_PROMPT = 'You write reading-comprehension questions about a passage and answer them from the passage. Reply with JSON only.'

export interface QaPromptOptions {
  /** How many question/answer pairs to ask for; at least 1. */
  pairs: number
  /** The field the passage belongs to, e.g. "biomedicine". Defaults to `DEFAULT_QA_DOMAIN`. */
  domain?: string
}

/**
 * The ETRC prompt (domain-rc.md §2.1) in our own words: the passage first, a blank line, then the request for
 * questions and answers as a JSON list of {question, answer} objects.
 */
export function buildQaPrompt(text: string, { pairs, domain = DEFAULT_QA_DOMAIN }: QaPromptOptions): string {
  const count = Math.max(1, Math.floor(pairs))
  const subject = domain.trim() === '' ? DEFAULT_QA_DOMAIN : domain.trim()
  const asked = count === 1 ? 'one question' : `${count} questions`
  return (
    `${text.trim()}\n\n` +
    `Write ${asked} that help a reader understand the passage above about ${subject}, together with their answers. ` +
    'Give them as a JSON list of objects, each object having exactly two keys: "question" and "answer".'
  )
}
