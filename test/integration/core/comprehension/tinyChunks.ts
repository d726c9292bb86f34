/** Short passages in the tiny tokenizer's words, so prompts stay small. */
export const TINY_CHUNKS: readonly string[] = [
  'The model was trained on the data that we have. It is the best of all models when it was tested.',
  'What we can see in the data is that the model is not at all the best when there is not that much of it.',
  'It was with this model that we were able to have all of the data in one place for the first time.',
  'There is a model for what we have and it can be the one that was not there when we were at the start.',
]

/** Caps small enough that three pairs always fit in 512 tokens of the tiny model's character-level vocabulary. */
export const TINY_LIMITS = { questionMaxChars: 60, answerMaxChars: 60 } as const
