import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { LecternError } from '../../shared/errors.js'
import { FileByteSource } from '../io/fileBytes.js'
import { checkGgufTokenizer } from '../model/convert/checkGgufForLlamaCpp.js'
import { openGgufModelSource } from '../model/convert/ggufModelSource.js'
import type { ModelSource } from '../model/convert/ModelSource.js'
import { safetensorsModelSource } from '../model/convert/safetensorsModelSource.js'
import { SAFETENSORS_INDEX_FILE, ShardedSafetensors } from '../model/safetensors/shardedSafetensors.js'
import { ggufTokenizerMetadata } from '../model/tokenizers/ggufTokenizerMetadata.js'

export interface OpenedModel {
  source: ModelSource
  close(): Promise<void>
}

/**
 * Opens a model the user brings: a `.gguf` file, or a Hugging Face folder (config.json, tokenizer.json,
 * model.safetensors or a sharded index). Only headers are read; every problem names the file.
 */
export async function openModel(path: string): Promise<OpenedModel> {
  const info = await stat(path).catch(() => {
    throw new LecternError('not_found', `${path}: no such file or folder`, { file: path })
  })
  if (info.isDirectory()) return openHfFolder(path)
  if (path.endsWith('.safetensors') || basename(path) === 'config.json') return openHfFolder(dirname(path))
  const file = await FileByteSource.open(path)
  try {
    const source = await openGgufModelSource(file)
    checkGgufTokenizer(source.header, path)
    return { source, close: () => file.close() }
  } catch (error) {
    await file.close()
    throw error
  }
}

async function openHfFolder(dir: string): Promise<OpenedModel> {
  const configFile = join(dir, 'config.json')
  const config = await readJson(configFile, true)
  const tokenizerJson = await readJson(join(dir, 'tokenizer.json'), true)
  const tokenizerConfig = await readJson(join(dir, 'tokenizer_config.json'), false)
  const chatTemplateJinja = await readFile(join(dir, 'chat_template.jinja'), 'utf8').catch(() => undefined)
  const vocabSize = typeof config['vocab_size'] === 'number' ? config['vocab_size'] : undefined
  const tokenizer = ggufTokenizerMetadata(
    {
      tokenizerJson,
      ...(tokenizerConfig ? { tokenizerConfig } : {}),
      ...(chatTemplateJinja === undefined ? {} : { chatTemplateJinja }),
    },
    join(dir, 'tokenizer.json'),
    vocabSize === undefined ? {} : { vocabSize },
  )
  const checkpoint = await openCheckpoint(dir)
  try {
    const name = typeof config['_name_or_path'] === 'string' && config['_name_or_path'] !== '' ? config['_name_or_path'] : basename(dir)
    const source = safetensorsModelSource({
      name: dir,
      config,
      configFile,
      tokenizer,
      general: new Map([['general.name', { type: 'string', value: name }]]),
      checkpoint,
    })
    return { source, close: () => checkpoint.dispose() }
  } catch (error) {
    await checkpoint.dispose()
    throw error
  }
}

async function openCheckpoint(dir: string): Promise<ShardedSafetensors> {
  const indexPath = join(dir, SAFETENSORS_INDEX_FILE)
  if (await exists(indexPath)) {
    const index = await FileByteSource.open(indexPath)
    try {
      return await ShardedSafetensors.open(index, (name) => FileByteSource.open(join(dir, name)))
    } finally {
      await index.close()
    }
  }
  const single = join(dir, 'model.safetensors')
  if (await exists(single)) return ShardedSafetensors.openSingle(await FileByteSource.open(single))
  const hasPytorchBin = await exists(join(dir, 'pytorch_model.bin'))
  throw new LecternError(
    'invalid_model_file',
    `${dir}: no model.safetensors or ${SAFETENSORS_INDEX_FILE}${hasPytorchBin ? ' (pytorch_model.bin is not supported: convert it to safetensors first)' : ''}`,
    { file: dir },
  )
}

async function readJson(path: string, required: true): Promise<Record<string, unknown>>
async function readJson(path: string, required: false): Promise<Record<string, unknown> | undefined>
async function readJson(path: string, required: boolean): Promise<Record<string, unknown> | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return undefined
    throw new LecternError('invalid_model_file', `${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (error as Error).message}`, { file: path })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new LecternError('invalid_model_file', `${path}: not valid JSON (${(error as Error).message})`, { file: path })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LecternError('invalid_model_file', `${path}: expected a JSON object`, { file: path })
  }
  return value as Record<string, unknown>
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}
