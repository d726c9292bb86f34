import { parseArgs } from 'node:util'
import { LecternError, formatErrorLine, serializeError } from '../shared/errors.js'
import { LECTERN_VERSION } from '../shared/version.js'
import { UsageError, print, type CliCommand, type CliContext } from './CliContext.js'
import { cancelCommand } from './commands/cancel.js'
import { clusterCommand } from './commands/cluster.js'
import { comprehendCommand } from './commands/comprehend.js'
import { corpusCommand } from './commands/corpus.js'
import { datasetCommand } from './commands/dataset.js'
import { demoCommand } from './commands/demo.js'
import { evalCommand } from './commands/eval.js'
import { exportCommand } from './commands/export.js'
import { importCommand } from './commands/import.js'
import { initCommand } from './commands/init.js'
import { jobCommand } from './commands/job.js'
import { jobsCommand } from './commands/jobs.js'
import { modelCommand } from './commands/model.js'
import { resumeCommand } from './commands/resume.js'
import { statusCommand } from './commands/status.js'
import { trainCommand } from './commands/train.js'

export const COMMANDS: readonly CliCommand[] = [initCommand, statusCommand, jobsCommand, jobCommand, cancelCommand, resumeCommand, demoCommand, modelCommand, importCommand, corpusCommand, comprehendCommand, clusterCommand, datasetCommand, trainCommand, evalCommand, exportCommand]

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    `Lectern ${LECTERN_VERSION}: turn a private document corpus into a domain-adapted local LLM, offline.`,
    '',
    'Usage: lectern <command> <dir> [options]   (lectern model takes a model path instead)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --json for output that scripts can parse, and --help for its usage.',
    'Exit codes: 0 success, 1 error, 2 wrong usage, 130 cancelled with Ctrl-C.',
  ].join('\n')
}

/** Runs one CLI invocation and returns its exit code; errors become one line on stderr, never a stack. */
export async function runCli(argv: string[], context: CliContext): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    print(context, helpText())
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-v') {
    print(context, LECTERN_VERSION)
    return 0
  }
  const command = COMMANDS.find((c) => c.name === name)
  if (!command) {
    context.stderr.write(`lectern: unknown command "${name}"; run lectern --help for the list\n`)
    return 2
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    })
    if (values.help) {
      print(context, `${command.summary}\n\nusage: ${command.usage}`)
      return 0
    }
    return await command.run(positionals, values as Record<string, string | boolean | undefined>, context)
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      context.stderr.write(`lectern ${name}: ${(error as Error).message.split('\n').join('\n  ')}\n`)
      return 2
    }
    if (!(error instanceof LecternError) && process.env['LECTERN_DEBUG']) context.stderr.write(`${(error as Error).stack ?? String(error)}\n`)
    context.stderr.write(`lectern: ${formatErrorLine(serializeError(error))}\n`)
    return 1
  }
}
