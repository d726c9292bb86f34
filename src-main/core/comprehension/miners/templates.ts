/**
 * Template families of the reading-comprehension tasks (domain-rc.md §1.3, §1.4), worded for Lectern in the same
 * kinds of questions and answers as AdaptLLM's `utils/read.py`, with fewer templates per family. `{name}` is a
 * field; an item is rendered as `question + " " + answer`, so a question that wants an "Answer:" cue ends with it.
 */
export interface QaTemplate {
  readonly question: string
  readonly answer: string
}

const qa = (question: string, answer: string): QaTemplate => ({ question, answer })

/** NLI options, as in §1.3. */
export const NLI_OPTIONS = '- Yes\n- No\n- Maybe'
/** Answers of the NLI classification templates, by label: yes/no/maybe, connective, relation name. */
export const NLI_ANSWERS = {
  entail: { yesNoMaybe: 'Yes', connective: 'Therefore', relation: 'Entailment' },
  contradict: { yesNoMaybe: 'No', connective: 'However', relation: 'Contradictory' },
  neutral: { yesNoMaybe: 'Maybe', connective: 'Moreover', relation: 'Neutral' },
} as const

/** Classification: entailment questions (answer Yes/No/Maybe), "which connective" and "which relation" questions. */
export const NLI_CLASSIFY_TEMPLATES: readonly QaTemplate[] = [
  qa('Premise: {premise}\nHypothesis: {hypothesis}\nDoes the hypothesis follow from the premise?', '{yesNoMaybe}'),
  qa('{premise}\nBased on the sentence above, is it true that "{hypothesis}"?\n{options}', '{yesNoMaybe}'),
  qa('Read the statement: {premise}\nCan one conclude the following from it?\n{hypothesis}\n{options}\nAnswer:', '{yesNoMaybe}'),
  qa('Given that {premise} Does it follow that {hypothesis}\n{options}', '{yesNoMaybe}'),
  qa('Suppose "{premise}" is true. Is "{hypothesis}" then also true?', '{yesNoMaybe}'),
  qa('Statement one: {premise}\nStatement two: {hypothesis}\nIf the first statement holds, must the second hold too?\n{options}', '{yesNoMaybe}'),
  qa('Text: {premise}\nClaim: {hypothesis}\nIs the claim supported by the text?', '{yesNoMaybe}'),
  qa('{premise}\nQuestion: may we infer that "{hypothesis}"? Yes, no, or maybe?', '{yesNoMaybe}'),
  qa('Pick the best word to join these two sentences: "Therefore", "However" or "Moreover".\n{premise}\n{hypothesis}\nConnective:', '{connective}'),
  qa('"{premise}" ___, "{hypothesis}"\nWhich of Therefore, However and Moreover fits the blank?', '{connective}'),
  qa('Sentence A: {premise}\nSentence B: {hypothesis}\nWhat connects sentence B to sentence A: Therefore, However or Moreover?', '{connective}'),
  qa('What is the relation between "{premise}" and "{hypothesis}"? Choose Entailment, Contradictory or Neutral.', '{relation}'),
  qa('First sentence: {premise}\nSecond sentence: {hypothesis}\nDo they entail each other, contradict each other, or neither? Answer with Entailment, Contradictory or Neutral.', '{relation}'),
]

/** Generation: continue the premise in the direction of the label; the answer is the hypothesis. */
export const NLI_GENERATE_TEMPLATES: Readonly<Record<'entail' | 'contradict' | 'neutral', readonly QaTemplate[]>> = {
  entail: [
    qa('{premise} Therefore:', '{hypothesis}'),
    qa('{premise} {verbalizer}?', '{hypothesis}'),
    qa('Write a sentence that follows from this one: {premise}', '{hypothesis}'),
    qa('Premise: {premise}\nState a conclusion that this premise supports.', '{hypothesis}'),
    qa('If "{premise}" is true, what else must be true?', '{hypothesis}'),
  ],
  contradict: [
    qa('{premise} However:', '{hypothesis}'),
    qa('{premise} {verbalizer}?', '{hypothesis}'),
    qa('Write a sentence that goes against this one: {premise}', '{hypothesis}'),
    qa('Premise: {premise}\nGive a statement that contrasts with the premise.', '{hypothesis}'),
  ],
  neutral: [
    qa('{premise} Moreover:', '{hypothesis}'),
    qa('{premise} {verbalizer}?', '{hypothesis}'),
    qa('Add a related sentence after this one, neither implied nor contradicted by it: {premise}', '{hypothesis}'),
  ],
}

export const CAUSE_EFFECT_TEMPLATES: readonly QaTemplate[] = [
  qa('Q: What follows from "{cause}"? A:', '{effect}'),
  qa('{cause}\nWhat is the consequence?', '{effect}'),
  qa('Cause: {cause}\nEffect:', '{effect}'),
  qa('{cause} {verbalizer}:', '{effect}'),
  qa('Given the situation "{cause}", what happens as a result?', '{effect}'),
  qa('What is likely to happen because {cause} Answer:', '{effect}'),
]

export const EFFECT_CAUSE_TEMPLATES: readonly QaTemplate[] = [
  qa('{effect}\nCause:', '{cause}'),
  qa('{effect} {verbalizer}:', '{cause}'),
  qa('Q: Why is it that "{effect}"? A:', '{cause}'),
  qa('Effect: {effect}\nWhat brought this about?', '{cause}'),
  qa('Explain what led to the following: {effect}', '{cause}'),
  qa('"{effect}" What is the reason for this?', '{cause}'),
  qa('Identify the cause of this outcome: {effect}\nAnswer:', '{cause}'),
]

/** Paraphrase is generation only (§1.3). */
export const PARAPHRASE_DIFFERENT_TEMPLATES: readonly QaTemplate[] = [
  qa('Write a sentence whose meaning contrasts with "{sentence1}".', '{sentence2}'),
  qa('Can you produce a sentence that contradicts the following? {sentence1}', '{sentence2}'),
  qa('Sentence: {sentence1}\nGive a sentence that says something different.', '{sentence2}'),
  qa('Here is a statement: "{sentence1}" Write one that runs against it.', '{sentence2}'),
  qa('{sentence1} {verbalizer}?', '{sentence2}'),
]

export const PARAPHRASE_SIMILAR_TEMPLATES: readonly QaTemplate[] = [
  qa('{sentence1} {verbalizer}?', '{sentence2}'),
  qa('Restate this sentence in other words: {sentence1}', '{sentence2}'),
  qa('Sentence: {sentence1}\nExpand on it with a sentence of similar meaning, starting with "{verbalizer}".', '{sentence2}'),
  qa('Write a sentence that means about the same as "{sentence1}".', '{sentence2}'),
  qa('Elaborate on the following: {sentence1}', '{sentence2}'),
]

export const DEFINITION_TEMPLATES: readonly QaTemplate[] = [
  qa('How would you define {word}?', '{definition}'),
  qa('What does the term "{word}" mean?', '{definition}'),
  qa('Give the definition of {word}.', '{definition}'),
  qa('{word} {verbalizer}', '{definition}'),
  qa('Q: What is meant by {word}? A:', '{definition}'),
  qa('Explain the term {word}.\nAnswer:', '{definition}'),
]

export const TOPIC_TEMPLATES: readonly QaTemplate[] = [
  qa('{sentence} {verbalizer}?', '{topic}'),
  qa('What is the topic of this: "{sentence}"?', '{topic}'),
  qa('{sentence}\nWhat was this about?', '{topic}'),
  qa('Summarize the subject of the following in a few words: {sentence}', '{topic}'),
  qa('Q: "{sentence}" What is it about? A:', '{topic}'),
  qa('Name the subject of this passage: {sentence}', '{topic}'),
]

/** Both directions: keywords → sentence and sentence → keywords. */
export const KEYWORD_TEMPLATES: readonly QaTemplate[] = [
  qa('Write a sentence that uses all of these {domain} terms: {tripleset}. Sentence:', '{sentence}'),
  qa('Keywords: {tripleset}\nCompose one sentence on {domain} that contains each keyword.', '{sentence}'),
  qa('Use the following {domain} words in one sentence: {tripleset}.', '{sentence}'),
  qa('Make a sentence about {domain} with the words {tripleset}.\nAnswer:', '{sentence}'),
  qa('Sentence: {sentence}\nWhich {domain} keywords can you pick out of this sentence?', '{tripleset}'),
  qa('List the {domain} terms that appear in this sentence: {sentence}', '{tripleset}'),
  qa('{sentence}\nWhat are the key {domain} words here?', '{tripleset}'),
  qa('Extract the important {domain} vocabulary from: "{sentence}"\nKeywords:', '{tripleset}'),
]

/** Intro connectors before the task blocks (§1.4 step 2); the plain `\n\n` is listed twice, as in the code. */
export const INTRO_CONNECTORS: readonly string[] = [
  '\nNow answer the following questions:\n\n',
  '\n\nWhat are the answers to these questions?\n',
  '\nAnswer these {domain} questions:\n',
  '\n\nAnswer the questions below based on the article:\n',
  '\n\nHere are some questions about the text above:\n\n',
  '\nUse the article to respond to the following:\n',
  '\n\nTest your understanding of this {domain} text:\n',
  '\nQuestions about the passage:\n\n',
  '\n\nTry these {domain} exercises:\n',
  '\n\n',
  '\n\n',
]

/** §1.4 step 3, summarize-only: the title answers a question after the text, or the text is written from the title. */
export const SUMMARIZE_TEMPLATES: readonly string[] = [
  '{contextWithoutTitle}\n\nWrite a title for the above {domain} article. {title}{qaDemos}',
  '{contextWithoutTitle}\n\nWhat would be a good headline for this {domain} text? {title}{qaDemos}',
  '{contextWithoutTitle}\nGive this article a title. Title: {title}{qaDemos}',
  'Article: {contextWithoutTitle}\n\nSuggest a title for this {domain} article.\nTitle: {title}{qaDemos}',
  '{contextWithoutTitle}{qaDemos}\n\nWhat is a fitting title for the article above? {title}',
  'Write an article about the {domain} domain, using the following title: {title}.\nArticle: {contextWithoutTitle}{qaDemos}',
  'Title: {title}\nWrite an article on {domain} that matches this title.\n{contextWithoutTitle}{qaDemos}',
  'Compose a text on {domain} titled "{title}".\n{contextWithoutTitle}{qaDemos}',
]

/** Completion-only; `{first}` starts with the title line when there is a title. */
export const COMPLETION_TEMPLATES: readonly string[] = [
  'Here is the first part of an article about {domain}: {first}\n\nHow would you continue the article? {second}{qaDemos}',
  '{first}\n\nWrite the rest of this {domain} article. {second}{qaDemos}',
  'Continue the following {domain} text.\n{first}\nContinuation: {second}{qaDemos}',
  'Beginning of an article: {first}\n\nWhat comes next? {second}{qaDemos}',
  'Finish this {domain} passage: {first} {second}{qaDemos}',
]

/** Summarize + completion: the completion prompt, then a title question at the end; `{first}` has no title. */
export const SUMMARIZE_COMPLETION_TEMPLATES: readonly string[] = [
  'Here is the first part of an article about {domain}: {first}\n\nHow would you continue the article? {second}\n\nWhat was this article about? {title}{qaDemos}',
  '{first}\n\nWrite the rest of this {domain} article. {second}\n\nGive the whole article a title. {title}{qaDemos}',
  'Continue the following {domain} text.\n{first}\nContinuation: {second}\n\nWhat would be a good headline for it? {title}{qaDemos}',
  'Beginning of an article: {first}\n\nWhat comes next? {second}\n\nTitle of the article: {title}{qaDemos}',
  'Finish this {domain} passage: {first} {second}{qaDemos}\n\nSuggest a title for the passage. {title}',
]

/** Neither: the raw text (title + `\n` + text) with the tasks appended. */
export const NEITHER_TEMPLATES: readonly string[] = [
  '{context}{qaDemos}',
  'Read this {domain} article and answer the questions.\n{context}{qaDemos}',
  '{context}\n\nAnswer some questions about the {domain} article above.{qaDemos}',
  'Here is a text on {domain}:\n{context}{qaDemos}',
  'Study the following article, then answer the questions after it.\n{context}{qaDemos}',
  'Passage ({domain}):\n{context}{qaDemos}',
]

/** Replaces every `{name}` in `template` with `fields[name]`; a missing field is a bug in a template. */
export function fillTemplate(template: string, fields: Readonly<Record<string, string>>): string {
  return template.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (_placeholder, name: string) => {
    const value = fields[name]
    if (value === undefined) throw new Error(`Template field {${name}} has no value in: ${template}`)
    return value
  })
}
