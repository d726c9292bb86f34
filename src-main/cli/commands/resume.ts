import { parseIntegerOption, requireDirAndJobId, withProject, type CliCommand } from '../CliContext.js'
import { runJobInForeground } from '../runJobInForeground.js'

export const resumeCommand: CliCommand = {
  name: 'resume',
  summary: 'Continue an interrupted, cancelled or failed job from its checkpoint, showing progress',
  usage: 'lectern resume <dir> <id> [--threads <n>] [--json]',
  options: { json: { type: 'boolean' }, threads: { type: 'string' } },
  async run(positionals, values, context) {
    const { dir, jobId } = requireDirAndJobId(positionals, this.usage)
    const threads = parseIntegerOption(values['threads'], 'threads', 1, 512)
    return withProject(dir, (project) =>
      runJobInForeground(project, context, { json: values['json'] === true, threads }, (queue) => queue.resume(jobId)),
    )
  },
}
