import { resolve } from 'node:path'
import { importParamsSchema, type ImportParams, type ImportSummary } from '../../shared/types/corpus.js'
import { parseIntegerOption, print, requireDir, UsageError, withProject, type CliCommand, type CliContext } from '../CliContext.js'
import { runProjectJob, validatedParams } from '../runProjectJob.js'
import { table } from '../format.js'

const USAGE = [
  'lectern import <dir> <path...> [--chunk-tokens N] [--overlap N] [--near-dup 0.85]',
  '      [--tokenizer <gguf|hf-dir>] [--text-field NAME] [--max-file-mb N] [--threads N] [--json]',
].join('\n')

function parseThreshold(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (typeof value !== 'string' || value.trim() === '' || !(n > 0 && n < 1)) throw new UsageError('--near-dup must be a Jaccard similarity between 0 and 1, such as 0.85')
  return n
}

function importParamsFromOptions(paths: string[], values: Record<string, string | boolean | undefined>): ImportParams {
  if (paths.length === 0) throw new UsageError(`name at least one file or folder to import\nusage: ${USAGE}`)
  const tokenizer = values['tokenizer']
  const textField = values['text-field']
  const input = {
    paths: paths.map((p) => resolve(p)),
    chunkTokens: parseIntegerOption(values['chunk-tokens'], 'chunk-tokens', 16, 32_768),
    overlapTokens: parseIntegerOption(values['overlap'], 'overlap', 0, 32_767),
    nearDuplicateThreshold: parseThreshold(values['near-dup']),
    tokenizerModel: typeof tokenizer === 'string' ? (tokenizer === 'estimate' ? null : resolve(tokenizer)) : undefined,
    textField: typeof textField === 'string' ? textField : undefined,
    maxFileMiB: parseIntegerOption(values['max-file-mb'], 'max-file-mb', 1, 65_536),
  }
  return validatedParams(importParamsSchema, input, { chunkTokens: 'chunk-tokens', overlapTokens: 'overlap', nearDuplicateThreshold: 'near-dup' })
}

export function printImportSummary(context: CliContext, summary: ImportSummary): void {
  const { files, corpus } = summary
  const problems = (list: { path: string; reason: string }[], more: number): string[] => [...list.map((p) => `  ${p.path}: ${p.reason}`), ...(more > 0 ? [`  … and ${more} more`] : [])]
  print(
    context,
    table([
      ['Files', `${files.seen} seen: ${files.added} new, ${files.updated} changed, ${files.unchanged} unchanged, ${files.empty} empty, ${files.skipped} skipped, ${files.failed} failed`],
      ['Documents', `${summary.documents} added (${summary.duplicateDocuments} exact duplicates of earlier documents)`],
      ['Chunks', `${summary.chunks} added, ${summary.tokens} tokens (${summary.exactDuplicateChunks} exact, ${summary.nearDuplicateChunks} near duplicates)`],
      ['Settings', `${summary.settings.chunkTokens}-token chunks, overlap ${summary.settings.overlapTokens}, near-duplicate Jaccard ≥ ${summary.settings.nearDuplicateThreshold}, tokens by ${summary.settings.tokenizerModel ?? 'estimate'}`],
      ['Corpus', `${corpus.documents} documents, ${corpus.activeChunks} chunks in use (${corpus.activeTokens} tokens), ${corpus.chunks - corpus.activeChunks} duplicate chunks set aside`],
    ]),
  )
  if (summary.failed.length > 0) print(context, ['Failed:', ...problems(summary.failed, summary.moreFailed)].join('\n'))
  if (summary.skipped.length > 0) print(context, ['Skipped:', ...problems(summary.skipped, summary.moreSkipped)].join('\n'))
  if (summary.warnings.length > 0) print(context, ['Warnings:', ...problems(summary.warnings, summary.moreWarnings)].join('\n'))
}

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'Import documents (files, folders, .zip) into the corpus: clean text, chunks, duplicates',
  usage: USAGE,
  options: {
    'chunk-tokens': { type: 'string' },
    overlap: { type: 'string' },
    'near-dup': { type: 'string' },
    tokenizer: { type: 'string' },
    'text-field': { type: 'string' },
    'max-file-mb': { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const params = importParamsFromOptions(positionals.slice(1), values)
    return withProject(dir, (project) => runProjectJob<ImportSummary>(project, context, values, { kind: 'import', params }, (summary) => printImportSummary(context, summary)))
  },
}
