import { LecternError } from '../../shared/errors.js'
import { ADAPTER_TARGET_NAMES } from '../../shared/types/train.js'
import type { AdapterConfig } from './adapters.js'
import { loadTensors, saveTensors, type NamedTensor } from './tensorFiles.js'

const METADATA_KEY = 'lectern.adapter'
const FORMAT_VERSION = 1

/** What an adapter file records beside its tensors: enough to rebuild the plan and merge. */
export type StoredAdapterConfig = Omit<AdapterConfig, 'dropout'>

/**
 * Writes trained adapters as safetensors: one tensor per parameter under its HF-style name
 * (`model.layers.0.self_attn.q_proj.mora_M.weight`, `…lora_A.weight`), and the adapter settings in
 * `__metadata__`, so a file alone is enough to merge it into its base model.
 */
export async function writeAdapterFile(path: string, config: AdapterConfig, params: ReadonlyMap<string, NamedTensor>): Promise<void> {
  const stored: StoredAdapterConfig = { method: config.method, rank: config.rank, moraType: config.moraType, targets: config.targets, loraAlpha: config.loraAlpha, rsLora: config.rsLora }
  await saveTensors(path, params, { [METADATA_KEY]: JSON.stringify({ version: FORMAT_VERSION, ...stored }) })
}

export async function readAdapterFile(path: string): Promise<{ config: AdapterConfig; values: Map<string, Float32Array> }> {
  const { tensors, metadata } = await loadTensors(path)
  const raw = metadata[METADATA_KEY]
  const invalid = (why: string): never => {
    throw new LecternError('invalid_argument', `${path}: not a Lectern adapter file (${why})`, { file: path })
  }
  if (raw === undefined) return invalid(`no ${METADATA_KEY} metadata`)
  let parsed: Partial<StoredAdapterConfig> & { version?: number }
  try {
    parsed = JSON.parse(raw) as typeof parsed
  } catch {
    return invalid(`${METADATA_KEY} is not JSON`)
  }
  if (parsed.version !== FORMAT_VERSION) invalid(`format version ${String(parsed.version)}, this Lectern reads ${FORMAT_VERSION}`)
  const { method, rank, moraType, targets, loraAlpha, rsLora } = parsed
  if ((method !== 'mora' && method !== 'lora') || typeof rank !== 'number' || (moraType !== 1 && moraType !== 6) || typeof loraAlpha !== 'number' || typeof rsLora !== 'boolean') {
    invalid('incomplete settings')
  }
  if (!Array.isArray(targets) || targets.some((t) => !(ADAPTER_TARGET_NAMES as readonly string[]).includes(t))) invalid('bad targets')
  const config: AdapterConfig = { method: method!, rank: rank!, moraType: moraType!, targets: targets!, loraAlpha: loraAlpha!, rsLora: rsLora!, dropout: 0 }
  return { config, values: new Map([...tensors].map(([name, t]) => [name, t.data])) }
}
