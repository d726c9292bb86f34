import { resolve } from 'node:path'
import { DATASET_MODES, datasetParamsSchema, type DatasetSummary } from '../../shared/types/comprehension.js'
import { oneOf, parseIntegerOption, parseNumberOption, print, requireDir, withProject, type CliCommand } from '../CliContext.js'
import { table } from '../format.js'
import { runProjectJob, validatedParams } from '../runProjectJob.js'

const USAGE = [
  'lectern dataset <dir> [--mode regex|llm|both] [--mix <jsonl>] [--ratio 1:1] [--seq-len N] [--heldout 0.05]',
  '      [--seed N] [--tokenizer <gguf|hf-dir>] [--out <jsonl>] [--format text|chat] [--threads N] [--json]',
].join('\n')

const pathOption = (value: string | boolean | undefined): string | undefined => (typeof value === 'string' ? resolve(value) : undefined)

export const datasetCommand: CliCommand = {
  name: 'dataset',
  summary: 'Build the training set: pack comprehension texts and general instructions into sequences, hold out documents',
  usage: USAGE,
  options: {
    mode: { type: 'string' },
    mix: { type: 'string' },
    ratio: { type: 'string' },
    'seq-len': { type: 'string' },
    heldout: { type: 'string' },
    seed: { type: 'string' },
    tokenizer: { type: 'string' },
    out: { type: 'string' },
    format: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const params = validatedParams(datasetParamsSchema, {
      mode: oneOf(values['mode'], 'mode', DATASET_MODES),
      mix: pathOption(values['mix']),
      ratio: typeof values['ratio'] === 'string' ? values['ratio'] : undefined,
      seqLen: parseIntegerOption(values['seq-len'], 'seq-len', 32, 131_072),
      heldout: parseNumberOption(values['heldout'], 'heldout'),
      seed: parseIntegerOption(values['seed'], 'seed', 0, 2 ** 31 - 1),
      tokenizer: pathOption(values['tokenizer']),
      out: pathOption(values['out']),
      format: oneOf(values['format'], 'format', ['text', 'chat'] as const),
    })
    return withProject(dir, (project) =>
      runProjectJob<DatasetSummary>(project, context, values, { kind: 'dataset', params }, (s) =>
        print(
          context,
          table([
            ['Dataset', `${s.sequences} sequences of ${s.seqLen} tokens (${(s.fillRatio * 100).toFixed(1)}% filled) in ${s.dir}`],
            ['Tokens', `${s.tokens.total}: ${s.tokens.regex} mined RC, ${s.tokens.llm} generated RC, ${s.tokens.instructions} general instructions`],
            ['Mix', s.achievedRatio === null ? 'no general instructions' : `domain:general = ${s.achievedRatio.toFixed(2)}:1`],
            ['Held out', `${s.heldOut.documents} documents (${s.heldOut.tokens} tokens, ${s.heldOut.qaPairs} QA pairs), never trained on`],
            ['Tokenizer', s.tokenizer],
            ...(s.exported === null ? [] : [['Exported', s.exported]]),
          ]),
        ),
      ),
    )
  },
}
