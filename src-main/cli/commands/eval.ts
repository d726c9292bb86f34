import { evalParamsSchema, type EvalModelMetrics, type EvalReport } from '../../shared/types/export.js'
import { oneOf, parseIntegerOption, print, requireDir, withProject, type CliCommand } from '../CliContext.js'
import { table } from '../format.js'
import { runProjectJob, validatedParams } from '../runProjectJob.js'

const USAGE = [
  'lectern eval <dir> [--run <run-id|job-id|latest>] [--type f32|f16|bf16|q8_0] [--context N] [--max-texts N]',
  '      [--max-questions N] [--no-generate] [--seed N] [--threads N] [--json]',
].join('\n')

type Row = [label: string, pick: (m: EvalModelMetrics) => number | null, digits: number, percent: boolean]

const ROWS: readonly Row[] = [
  ['Held-out perplexity', (m) => m.heldOutPerplexity, 3, false],
  ['General-text perplexity', (m) => m.generalPerplexity, 3, false],
  ['QA accuracy', (m) => m.qaAccuracy, 1, true],
  ['QA exact match', (m) => m.qaExactMatch, 1, true],
  ['QA F1', (m) => m.qaF1, 1, true],
]

function figure(value: number | null, digits: number, percent: boolean): string {
  if (value === null) return '—'
  return percent ? `${(value * 100).toFixed(digits)}%` : value.toFixed(digits)
}

function delta(base: number | null, adapted: number | null, digits: number, percent: boolean): string {
  if (base === null || adapted === null) return '—'
  const d = adapted - base
  const sign = d > 0 ? '+' : d < 0 ? '−' : '±'
  return percent ? `${sign}${(Math.abs(d) * 100).toFixed(digits)} pt` : `${sign}${Math.abs(d).toFixed(digits)}`
}

/** The base-vs-adapted table `lectern eval` prints. */
export function evalReportTable(report: EvalReport): string {
  const lines = [
    table([
      ['', 'base', 'adapted', 'Δ'],
      ...ROWS.map(([label, pick, digits, percent]) => [
        label,
        figure(pick(report.base), digits, percent),
        figure(pick(report.adapted), digits, percent),
        delta(pick(report.base), pick(report.adapted), digits, percent),
      ]),
    ]),
    '',
    `${report.runId} at ${report.type.toUpperCase()}, context ${report.contextSize}: ${report.heldOutTexts} held-out passages (${report.adapted.heldOutTokens} tokens), ` +
      `${report.adapted.generalTokens} general-text tokens, ${report.questions.length} questions`,
    `Models: ${report.baseModel}`,
    `        ${report.adaptedModel}`,
    ...report.notes.map((note) => `Note: ${note}`),
  ]
  return lines.join('\n')
}

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'Evaluate a trained run against its base: held-out perplexity, closed-book QA, general-text regression',
  usage: USAGE,
  options: {
    run: { type: 'string' },
    type: { type: 'string' },
    context: { type: 'string' },
    'max-texts': { type: 'string' },
    'max-questions': { type: 'string' },
    'no-generate': { type: 'boolean' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const params = validatedParams(
      evalParamsSchema,
      {
        run: typeof values['run'] === 'string' ? values['run'] : undefined,
        type: oneOf(values['type'], 'type', ['f32', 'f16', 'bf16', 'q8_0'] as const),
        contextSize: parseIntegerOption(values['context'], 'context', 32, 32_768),
        maxTexts: parseIntegerOption(values['max-texts'], 'max-texts', 1, 100_000),
        maxQuestions: parseIntegerOption(values['max-questions'], 'max-questions', 1, 100_000),
        generate: values['no-generate'] === true ? false : undefined,
        seed: parseIntegerOption(values['seed'], 'seed', 0, 2 ** 31 - 1),
      },
      { contextSize: 'context' },
    )
    return withProject(dir, (project) => runProjectJob<EvalReport>(project, context, values, { kind: 'eval', params }, (report) => print(context, evalReportTable(report))))
  },
}
