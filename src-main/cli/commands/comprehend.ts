import { resolve } from 'node:path'
import { comprehendParamsSchema, type ComprehendParamsInput, type ComprehendSummary } from '../../shared/types/comprehension.js'
import { oneOf, parseIntegerOption, parseNumberOption, print, requireDir, withProject, type CliCommand, type CliContext } from '../CliContext.js'
import { table } from '../format.js'
import { runProjectJob, validatedParams } from '../runProjectJob.js'

const USAGE = [
  'lectern comprehend <dir> --mode regex|llm [--generator <gguf> | --endpoint <url> [--endpoint-model NAME]]',
  '      [--pairs N] [--temperature X] [--seed N] [--domain TEXT] [--limit N] [--timeout S] [--contexts N]',
  '      [--min-grounding X] [--ascii-only] [--retry-failed] [--preview N] [--threads N] [--json]',
].join('\n')

const OPTION_NAMES: Record<string, string> = { timeoutSeconds: 'timeout', endpointModel: 'endpoint-model', retryFailed: 'retry-failed', filters: 'min-grounding', asciiOnly: 'ascii-only' }

function printComprehendSummary(context: CliContext, summary: ComprehendSummary): void {
  const { totals } = summary
  const reasons = Object.entries(summary.rejectedByReason).map(([reason, n]) => `${n} ${reason.replace('_', ' ')}`)
  const failed = Object.entries(summary.failed).map(([status, n]) => `${n} ${status}`)
  const rows =
    summary.mode === 'regex'
      ? [['Mined', `${summary.produced} tasks from ${summary.processed} chunks; ${summary.remaining} chunks left`]]
      : [
          ['Generated', `${summary.processed} chunks: ${summary.produced} pairs kept, ${summary.rejected} rejected${reasons.length ? ` (${reasons.join(', ')})` : ''}`],
          ['Failed chunks', failed.length ? `${failed.join(', ')} (rerun with --retry-failed)` : 'none'],
          ['Speed', summary.tokensPerSecond === null ? '–' : `${summary.tokensPerSecond.toFixed(1)} output tokens/s`],
          ['Remaining', `${summary.remaining} chunks`],
        ]
  print(
    context,
    table([
      ...rows,
      ['Project', `${totals.rcChunks} of ${totals.activeChunks} chunks mined (${totals.rcTasks} tasks); ${totals.acceptedPairs} QA pairs kept, ${totals.rejectedPairs} rejected`],
    ]),
  )
  for (const outcome of summary.preview ?? []) {
    print(context, `\nchunk ${outcome.chunkId}: ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''}`)
    for (const pair of outcome.pairs) print(context, `  ${pair.rejectReason ? `✗ ${pair.rejectReason}` : '✓'}  Q: ${pair.question}\n     A: ${pair.answer}`)
  }
  for (const rc of summary.rcPreview ?? []) print(context, `\n── chunk ${rc.chunkId} (${rc.taskCount} tasks) ──\n${rc.text}`)
}

export const comprehendCommand: CliCommand = {
  name: 'comprehend',
  summary: 'Reading-comprehension data: mine AdaptLLM tasks (regex) or generate QA pairs with a local model (llm)',
  usage: USAGE,
  options: {
    mode: { type: 'string' },
    generator: { type: 'string' },
    endpoint: { type: 'string' },
    'endpoint-model': { type: 'string' },
    pairs: { type: 'string' },
    temperature: { type: 'string' },
    seed: { type: 'string' },
    domain: { type: 'string' },
    limit: { type: 'string' },
    timeout: { type: 'string' },
    contexts: { type: 'string' },
    'min-grounding': { type: 'string' },
    'retry-failed': { type: 'boolean' },
    'ascii-only': { type: 'boolean' },
    preview: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const generator = values['generator']
    const minGrounding = parseNumberOption(values['min-grounding'], 'min-grounding')
    const input: ComprehendParamsInput = {
      mode: oneOf(values['mode'], 'mode', ['regex', 'llm'] as const) ?? 'regex',
      generator: typeof generator === 'string' ? resolve(generator) : undefined,
      endpoint: typeof values['endpoint'] === 'string' ? values['endpoint'] : undefined,
      endpointModel: typeof values['endpoint-model'] === 'string' ? values['endpoint-model'] : undefined,
      pairs: parseIntegerOption(values['pairs'], 'pairs', 1, 20),
      temperature: parseNumberOption(values['temperature'], 'temperature'),
      seed: parseIntegerOption(values['seed'], 'seed', 0, 2 ** 31 - 1),
      domain: typeof values['domain'] === 'string' ? values['domain'] : undefined,
      limit: parseIntegerOption(values['limit'], 'limit', 1, Number.MAX_SAFE_INTEGER),
      timeoutSeconds: parseIntegerOption(values['timeout'], 'timeout', 1, 3600),
      contexts: parseIntegerOption(values['contexts'], 'contexts', 1, 64),
      retryFailed: values['retry-failed'] === true ? true : undefined,
      asciiOnly: values['ascii-only'] === true ? true : undefined,
      preview: parseIntegerOption(values['preview'], 'preview', 1, 50),
      filters: minGrounding === undefined ? undefined : { minGrounding },
    }
    const params = validatedParams(comprehendParamsSchema, input, OPTION_NAMES)
    return withProject(dir, (project) =>
      runProjectJob<ComprehendSummary>(project, context, values, { kind: 'comprehend', params }, (summary) => printComprehendSummary(context, summary)),
    )
  },
}
