import { readdir, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { LecternError } from '../../shared/errors.js'
import type { ModelFacts, ModelRole } from '../../shared/types/models.js'
import { checkGgufForLoading } from '../llm/loadLlamaModel.js'
import { llamaCppVocabulary } from '../llm/llamaCppVocabulary.js'
import { SUPPORTED_ARCHITECTURES } from '../model/architectures.js'
import type { GgufHeader } from '../model/gguf/ggufTypes.js'
import { inspectModel } from './inspectModel.js'
import { openModel } from './openModel.js'

/** Architectures that only embed (no language-model head), as llama.cpp names them. */
const EMBEDDING_ARCHITECTURES = new Set(['bert', 'nomic-bert', 'nomic-bert-moe', 'jina-bert-v2', 'jina-bert-v3', 'modern-bert', 'neo-bert', 't5encoder'])

/**
 * Reads what the Models page shows about a `.gguf` file or a Hugging Face folder, from headers only. A GGUF must
 * pass the checks llama.cpp is given before loading (`checkGgufForLoading`) and name an architecture llama.cpp
 * knows; a folder must open through the converter (a supported architecture). Every failure is a LecternError
 * naming the file and the reason, so a bad file is refused, never half-added.
 */
export async function readModelFacts(path: string): Promise<ModelFacts> {
  const info = await stat(path).catch(() => {
    throw new LecternError('not_found', `${path}: no such file or folder`, { file: path })
  })
  if (info.isDirectory()) return readHfFolderFacts(path)
  if (!info.isFile()) throw new LecternError('invalid_model_file', `${path}: not a regular file`, { file: path })
  if (!path.toLowerCase().endsWith('.gguf')) {
    if (path.endsWith('.safetensors') || basename(path) === 'config.json') {
      throw new LecternError('invalid_model_file', `${path}: add the Hugging Face folder that holds it, not the file itself`, { file: path })
    }
  }
  return readGgufFacts(path, info.size)
}

async function readGgufFacts(path: string, sizeBytes: number): Promise<ModelFacts> {
  const header = await checkGgufForLoading(path)
  const text = (key: string): string | null => {
    const value = header.metadata.get(key)
    return value?.type === 'string' ? value.value : null
  }
  const number = (key: string): number | null => {
    const value = header.metadata.get(key)
    if (value === undefined) return null
    if (typeof value.value === 'number') return value.value
    if (typeof value.value === 'bigint') return Number(value.value)
    return null
  }
  const architecture = text('general.architecture') ?? ''
  const vocabulary = await llamaCppVocabulary()
  if (!vocabulary.architectures.has(architecture)) {
    throw new LecternError(
      'unsupported_model',
      `${path}: architecture "${architecture}" is not one llama.cpp can load (it knows ${vocabulary.architectures.size} architectures, such as llama, qwen2, qwen3, gemma3 and bert)`,
      { file: path },
    )
  }
  const notes: string[] = []
  const trainable = (SUPPORTED_ARCHITECTURES as readonly string[]).includes(architecture)
  if (trainable) {
    // The converter is what training reads from; a file it refuses must not be offered as a base.
    const opened = await openModel(path)
    try {
      inspectModel(opened.source)
    } finally {
      await opened.close()
    }
  } else {
    notes.push(`Not a training base: Lectern trains ${SUPPORTED_ARCHITECTURES.join(', ')} models, this one is ${architecture}.`)
  }
  const fileType = number('general.file_type')
  const chatTemplate = text('tokenizer.chat_template')
  const embedding = EMBEDDING_ARCHITECTURES.has(architecture) || header.metadata.has(`${architecture}.pooling_type`)
  return {
    format: 'gguf',
    architecture,
    displayName: text('general.name') ?? basename(path),
    sizeBytes,
    parameterCount: header.tensors.reduce((sum, t) => sum + t.elementCount, 0),
    quantization: (fileType === null ? null : vocabulary.fileTypeName(fileType)) ?? dominantType(header),
    contextLength: number(`${architecture}.context_length`),
    chatTemplate,
    llamaCppUsable: true,
    trainable,
    notes,
    suggestedRoles: suggestRoles({ embedding, chatTemplate: chatTemplate !== null, trainable, llamaCppUsable: true }),
  }
}

async function readHfFolderFacts(dir: string): Promise<ModelFacts> {
  const opened = await openModel(dir)
  try {
    const inspection = inspectModel(opened.source)
    const template = opened.source.tokenizer.get('tokenizer.chat_template')
    const chatTemplate = template?.type === 'string' ? template.value : null
    const name = opened.source.general.get('general.name')
    const quantization = Object.entries(inspection.typeSummary).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown'
    return {
      format: 'hf-folder',
      architecture: inspection.architecture,
      displayName: name?.type === 'string' ? name.value : basename(dir),
      sizeBytes: await folderSize(dir),
      parameterCount: inspection.parameterCount,
      quantization,
      contextLength: inspection.hyperparameters.contextLength,
      chatTemplate,
      llamaCppUsable: false,
      trainable: true,
      notes: ['A Hugging Face folder: llama.cpp cannot load it directly; export or convert it to GGUF to generate with it.'],
      suggestedRoles: suggestRoles({ embedding: false, chatTemplate: chatTemplate !== null, trainable: true, llamaCppUsable: false }),
    }
  } finally {
    await opened.close()
  }
}

/** An embedding model embeds; a chat model generates; anything the trainer reads can be a base. */
export function suggestRoles(facts: { embedding: boolean; chatTemplate: boolean; trainable: boolean; llamaCppUsable: boolean }): ModelRole[] {
  const roles: ModelRole[] = []
  if (facts.embedding) return facts.llamaCppUsable ? ['embedder'] : []
  if (facts.llamaCppUsable && facts.chatTemplate) roles.push('generator')
  if (facts.trainable) roles.push('base')
  if (roles.length === 0 && facts.llamaCppUsable) roles.push('generator')
  return roles
}

function dominantType(header: GgufHeader): string {
  const byType = new Map<string, number>()
  for (const t of header.tensors) byType.set(t.type.name, (byType.get(t.type.name) ?? 0) + t.elementCount)
  return [...byType].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown'
}

async function folderSize(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(dir, entry.name))).size
  }
  return total
}
