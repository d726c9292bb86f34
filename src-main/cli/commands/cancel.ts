import { Project } from '../../core/project/Project.js'
import { UsageError, print, printJson, requireDir, type CliCommand } from '../CliContext.js'

export const cancelCommand: CliCommand = {
  name: 'cancel',
  summary: 'Cancel a queued or running job (also one running in the app)',
  usage: 'lectern cancel <dir> <id> [--json]',
  options: { json: { type: 'boolean' } },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const jobId = positionals[1]
    if (jobId === undefined) throw new UsageError(`missing <id>\nusage: ${this.usage}`)
    const project = await Project.open(dir)
    try {
      const job = project.jobs.requestCancel(jobId)
      if (values['json']) printJson(context, job)
      else if (job.state === 'cancelled') print(context, `Job ${job.id} cancelled`)
      else print(context, `Cancellation of job ${job.id} requested; the process running it stops it within seconds`)
      return 0
    } finally {
      project.close()
    }
  },
}
