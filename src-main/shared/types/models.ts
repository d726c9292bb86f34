/** What a model in the app-wide library is used for; the user chooses, the library suggests. */
export const MODEL_ROLES = ['generator', 'embedder', 'base'] as const
export type ModelRole = (typeof MODEL_ROLES)[number]
export const MODEL_ROLE_LABELS: Record<ModelRole, string> = {
  generator: 'Generator (questions, chat)',
  embedder: 'Embedder (clustering)',
  base: 'Base for training',
}

/** Facts read from a model's headers when it was added or last re-validated. */
export interface ModelFacts {
  format: 'gguf' | 'hf-folder'
  /** As the file states it (`general.architecture` or config.json's `model_type`). */
  architecture: string
  /** `general.name`, config.json's `_name_or_path`, or the file name. */
  displayName: string
  sizeBytes: number
  parameterCount: number
  /** The dominant storage type (e.g. `Q4_K`, `F16`), by element count. */
  quantization: string
  contextLength: number | null
  /** The Jinja chat template, when the model has one. */
  chatTemplate: string | null
  /** llama.cpp can load it (generation, embeddings); only GGUF files can. */
  llamaCppUsable: boolean
  /** Lectern's trainer knows the architecture (llama, qwen2, qwen3). */
  trainable: boolean
  /** Why a capability is missing, in words (e.g. why it cannot be a training base). */
  notes: string[]
  /** Roles the metadata points to; the user's choice is `LibraryModel.roles`. */
  suggestedRoles: ModelRole[]
}

/** Why a model cannot take a role, or null when it can. */
export function roleProblem(role: ModelRole, facts: Pick<ModelFacts, 'llamaCppUsable' | 'trainable' | 'architecture'>): string | null {
  if ((role === 'generator' || role === 'embedder') && !facts.llamaCppUsable) return `a ${role} must be a GGUF file llama.cpp can load`
  if (role === 'base' && !facts.trainable) return `Lectern cannot train ${facts.architecture} models`
  return null
}

export type ModelStatus = 'ok' | 'missing' | 'invalid'

export interface LibraryModel {
  id: string
  /** Absolute path of the .gguf file or the Hugging Face folder. */
  path: string
  roles: ModelRole[]
  addedAtMs: number
  /** The last successful read; kept when the file later goes missing or breaks, so the entry still says what it was. */
  facts: ModelFacts
  /** `missing`: the file or folder is gone; `invalid`: it is there but no longer reads as a model. */
  status: ModelStatus
  /** Why the status is not `ok`, naming the file. */
  problem: string | null
  /** Set when it came from the recommended list. */
  recommendedId: string | null
}

/** One entry of `resources/models/recommended.json` (validated in core/app/ModelLibrary.ts). */
export interface RecommendedModel {
  id: string
  name: string
  description: string
  /** Only https URLs ship; tests point a library at a local server. */
  url: string
  fileName: string
  /** As the host lists it, rounded (e.g. 531 MB): for display and progress until the server states the length. */
  sizeBytes: number | null
  /** Lowercase hex; null when nobody could check it, and the UI says so. */
  sha256: string | null
  roles: ModelRole[]
  license: string
  /** Where the facts were checked. */
  source: string
}

export type ModelDownloadStatus = 'running' | 'succeeded' | 'failed' | 'cancelled'

/** One download of a recommended model, as `onModelDownload` reports it. */
export interface ModelDownload {
  recommendedId: string
  status: ModelDownloadStatus
  receivedBytes: number
  totalBytes: number | null
  /** Bytes that were already on disk from an earlier, interrupted attempt. */
  resumedFromBytes: number
  error: string | null
  /** The library entry, once it succeeded. */
  modelId: string | null
}

export interface RecommendedModelInfo extends RecommendedModel {
  /** The library entry of a finished download, if any. */
  modelId: string | null
  download: ModelDownload | null
}
