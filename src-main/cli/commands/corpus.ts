import { CorpusBrowser } from '../../core/corpus/CorpusBrowser.js'
import { CORPUS_FILE_STATUSES, type ChunkDetail, type CorpusFileStatus } from '../../shared/types/corpus.js'
import { parseIntegerOption, print, printJson, requireDir, UsageError, withProject, type CliCommand, type CliContext } from '../CliContext.js'
import { formatBytes, table } from '../format.js'

const USAGE = [
  'lectern corpus <dir> files [--status imported|empty|failed|skipped] [--limit N] [--offset N] [--json]',
  '       lectern corpus <dir> chunk <chunk-id> [--json]',
  '       lectern corpus <dir> restore <chunk-id> | restore-document <document-id>',
].join('\n')

function parseId(value: string | undefined, what: string): number {
  const id = Number(value)
  if (value === undefined || !Number.isInteger(id) || id < 1) throw new UsageError(`give a ${what} id (a positive integer)\nusage: ${USAGE}`)
  return id
}

function location(chunk: ChunkDetail): string {
  const pages = chunk.pageStart === null ? '' : chunk.pageStart === chunk.pageEnd ? `, page ${chunk.pageStart}` : `, pages ${chunk.pageStart}–${chunk.pageEnd}`
  const locator = chunk.document.locator === '' ? '' : ` (${chunk.document.locator})`
  return `${chunk.document.path}${locator}${pages}${chunk.section ? `, section “${chunk.section}”` : ''}, characters ${chunk.charStart}–${chunk.charEnd}`
}

function printChunk(context: CliContext, chunk: ChunkDetail): void {
  const duplicate =
    chunk.duplicateOf === null ? (chunk.keptByUser ? 'in use (restored by the user)' : 'in use') : `${chunk.duplicateKind} duplicate of chunk ${chunk.duplicateOf} (similarity ${chunk.similarity?.toFixed(2)}), set aside`
  print(
    context,
    table([
      ['Chunk', `${chunk.id}: ${chunk.ordinal + 1} of ${chunk.documentChunkCount} in document ${chunk.document.id}`],
      ['Source', location(chunk)],
      ['Tokens', String(chunk.tokenCount)],
      ['Status', duplicate],
    ]),
  )
  print(context, `\n${chunk.text}`)
}

export const corpusCommand: CliCommand = {
  name: 'corpus',
  summary: 'Browse the imported corpus: files with their outcome, a chunk with its source; restore duplicates',
  usage: USAGE,
  options: { status: { type: 'string' }, limit: { type: 'string' }, offset: { type: 'string' }, json: { type: 'boolean' } },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const [action, argument] = positionals.slice(1)
    const json = values['json'] === true
    return withProject(dir, async (project) => {
      const browser = new CorpusBrowser(project.db)
      switch (action) {
        case 'files': {
          const status = values['status']
          if (status !== undefined && !(CORPUS_FILE_STATUSES as readonly unknown[]).includes(status)) throw new UsageError(`--status must be one of ${CORPUS_FILE_STATUSES.join(', ')}`)
          const page = browser.listFiles({
            statuses: status === undefined ? undefined : [status as CorpusFileStatus],
            limit: parseIntegerOption(values['limit'], 'limit', 1, 100_000) ?? 1000,
            offset: parseIntegerOption(values['offset'], 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0,
          })
          if (json) printJson(context, page)
          else if (page.files.length === 0) print(context, 'No files.')
          else {
            const rows = page.files.map((f) => [f.status, String(f.documents), String(f.chunks), formatBytes(f.sizeBytes), f.path + (f.reason ? `: ${f.reason}` : '')])
            print(context, table([['STATUS', 'DOCS', 'CHUNKS', 'SIZE', 'FILE'], ...rows]))
            if (page.total > page.files.length) print(context, `(${page.files.length} of ${page.total}; use --offset and --limit for more)`)
          }
          return 0
        }
        case 'chunk': {
          const chunk = browser.chunk(parseId(argument, 'chunk'))
          if (json) printJson(context, chunk)
          else printChunk(context, chunk)
          return 0
        }
        case 'restore': {
          const chunk = browser.restoreChunk(parseId(argument, 'chunk'))
          if (json) printJson(context, chunk)
          else print(context, `Chunk ${chunk.id} is in use again.`)
          return 0
        }
        case 'restore-document': {
          const restored = browser.restoreDocument(parseId(argument, 'document'))
          if (json) printJson(context, restored)
          else print(context, restored.chunks === 0 ? 'That document was not a duplicate; nothing changed.' : `Document restored: ${restored.chunks} chunks added.`)
          return 0
        }
        default:
          throw new UsageError(`${action === undefined ? 'say what to show' : `unknown action "${action}"`}\nusage: ${USAGE}`)
      }
    })
  },
}
