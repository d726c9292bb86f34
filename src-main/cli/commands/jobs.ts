import { parseIntegerOption, print, printJson, requireDir, withProject, type CliCommand } from '../CliContext.js'
import { formatDuration, formatPercent, formatTime, table } from '../format.js'

export const jobsCommand: CliCommand = {
  name: 'jobs',
  summary: "List a project's jobs, newest first",
  usage: 'lectern jobs <dir> [--limit <n>] [--json]',
  options: { json: { type: 'boolean' }, limit: { type: 'string' } },
  async run(positionals, values, context) {
    const limit = parseIntegerOption(values['limit'], 'limit', 1, 10_000) ?? 50
    return withProject(requireDir(positionals, this.usage), async (project) => {
      const jobs = project.jobs.list(limit)
      if (values['json']) {
        printJson(context, jobs)
        return 0
      }
      if (jobs.length === 0) {
        print(context, 'No jobs yet.')
        return 0
      }
      const rows = jobs.map((job) => [
        job.id,
        job.state + (job.cancelRequested && job.state === 'running' ? ' (cancelling)' : ''),
        formatPercent(job),
        job.state === 'running' ? formatDuration(job.progress.etaSeconds) : '',
        formatTime(job.createdAtMs),
        job.label,
      ])
      print(context, table([['ID', 'STATE', 'DONE', 'ETA', 'CREATED', 'JOB'], ...rows]))
      const resumable = jobs.filter((job) => job.state === 'interrupted')
      if (resumable.length > 0) print(context, `\nResume an interrupted job with: lectern resume ${project.dir} <id>`)
      return 0
    })
  },
}
