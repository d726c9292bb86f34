import type { AdapterTargetName, TrainDevice, TrainParamsInput } from '../../../../src-main/shared/types/train'
import { integerIn, MAX_PATH_CHARS, numberIn } from '../../components/numberFields'

/**
 * The Train form as typed, and its checks. The lists and limits mirror trainParamsSchema in
 * src-main/shared/types/train.ts, which the renderer does not import because that module bundles zod;
 * test/renderer/screens/Train/trainOptions.test.ts keeps them in step and runs the results through the schema.
 */
export const ADAPTER_TARGETS: readonly AdapterTargetName[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down']
export const TRAIN_DEVICE_CHOICES: readonly TrainDevice[] = ['cpu', 'auto', 'webgpu', 'cuda']

export const TARGET_LABELS: Record<AdapterTargetName, string> = {
  q: 'q (attention query)',
  k: 'k (attention key)',
  v: 'v (attention value)',
  o: 'o (attention output)',
  gate: 'gate (MLP)',
  up: 'up (MLP)',
  down: 'down (MLP)',
}

export const DEVICE_LABELS: Record<TrainDevice, string> = {
  cpu: 'CPU',
  auto: 'Best available (GPU when it works)',
  webgpu: 'GPU through WebGPU',
  cuda: 'NVIDIA GPU (CUDA)',
}

/** What the wizard says about the two methods (specs/mora.md; MoRA: Jiang et al. 2024). */
export const METHOD_LABELS: Record<'mora' | 'lora', { label: string; hint: string }> = {
  mora: {
    label: 'MoRA (recommended)',
    hint:
      'Learns one small square matrix per layer instead of two thin ones. For the same number of trained values it can change the model in more ' +
      'directions (a higher rank), which helps it memorise new facts from your documents; that is what domain adaptation needs.',
  },
  lora: {
    label: 'LoRA',
    hint: 'The widely used method: two thin matrices whose product is added to each layer. It learns style and format well and is supported by every tool, but stores new knowledge less well at the same size.',
  },
}

export interface TrainForm {
  /** A .gguf file or a Hugging Face model folder. */
  base: string
  /** Train on the project's built dataset, or on a .jsonl file. */
  dataSource: 'project' | 'file'
  data: string
  method: 'mora' | 'lora'
  rank: string
  /** `auto` leaves it to the run (6 up to rank 32, 1 above). */
  moraType: 'auto' | '1' | '6'
  targets: AdapterTargetName[]
  seqLen: string
  batch: string
  gradAccum: string
  /** Empty: the method's default (3e-4 MoRA, 2e-4 LoRA). */
  lr: string
  length: 'steps' | 'epochs'
  steps: string
  epochs: string
  device: TrainDevice
  checkpointEvery: string
}

export const EMPTY_TRAIN_FORM: TrainForm = {
  base: '',
  dataSource: 'project',
  data: '',
  method: 'mora',
  rank: '8',
  moraType: 'auto',
  targets: [...ADAPTER_TARGETS],
  seqLen: '256',
  batch: '1',
  gradAccum: '1',
  lr: '',
  length: 'epochs',
  steps: '100',
  epochs: '1',
  device: 'cpu',
  checkpointEvery: '50',
}

export type TrainErrors = Partial<Record<keyof TrainForm, string>>

/** The train job's parameters, or the errors to show by each field (each names its field). */
export function toTrainParams(form: TrainForm): { params: TrainParamsInput | null; errors: TrainErrors } {
  const errors: TrainErrors = {}
  const base = form.base.trim()
  if (base === '') errors.base = 'Base model: choose a .gguf file or a Hugging Face model folder'
  else if (base.length > MAX_PATH_CHARS) errors.base = `Base model: the path is longer than ${MAX_PATH_CHARS} characters`
  const data = form.data.trim()
  if (form.dataSource === 'file') {
    if (data === '') errors.data = 'Training data: choose a .jsonl file, or train on the project dataset'
    else if (data.length > MAX_PATH_CHARS) errors.data = `Training data: the path is longer than ${MAX_PATH_CHARS} characters`
  }
  const required = (key: keyof TrainForm, parsed: { value?: number; error?: string }, what: string): number | undefined => {
    if (parsed.error) errors[key] = parsed.error
    else if (parsed.value === undefined) errors[key] = `${what} is required`
    return parsed.value
  }
  const rank = required('rank', integerIn(form.rank, 1, 65536, 'Rank'), 'Rank')
  const seqLen = required('seqLen', integerIn(form.seqLen, 8, 32768, 'Sequence length'), 'Sequence length')
  const batch = required('batch', integerIn(form.batch, 1, 1024, 'Batch size'), 'Batch size')
  const gradAccum = required('gradAccum', integerIn(form.gradAccum, 1, 4096, 'Gradient accumulation'), 'Gradient accumulation')
  const lr = numberIn(form.lr, 0, 1, 'Learning rate')
  if (lr.error) errors.lr = lr.error
  else if (lr.value === 0) errors.lr = 'Learning rate must be above 0'
  const steps = form.length === 'steps' ? required('steps', integerIn(form.steps, 1, 10_000_000, 'Steps'), 'Steps') : undefined
  const epochs = form.length === 'epochs' ? required('epochs', numberIn(form.epochs, 0, 1000, 'Epochs'), 'Epochs') : undefined
  if (epochs === 0) errors.epochs = 'Epochs must be above 0'
  const checkpointEvery = required('checkpointEvery', integerIn(form.checkpointEvery, 1, 1_000_000, 'Checkpoint interval'), 'Checkpoint interval')
  if (form.targets.length === 0) errors.targets = 'Targets: choose at least one layer to adapt'
  if (Object.keys(errors).length > 0) return { params: null, errors }
  return {
    params: {
      base,
      data: form.dataSource === 'file' ? data : null,
      method: form.method,
      rank: rank!,
      moraType: form.method === 'mora' && form.moraType !== 'auto' ? (Number(form.moraType) as 1 | 6) : null,
      targets: ADAPTER_TARGETS.filter((t) => form.targets.includes(t)),
      seqLen: seqLen!,
      batch: batch!,
      gradAccum: gradAccum!,
      lr: lr.value ?? null,
      steps: form.length === 'steps' ? steps! : null,
      ...(epochs === undefined ? {} : { epochs }),
      device: form.device,
      checkpointEvery: checkpointEvery!,
    },
    errors,
  }
}

/** `1.23 GiB`, `512 MiB`. */
export function formatGiB(bytes: number): string {
  const gib = bytes / 2 ** 30
  if (gib >= 1) return `${gib >= 100 ? gib.toFixed(0) : gib.toFixed(2)} GiB`
  return `${Math.max(0, bytes / 2 ** 20).toFixed(gib * 1024 >= 10 ? 0 : 1)} MiB`
}

/** `1,234,567`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}
