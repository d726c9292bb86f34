import { parseIntegerOption, requireDir, withProject, type CliCommand } from '../CliContext.js'
import { runJobInForeground } from '../runJobInForeground.js'

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'Run the demo job: checks workers, progress, cancel (Ctrl-C) and resume on this machine',
  usage: 'lectern demo <dir> [--steps <n>] [--step-ms <ms>] [--threads <n>] [--json]',
  options: { json: { type: 'boolean' }, steps: { type: 'string' }, 'step-ms': { type: 'string' }, threads: { type: 'string' } },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const steps = parseIntegerOption(values['steps'], 'steps', 1, 1_000_000) ?? 50
    const stepMs = parseIntegerOption(values['step-ms'], 'step-ms', 0, 60_000) ?? 100
    const threads = parseIntegerOption(values['threads'], 'threads', 1, 512)
    return withProject(dir, (project) =>
      runJobInForeground(project, context, { json: values['json'] === true, threads }, (queue) =>
        queue.enqueue({ kind: 'demo', params: { steps, stepMs } }),
      ),
    )
  },
}
