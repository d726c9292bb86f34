import type { ClusterParamsInput, ComprehendParamsInput, DatasetParamsInput } from '../../../../src-main/shared/types/comprehension'
import { integerIn, MAX_PATH_CHARS, numberIn, type ParsedNumber } from '../../components/numberFields'

/**
 * The Comprehension forms as typed, and their checks. They mirror the job schemas in
 * src-main/shared/types/comprehension.ts, which the renderer does not import because that module bundles zod;
 * test/renderer/screens/Comprehension/comprehensionOptions.test.ts runs the results through the schemas.
 * An empty optional field keeps the schema's default.
 */
export type Errors<F> = Partial<Record<keyof F, string>>
export interface Checked<P, F> {
  params: P | null
  errors: Errors<F>
}

export interface ComprehendForm {
  mode: 'regex' | 'llm'
  /** Where the questions come from in llm mode. */
  source: 'local' | 'remote'
  generator: string
  endpoint: string
  endpointModel: string
  pairs: string
  temperature: string
  seed: string
  domain: string
  timeoutSeconds: string
  minGrounding: string
  /** Chunks this run handles at most; empty: all that have no data yet. */
  limit: string
  /** Also redo chunks whose generation timed out or failed. */
  retryFailed: boolean
  asciiOnly: boolean
}

export const EMPTY_COMPREHEND_FORM: ComprehendForm = {
  mode: 'regex',
  source: 'local',
  generator: '',
  endpoint: '',
  endpointModel: '',
  pairs: '',
  temperature: '',
  seed: '',
  domain: '',
  timeoutSeconds: '',
  minGrounding: '',
  limit: '',
  retryFailed: false,
  asciiOnly: false,
}

/** The schema defaults, shown as placeholders. */
export const COMPREHEND_DEFAULTS = { pairs: 3, temperature: 0.7, seed: 1, timeoutSeconds: 120 } as const

export interface ClusterForm {
  embedder: string
  threshold: string
  maxDocs: string
  maxTokens: string
  kMeans: string
}

export const EMPTY_CLUSTER_FORM: ClusterForm = { embedder: '', threshold: '0.7', maxDocs: '', maxTokens: '', kMeans: '' }
export const CLUSTER_DEFAULTS = { maxDocs: 8, maxTokens: 2048 } as const

export interface DatasetForm {
  mix: string
  ratio: string
  seqLen: string
  heldout: string
  out: string
  format: 'text' | 'chat'
}

export const EMPTY_DATASET_FORM: DatasetForm = { mix: '', ratio: '1:1', seqLen: '', heldout: '', out: '', format: 'text' }
export const DATASET_DEFAULTS = { seqLen: 2048, heldout: 0.05 } as const

function pathError(path: string): string | undefined {
  return path.length > MAX_PATH_CHARS ? `The path is longer than ${MAX_PATH_CHARS} characters` : undefined
}

/** Collects field results into errors and the present values. */
function collect<F>(fields: Partial<Record<keyof F, ParsedNumber>>, errors: Errors<F>): Partial<Record<keyof F, number>> {
  const values: Partial<Record<keyof F, number>> = {}
  for (const [key, parsed] of Object.entries(fields) as [keyof F, ParsedNumber][]) {
    if (parsed.error) errors[key] = parsed.error
    else if (parsed.value !== undefined) values[key] = parsed.value
  }
  return values
}

/** The comprehend job's parameters (a preview of `preview` chunks when set), or the errors to show by each field. */
export function toComprehendParams(form: ComprehendForm, preview: number | null): Checked<ComprehendParamsInput, ComprehendForm> {
  const errors: Errors<ComprehendForm> = {}
  const llm = form.mode === 'llm'
  // Fields of llm mode are hidden, and not checked, in regex mode.
  const values = collect<ComprehendForm>(
    {
      seed: integerIn(form.seed, 0, 2 ** 31 - 1, 'Seed'),
      limit: integerIn(form.limit, 1, Number.MAX_SAFE_INTEGER, 'Chunk limit'),
      ...(llm
        ? {
            pairs: integerIn(form.pairs, 1, 20, 'Pairs per chunk'),
            temperature: numberIn(form.temperature, 0, 2, 'Temperature'),
            timeoutSeconds: integerIn(form.timeoutSeconds, 1, 3600, 'Timeout'),
            minGrounding: numberIn(form.minGrounding, 0, 1, 'Minimum grounding'),
          }
        : {}),
    },
    errors,
  )
  const domain = form.domain.trim()
  if (domain.length > 200) errors.domain = 'The domain must be at most 200 characters'

  const local = llm && form.source === 'local'
  const remote = llm && form.source === 'remote'
  const generator = form.generator.trim()
  const endpoint = form.endpoint.trim()
  const endpointModel = form.endpointModel.trim()
  if (local) {
    if (generator === '') errors.generator = 'Choose a local instruct model (.gguf)'
    else if (pathError(generator)) errors.generator = pathError(generator)
  }
  if (remote) {
    if (!/^https?:\/\/[^\s/]+/.test(endpoint)) errors.endpoint = 'Give the server URL, like http://gpu-box:8080'
    if (endpointModel === '') errors.endpointModel = 'Give the model name the server knows'
    else if (endpointModel.length > 400) errors.endpointModel = 'The model name must be at most 400 characters'
  }
  if (Object.keys(errors).length > 0) return { params: null, errors }

  const params: ComprehendParamsInput = {
    mode: form.mode,
    seed: values.seed ?? COMPREHEND_DEFAULTS.seed,
    domain: domain === '' ? null : domain,
    preview,
    ...(values.limit === undefined || preview !== null ? {} : { limit: values.limit }),
  }
  if (llm) {
    Object.assign(params, {
      generator: local ? generator : null,
      endpoint: remote ? endpoint : null,
      endpointModel: remote ? endpointModel : null,
      ...(values.pairs === undefined ? {} : { pairs: values.pairs }),
      ...(values.temperature === undefined ? {} : { temperature: values.temperature }),
      ...(values.timeoutSeconds === undefined ? {} : { timeoutSeconds: values.timeoutSeconds }),
      ...(values.minGrounding === undefined ? {} : { filters: { minGrounding: values.minGrounding } }),
      ...(form.retryFailed ? { retryFailed: true } : {}),
      ...(form.asciiOnly ? { asciiOnly: true } : {}),
    })
  }
  return { params, errors }
}

export function toClusterParams(form: ClusterForm): Checked<ClusterParamsInput, ClusterForm> {
  const errors: Errors<ClusterForm> = {}
  const values = collect<ClusterForm>(
    {
      threshold: numberIn(form.threshold, -1, 1, 'Threshold', true),
      maxDocs: integerIn(form.maxDocs, 1, 1000, 'Documents per cluster'),
      maxTokens: integerIn(form.maxTokens, 16, 1_000_000, 'Tokens per cluster'),
      kMeans: integerIn(form.kMeans, 2, 10_000, 'k'),
    },
    errors,
  )
  const embedder = form.embedder.trim()
  if (pathError(embedder)) errors.embedder = pathError(embedder)
  if (Object.keys(errors).length > 0) return { params: null, errors }
  return {
    params: {
      embedder: embedder === '' ? null : embedder,
      kMeans: values.kMeans ?? null,
      ...(values.threshold === undefined ? {} : { threshold: values.threshold }),
      ...(values.maxDocs === undefined ? {} : { maxDocs: values.maxDocs }),
      ...(values.maxTokens === undefined ? {} : { maxTokens: values.maxTokens }),
    },
    errors,
  }
}

export function toDatasetParams(form: DatasetForm): Checked<DatasetParamsInput, DatasetForm> {
  const errors: Errors<DatasetForm> = {}
  const values = collect<DatasetForm>(
    {
      seqLen: integerIn(form.seqLen, 32, 131_072, 'Sequence length'),
      heldout: numberIn(form.heldout, 0, 0.5, 'Held-out fraction'),
    },
    errors,
  )
  const ratio = form.ratio.trim()
  if (ratio !== '' && !/^\d+(\.\d+)?\s*:\s*\d+(\.\d+)?$/.test(ratio)) errors.ratio = 'Give a ratio like 1:1 or 1:2'
  const mix = form.mix.trim()
  const out = form.out.trim()
  if (pathError(mix)) errors.mix = pathError(mix)
  if (pathError(out)) errors.out = pathError(out)
  if (Object.keys(errors).length > 0) return { params: null, errors }
  return {
    params: {
      mix: mix === '' ? null : mix,
      out: out === '' ? null : out,
      format: form.format,
      ...(ratio === '' ? {} : { ratio }),
      ...(values.seqLen === undefined ? {} : { seqLen: values.seqLen }),
      ...(values.heldout === undefined ? {} : { heldout: values.heldout }),
    },
    errors,
  }
}
