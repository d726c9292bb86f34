import { basename, resolve } from 'node:path'
import { Project } from '../../core/project/Project.js'
import { print, printJson, requireDir, type CliCommand } from '../CliContext.js'

export const initCommand: CliCommand = {
  name: 'init',
  summary: 'Create a project folder (project.db + artifacts/)',
  usage: 'lectern init <dir> [--name <name>] [--json]',
  options: { name: { type: 'string' }, json: { type: 'boolean' } },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const name = typeof values['name'] === 'string' && values['name'].trim() !== '' ? values['name'].trim() : basename(resolve(dir))
    const project = await Project.create(dir, name)
    try {
      const summary = await project.summary()
      if (values['json']) printJson(context, summary)
      else print(context, `Created project "${summary.name}" in ${summary.dir}`)
      return 0
    } finally {
      project.close()
    }
  },
}
