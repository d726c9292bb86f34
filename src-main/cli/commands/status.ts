import { JOB_STATES } from '../../shared/types/jobs.js'
import { print, printJson, requireDir, withProject, type CliCommand } from '../CliContext.js'
import { formatBytes, formatTime, table } from '../format.js'

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'Describe a project: name, database, jobs',
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
        ]),
      )
      if (summary.jobCounts.interrupted > 0) print(context, `\nInterrupted jobs can be continued: lectern jobs ${summary.dir}`)
      return 0
    })
  },
}
