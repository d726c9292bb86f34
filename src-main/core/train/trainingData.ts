/**
 * The data side of training, from a JSONL file to batches:
 *
 * 1. `readTrainingJsonl` streams the file into examples (text, prompt/response, chat), with file:line errors.
 * 2. `tokenizeExamples` turns each into ids and per-token loss weights (prompts 0, responses and their EOS 1).
 * 3. `packSequences` concatenates them and cuts fixed windows of T + 1 tokens (no attention reset).
 * 4. `nextBatch` draws micro-batches in a seeded per-epoch shuffle, from a JSON cursor that checkpoints store.
 *
 * Every step is deterministic: the same file, tokenizer, seqLen and seed give the same batches, and resuming from
 * a stored cursor gives the batches the uninterrupted run would have seen.
 */
export {
  readTrainingJsonl,
  readTrainingJsonlLines,
  type ExampleSource,
  type ReadTrainingJsonlOptions,
  type SkippedExample,
  type TrainingExample,
  type TrainingExampleKind,
  type TrainingJsonl,
} from './trainingData/readTrainingJsonl.js'
export { plainConversation, tokenizeExamples, type TokenizedExample, type TrainingTokenizer } from './trainingData/tokenizeExamples.js'
export { packedSequenceCount, packingExtents, packSequences, type PackedDataset, type PackingExtent, type PackSequencesOptions } from './trainingData/packSequences.js'
export { batchOrder, nextBatch, stepsPerEpoch, type Batch, type BatchCursor } from './trainingData/batches.js'
