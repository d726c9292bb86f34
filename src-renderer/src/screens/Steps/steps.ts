export type StepId = 'import' | 'comprehension' | 'train' | 'evaluate' | 'export'

export interface StepInfo {
  id: StepId
  title: string
  summary: string
  plan: string[]
}

/** The wizard steps, in pipeline order. App.svelte shows a step's own screen once it lands (Import, Comprehension, Train, Evaluate, Export), and the StepScreen placeholder before. */
export const STEPS: readonly StepInfo[] = [
  {
    id: 'import',
    title: 'Import',
    summary: 'Bring in your documents: PDF, DOCX, HTML, Markdown, TXT, EPUB and JSONL.',
    plan: ['Clean text with page and character provenance', 'Chunks sized for training', 'Near-duplicate removal'],
  },
  {
    id: 'comprehension',
    title: 'Comprehension',
    summary: 'Turn raw text into reading-comprehension training data.',
    plan: ['Rule-based comprehension tasks mined from the text', 'Question/answer pairs written by a local model', 'Related documents clustered to extend context'],
  },
  {
    id: 'train',
    title: 'Train',
    summary: 'Adapt a local base model with MoRA or LoRA on CPU or GPU.',
    plan: ['Pick a base model (GGUF or Hugging Face folder)', 'Live loss, checkpoints, resume after a crash'],
  },
  {
    id: 'evaluate',
    title: 'Evaluate',
    summary: 'Compare the adapted model with the base model.',
    plan: ['Held-out and general-text perplexity', 'Closed-book question answering, question by question with its source', 'Side-by-side chat'],
  },
  {
    id: 'export',
    title: 'Export',
    summary: 'Merge and export a model that runs in llama.cpp, Ollama, LM Studio or vLLM.',
    plan: ['GGUF (F16 to Q4_K_M) and a Hugging Face folder, each verified by reloading', 'Ollama Modelfile, the adapter alone, or a bundle for cluster training'],
  },
]
