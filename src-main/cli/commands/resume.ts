import { Project } from '../../core/project/Project.js'
import { UsageError, parseIntegerOption, requireDir, type CliCommand } from '../CliContext.js'
import { runJobInForeground } from '../runJobInForeground.js'

export const resumeCommand: CliCommand = {
  name: 'resume',
  summary: 'Continue an interrupted, cancelled or failed job from its checkpoint, showing progress',
  usage: 'lectern resume <dir> <id> [--threads <n>] [--json]',
  options: { json: { type: 'boolean' }, threads: { type: 'string' } },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const jobId = positionals[1]
    if (jobId === undefined) throw new UsageError(`missing <id>\nusage: ${this.usage}`)
    const threads = parseIntegerOption(values['threads'], 'threads', 1, 512)
    const project = await Project.open(dir)
    try {
      return await runJobInForeground(project, context, { json: values['json'] === true, threads }, (queue) => queue.resume(jobId))
    } finally {
      project.close()
    }
  },
}
