import { resolve } from 'node:path'
import { CLUSTER_LAUNCHERS, EXPORT_FORMATS, EXPORT_TYPES, exportParamsSchema, type ExportResult } from '../../shared/types/export.js'
import { oneOf, parseIntegerOption, print, requireDir, withProject, type CliCommand } from '../CliContext.js'
import { table } from '../format.js'
import { runProjectJob, validatedParams } from '../runProjectJob.js'

const USAGE = [
  'lectern export <dir> --format gguf|safetensors|ollama|adapter|bundle --out <path> [--run <id>|latest]',
  '      [--type f16|bf16|q8_0|q4_k_m|q5_k_m|f32] [--launcher accelerate-deepspeed|accelerate-fsdp|axolotl|llamafactory]',
  '      [--name <model name>] [--verify-tokens N] [--threads N] [--json]',
].join('\n')

export const exportCommand: CliCommand = {
  name: 'export',
  summary: "Merge a run's adapter into its base model, write it (GGUF, safetensors, Ollama, PEFT adapter, cluster bundle) and verify it",
  usage: USAGE,
  options: {
    run: { type: 'string' },
    format: { type: 'string' },
    type: { type: 'string' },
    out: { type: 'string' },
    launcher: { type: 'string' },
    name: { type: 'string' },
    'verify-tokens': { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const params = validatedParams(exportParamsSchema, {
      run: typeof values['run'] === 'string' ? values['run'] : undefined,
      format: oneOf(values['format'], 'format', EXPORT_FORMATS),
      type: oneOf(typeof values['type'] === 'string' ? values['type'].toLowerCase() : values['type'], 'type', EXPORT_TYPES),
      out: typeof values['out'] === 'string' ? resolve(values['out']) : undefined,
      launcher: oneOf(values['launcher'], 'launcher', CLUSTER_LAUNCHERS),
      name: typeof values['name'] === 'string' ? values['name'] : undefined,
      verifyTokens: parseIntegerOption(values['verify-tokens'], 'verify-tokens', 16, 8192),
    })
    return withProject(dir, (project) =>
      runProjectJob<ExportResult>(project, context, values, { kind: 'export', params }, (e) => {
        const d = e.verification?.distributions
        const t = e.verification?.tensors
        print(
          context,
          table([
            ['Export', `${e.runId} as ${e.format}${e.type === null ? '' : ` ${e.type.toUpperCase()}`}: ${e.status}`],
            ['Path', e.path],
            ...e.files.map((f) => [f.name, `${f.bytes} bytes, SHA-256 ${f.sha256}`]),
            ...(d ? [['Distributions', `mean KL ${d.meanKl.toExponential(2)} (≤ ${d.tolerance.toExponential(0)}), top-1 ${(100 * d.top1Agreement).toFixed(1)}% over ${d.positions} positions; KL to base ${d.meanKlToBase.toExponential(2)}`]] : []),
            ...(t ? [['Tensors', `${t.tensors} re-read, largest difference ${t.maxAbsDiff}, ${t.changedFromBase} changed from the base`]] : []),
            ...(e.verification?.checks ?? []).map((c) => [c.passed ? 'Passed' : 'FAILED', `${c.name}: ${c.detail}`]),
          ]),
        )
      }),
    )
  },
}
