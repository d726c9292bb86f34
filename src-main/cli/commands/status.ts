import type { ComprehensionTotals } from '../../shared/types/comprehension.js'
import type { CorpusTotals } from '../../shared/types/corpus.js'
import { JOB_STATES } from '../../shared/types/jobs.js'
import { print, printJson, requireDir, withProject, type CliCommand } from '../CliContext.js'
import { formatBytes, formatTime, table } from '../format.js'

function corpusRows(corpus: CorpusTotals | null): string[][] {
  if (corpus === null) return [['Corpus', 'not available (open the project read-write once to upgrade it)']]
  const { files } = corpus
  if (files.imported + files.empty + files.failed + files.skipped === 0) return [['Corpus', 'empty: add documents with lectern import']]
  return [
    ['Corpus files', `${files.imported} imported, ${files.empty} empty, ${files.skipped} skipped, ${files.failed} failed`],
    ['Documents', `${corpus.documents} (${corpus.duplicateDocuments} exact duplicates), ${formatCount(corpus.characters)} characters`],
    ['Chunks', `${corpus.activeChunks} in use, ${formatCount(corpus.activeTokens)} tokens; set aside: ${corpus.exactDuplicateChunks} exact and ${corpus.nearDuplicateChunks} near duplicates`],
  ]
}

function comprehensionRows(totals: ComprehensionTotals | null): string[][] {
  if (totals === null || totals.activeChunks === 0) return []
  const generated = Object.values(totals.generations).reduce((a, b) => a + b, 0)
  const failed = totals.generations.timeout + totals.generations.error + totals.generations.unparsable
  return [
    ['Mined RC', `${totals.rcChunks} of ${totals.activeChunks} chunks, ${formatCount(totals.rcTasks)} tasks`],
    ['Generated QA', `${generated} of ${totals.activeChunks} chunks (${failed} failed): ${formatCount(totals.acceptedPairs)} pairs kept, ${formatCount(totals.rejectedPairs)} rejected`],
    ['Clusters', totals.clusters === null ? `none (${totals.embeddedChunks} chunks embedded)` : `${totals.clusters.clusters} over ${totals.clusters.members} chunks, ${totals.clusters.multiMember} with several`],
  ]
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'Describe a project: name, database, jobs, corpus and comprehension totals',
  usage: 'lectern status <dir> [--json]',
  options: { json: { type: 'boolean' } },
  async run(positionals, values, context) {
    return withProject(requireDir(positionals, this.usage), async (project) => {
      const summary = await project.summary()
      if (values['json']) {
        printJson(context, summary)
        return 0
      }
      const jobs = JOB_STATES.filter((s) => summary.jobCounts[s] > 0).map((s) => `${summary.jobCounts[s]} ${s}`)
      print(
        context,
        table([
          ['Project', summary.name],
          ['Folder', summary.dir],
          ['Database', `${summary.dbPath} (schema v${summary.schemaVersion}, ${formatBytes(summary.dbSizeBytes)})`],
          ['Created', `${formatTime(summary.createdAtMs)} by Lectern ${summary.createdByVersion}`],
          ['Jobs', jobs.length ? jobs.join(', ') : 'none'],
          ...corpusRows(summary.corpus),
          ...comprehensionRows(summary.comprehension),
        ]),
      )
      if (summary.jobCounts.interrupted > 0) print(context, `\nInterrupted jobs can be continued: lectern jobs ${summary.dir}`)
      return 0
    })
  },
}
