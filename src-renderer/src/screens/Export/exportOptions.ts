import type { ClusterLauncher, ExportFormat, ExportParamsInput, ExportType, TrainRunInfo } from '../../../../src-main/shared/types/export'
import { integerIn, MAX_PATH_CHARS } from '../../components/numberFields'

/**
 * The Export form as typed, and its checks. The lists mirror src-main/shared/types/export.ts, which the renderer
 * does not import because that module bundles zod; test/renderer/screens/Export/exportOptions.test.ts keeps them
 * in step and runs the results through exportParamsSchema.
 */
export const EXPORT_FORMATS: readonly ExportFormat[] = ['gguf', 'safetensors', 'ollama', 'adapter', 'bundle']
export const EXPORT_TYPES: readonly ExportType[] = ['f32', 'f16', 'bf16', 'q8_0', 'q4_k_m', 'q5_k_m']
export const SAFETENSORS_EXPORT_TYPES: readonly ExportType[] = ['f32', 'f16', 'bf16']
export const DEFAULT_EXPORT_TYPE: Readonly<Record<'gguf' | 'ollama' | 'safetensors', ExportType>> = { gguf: 'q8_0', ollama: 'q4_k_m', safetensors: 'bf16' }
export const CLUSTER_LAUNCHERS: readonly ClusterLauncher[] = ['accelerate-deepspeed', 'accelerate-fsdp', 'axolotl', 'llamafactory']
/** Launchers whose configs train LoRA only; a MoRA run goes through the MoRA fork of PEFT with accelerate. */
export const LORA_ONLY_LAUNCHERS: readonly ClusterLauncher[] = ['axolotl', 'llamafactory']
export const VERIFY_TOKENS_DEFAULT = 256
/** The verification check that compares the exported model's distributions with the trained one (verifyExport.ts). */
export const KL_CHECK_NAME = 'matches the trained adapter'

export const FORMAT_LABELS: Record<ExportFormat, { label: string; hint: string }> = {
  gguf: { label: 'GGUF', hint: 'One file for llama.cpp, LM Studio and other GGUF runners.' },
  safetensors: { label: 'Hugging Face folder', hint: 'Sharded safetensors with config and tokenizer, for transformers and vLLM.' },
  ollama: { label: 'Ollama', hint: 'A GGUF with a Modelfile next to it (template and stop tokens).' },
  adapter: { label: 'Adapter only', hint: 'The trained adapter in PEFT layout (the MoRA fork for MoRA), without the base weights.' },
  bundle: { label: 'Cluster bundle', hint: 'Dataset, adapter config and ready configs for a distributed trainer, with a README.' },
}

export const TYPE_LABELS: Record<ExportType, string> = {
  f32: 'F32 (full precision, largest)',
  f16: 'F16',
  bf16: 'BF16',
  q8_0: 'Q8_0 (near lossless)',
  q4_k_m: 'Q4_K_M (small)',
  q5_k_m: 'Q5_K_M',
}

export const LAUNCHER_LABELS: Record<ClusterLauncher, string> = {
  'accelerate-deepspeed': 'accelerate with DeepSpeed ZeRO',
  'accelerate-fsdp': 'accelerate with FSDP',
  axolotl: 'axolotl (LoRA runs)',
  llamafactory: 'LLaMA-Factory (LoRA runs)',
}

/** Whether the format writes weights of a chosen type (adapter and bundle keep the trained ones). */
export function hasType(format: ExportFormat): format is 'gguf' | 'ollama' | 'safetensors' {
  return format === 'gguf' || format === 'ollama' || format === 'safetensors'
}

/** The types a format can be written at; none for adapter and bundle. */
export function typesFor(format: ExportFormat): readonly ExportType[] {
  if (format === 'safetensors') return SAFETENSORS_EXPORT_TYPES
  return hasType(format) ? EXPORT_TYPES : []
}

export interface ExportForm {
  format: ExportFormat
  /** Null for adapter and bundle. */
  type: ExportType | null
  /** The folder the export goes into. */
  folder: string
  /** The file (gguf) or folder name inside it; empty: defaultOutName. */
  outName: string
  launcher: ClusterLauncher
  /** The model's name in `general.name` and the Modelfile; empty: derived by the export. */
  name: string
  verifyTokens: string
}

export const EMPTY_EXPORT_FORM: ExportForm = { format: 'gguf', type: DEFAULT_EXPORT_TYPE.gguf, folder: '', outName: '', launcher: 'accelerate-deepspeed', name: '', verifyTokens: '' }

/** The form after choosing a format: the format's default type. */
export function withFormat(form: ExportForm, format: ExportFormat): ExportForm {
  return { ...form, format, type: hasType(format) ? DEFAULT_EXPORT_TYPE[format] : null }
}

/** `run-12-q8_0.gguf` for a GGUF file, `run-12-bf16` / `run-12-adapter` for the folder formats. */
export function defaultOutName(runId: string, format: ExportFormat, type: ExportType | null): string {
  if (format === 'gguf') return `${runId}-${type ?? DEFAULT_EXPORT_TYPE.gguf}.gguf`
  if (format === 'safetensors') return `${runId}-${type ?? DEFAULT_EXPORT_TYPE.safetensors}`
  if (format === 'ollama') return `${runId}-ollama-${type ?? DEFAULT_EXPORT_TYPE.ollama}`
  return `${runId}-${format}`
}

/** `folder` and `name` joined with the folder's own separator (a Windows path keeps its backslashes). */
export function joinPath(folder: string, name: string): string {
  const separator = folder.includes('\\') && !folder.includes('/') ? '\\' : '/'
  return folder.replace(/[\\/]+$/, '') + separator + name
}

export type ExportErrors = Partial<Record<keyof ExportForm | 'run', string>>

/** The export job's parameters for `run`, or the errors to show by each field. */
export function toExportParams(form: ExportForm, run: TrainRunInfo | null): { params: ExportParamsInput | null; errors: ExportErrors } {
  const errors: ExportErrors = {}
  if (run === null) errors.run = 'Choose a finished training run'
  else if (run.state !== 'succeeded') errors.run = `Run ${run.runId} has not finished training`

  if (hasType(form.format)) {
    if (form.type === null) errors.type = 'Choose a weight type'
    else if (!typesFor(form.format).includes(form.type)) errors.type = `A ${FORMAT_LABELS[form.format].label} export is ${typesFor(form.format).join(', ')}; ${form.type} is not one of them`
  }
  if (form.format === 'bundle' && run?.method === 'mora' && LORA_ONLY_LAUNCHERS.includes(form.launcher)) {
    errors.launcher = `${LAUNCHER_LABELS[form.launcher]} trains LoRA only; a MoRA run goes through accelerate with the MoRA fork`
  }

  const folder = form.folder.trim()
  const outName = form.outName.trim()
  if (folder === '') errors.folder = 'Choose the folder the export goes into'
  if (/[\\/]/.test(outName) || outName === '.' || outName === '..') errors.outName = 'Give a name without folders; choose the folder above'
  const name = form.name.trim()
  if (name.length > 200) errors.name = 'The model name must be at most 200 characters'
  const verify = integerIn(form.verifyTokens, 16, 8192, 'Verification tokens')
  if (verify.error) errors.verifyTokens = verify.error
  if (run === null || Object.keys(errors).length > 0) return { params: null, errors }

  const out = joinPath(folder, outName === '' ? defaultOutName(run.runId, form.format, form.type) : outName)
  if (out.length > MAX_PATH_CHARS) return { params: null, errors: { folder: `The path is longer than ${MAX_PATH_CHARS} characters` } }
  return {
    params: {
      run: run.runId,
      format: form.format,
      type: hasType(form.format) ? form.type : null,
      out,
      launcher: form.format === 'bundle' ? form.launcher : null,
      name: name === '' ? null : name,
      ...(verify.value === undefined ? {} : { verifyTokens: verify.value }),
    },
    errors,
  }
}

/** `MoRA r8 on qwen.gguf · 200 steps · loss 1.234`. */
export function describeRun(run: TrainRunInfo): string {
  const base = run.base.split(/[\\/]/).filter(Boolean).at(-1) ?? run.base
  const parts = [`${run.method === 'mora' ? 'MoRA' : 'LoRA'} r${run.rank} on ${base}`]
  if (run.steps !== null) parts.push(`${run.steps} steps`)
  if (run.finalLoss !== null) parts.push(`loss ${run.finalLoss.toFixed(3)}`)
  if (run.state !== 'succeeded') parts.push(run.state)
  return parts.join(' · ')
}

/** A small non-negative figure (a KL in nats, a weight difference): exponent form below 0.01. */
export function formatSmall(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  if (value === 0) return '0'
  return Math.abs(value) < 0.01 ? value.toExponential(2) : value.toFixed(4)
}

/** A share as a percentage with one decimal: `98.4%`. */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`
}
