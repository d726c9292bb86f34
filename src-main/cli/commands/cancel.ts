import { print, printJson, requireDirAndJobId, withProject, type CliCommand } from '../CliContext.js'

export const cancelCommand: CliCommand = {
  name: 'cancel',
  summary: 'Cancel a queued or running job (also one running in the app)',
  usage: 'lectern cancel <dir> <id> [--json]',
  options: { json: { type: 'boolean' } },
  async run(positionals, values, context) {
    const { dir, jobId } = requireDirAndJobId(positionals, this.usage)
    return withProject(dir, async (project) => {
      const job = project.jobs.requestCancel(jobId)
      if (values['json']) printJson(context, job)
      else if (job.state === 'cancelled') print(context, `Job ${job.id} cancelled`)
      else print(context, `Cancellation of job ${job.id} requested; the process running it stops it within seconds`)
      return 0
    })
  },
}
