import { parseIntegerOption, print, printJson, requireDirAndJobId, withProject, type CliCommand } from '../CliContext.js'
import { formatDuration, formatTime, progressLine, table } from '../format.js'

export const jobCommand: CliCommand = {
  name: 'job',
  summary: 'Show one job with its log',
  usage: 'lectern job <dir> <id> [--log <lines>] [--json]',
  options: { json: { type: 'boolean' }, log: { type: 'string' } },
  async run(positionals, values, context) {
    const { dir, jobId } = requireDirAndJobId(positionals, this.usage)
    const logLimit = parseIntegerOption(values['log'], 'log', 0, 100_000) ?? 50
    return withProject(dir, async (project) => {
      const job = project.jobs.detail(jobId, logLimit)
      if (values['json']) {
        printJson(context, job)
        return 0
      }
      const ran = job.startedAtMs !== null ? ((job.finishedAtMs ?? Date.now()) - job.startedAtMs) / 1000 : null
      print(
        context,
        table([
          ['Job', `${job.id}  ${job.label}`],
          ['State', job.state + (job.resumable ? ' (resumable)' : '')],
          ['Progress', progressLine(job, 100)],
          ['Created', formatTime(job.createdAtMs)],
          ['Last run', `${formatTime(job.startedAtMs)} for ${formatDuration(ran)}, attempt ${job.attempts}`],
          ...(job.error ? [['Error', job.error.message]] : []),
        ]),
      )
      if (job.logs.length > 0) {
        print(context, '\nLog:')
        for (const line of job.logs) print(context, `  ${formatTime(line.atMs)}  ${line.level.padEnd(5)}  ${line.message}`)
      }
      return 0
    })
  },
}
