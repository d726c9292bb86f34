import { inspectModel } from '../../core/modelFiles/inspectModel.js'
import { convertModel, type ConvertTarget } from '../../core/modelFiles/convertModel.js'
import { openModel } from '../../core/modelFiles/openModel.js'
import { GGUF_FILE_TYPES, type GgufFileType } from '../../core/model/quantize/quantMixture.js'
import { resolveComputeThreads } from '../../core/system/hardwareReport.js'
import { UsageError, parseIntegerOption, print, printJson, type CliCommand, type CliContext } from '../CliContext.js'
import { formatBytes, table } from '../format.js'

const USAGE = [
  'lectern model inspect <path> [--json]',
  'lectern model convert <src> --out <dst> --format gguf|safetensors [--type f32|f16|bf16|q8_0|q4_k_m|q5_k_m] [--adapter <run>/adapter.safetensors] [--threads <n>]',
].join('\n       ')

export const modelCommand: CliCommand = {
  name: 'model',
  summary: 'Inspect a GGUF file or Hugging Face folder, or convert between them (with quantization)',
  usage: USAGE,
  options: { json: { type: 'boolean' }, out: { type: 'string' }, format: { type: 'string' }, type: { type: 'string' }, threads: { type: 'string' }, adapter: { type: 'string' } },
  async run(positionals, values, context) {
    const [action, path] = positionals
    if (action === 'inspect' && path) return inspect(path, values['json'] === true, context)
    if (action === 'convert' && path) return convert(path, values, context)
    throw new UsageError(`expected "inspect <path>" or "convert <src> --out <dst> --format …"\nusage: ${USAGE}`)
  },
}

async function inspect(path: string, json: boolean, context: CliContext): Promise<number> {
  const opened = await openModel(path)
  try {
    const report = inspectModel(opened.source)
    if (json) {
      printJson(context, report)
      return 0
    }
    const h = report.hyperparameters
    print(
      context,
      table([
        ['Model', report.path],
        ['Format', report.format],
        ['Architecture', `${report.architecture}: ${h.blockCount} layers, width ${h.embeddingLength}, ${h.headCount} heads (${h.headCountKv} KV) of ${h.headDim}, FFN ${h.feedForwardLength}`],
        ['Parameters', `${report.parameterCount.toLocaleString('en-US')} (${formatCount(report.parameterCount)})`],
        ['Types', Object.entries(report.typeSummary).map(([type, n]) => `${type} ${formatCount(n)}`).join(', ')],
        ['Tokenizer', `${report.tokenizer.kind}, ${report.tokenizer.vocabSize} tokens, bos ${report.tokenizer.bosTokenId ?? '—'}, eos ${report.tokenizer.eosTokenId ?? '—'}`],
        ['Chat template', report.chatTemplate ? 'yes' : 'no'],
        ['Context', `${h.contextLength} tokens, RoPE θ ${h.ropeTheta}${h.tiedEmbeddings ? ', tied embeddings' : ''}`],
      ]),
    )
    print(context, '')
    print(context, table([['TENSOR', 'SHAPE', 'TYPE', 'ELEMENTS'], ...report.tensors.map((t) => [t.name, `[${t.shape.join(', ')}]`, t.type, formatCount(t.elementCount)])]))
    return 0
  } finally {
    await opened.close()
  }
}

async function convert(source: string, values: Record<string, string | boolean | undefined>, context: CliContext): Promise<number> {
  const out = values['out']
  const format = values['format']
  if (typeof out !== 'string' || out === '') throw new UsageError(`--out is required\nusage: ${USAGE}`)
  if (format !== 'gguf' && format !== 'safetensors') throw new UsageError(`--format must be gguf or safetensors\nusage: ${USAGE}`)
  const type = typeof values['type'] === 'string' ? values['type'].toUpperCase() : undefined
  let target: ConvertTarget
  if (format === 'gguf') {
    const fileType = (type ?? 'F16') as GgufFileType
    if (!GGUF_FILE_TYPES.includes(fileType)) throw new UsageError(`--type for gguf must be one of ${GGUF_FILE_TYPES.join(', ').toLowerCase()}`)
    target = { format, type: fileType }
  } else {
    if (type !== undefined && !['F32', 'F16', 'BF16'].includes(type)) throw new UsageError('--type for safetensors must be f32, f16 or bf16')
    target = { format, type: (type ?? 'source') as 'source' | 'F32' | 'F16' | 'BF16' }
  }
  const live = context.stdout.isTTY === true && values['json'] !== true
  const started = performance.now()
  const adapter = values['adapter']
  await convertModel(source, out, target, {
    ...(typeof adapter === 'string' ? { adapter } : {}),
    threads: parseIntegerOption(values['threads'], 'threads', 1, 512) ?? resolveComputeThreads('auto'),
    quantizeWorker: context.quantizeWorker,
    onProgress: (written, total) => {
      if (live) context.stdout.write(`\r\x1b[2KWriting ${formatBytes(written)} of ${formatBytes(total)} (${Math.floor((100 * written) / total)}%)`)
    },
  })
  if (live) context.stdout.write('\r\x1b[2K')
  const seconds = (performance.now() - started) / 1000
  const merged = typeof adapter === 'string' ? adapter : null
  if (values['json']) printJson(context, { source, out, format, type: target.type, adapter: merged, seconds })
  else print(context, `Wrote ${out} (${format}, ${target.type}${merged ? `, with ${merged} merged` : ''}) in ${seconds.toFixed(1)} s; reloaded and checked`)
  return 0
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`
  return String(n)
}
