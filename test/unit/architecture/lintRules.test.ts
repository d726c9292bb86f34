import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const eslint = new ESLint({ cwd: new URL('../../../', import.meta.url).pathname })

/** Rule ids ESLint reports for `code` placed at `filePath` (the file need not exist). */
async function ruleIdsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message)
}

describe('lint rules that hold the layers', () => {
  it.each([
    ['src-renderer/src/planted.ts', "import { ipcRenderer } from 'electron'\nexport const x = ipcRenderer\n"],
    ['src-renderer/src/planted.ts', "import { readFileSync } from 'node:fs'\nexport const x = readFileSync\n"],
    ['src-renderer/src/planted.ts', "import Database from 'better-sqlite3'\nexport const x = Database\n"],
    ['src-main/core/planted.ts', "import { app } from 'electron'\nexport const x = app\n"],
    ['src-main/shared/planted.ts', "import { join } from 'node:path'\nexport const x = join\n"],
    ['src-main/preload/planted.ts', "import { z } from 'zod'\nexport const x = z\n"],
    ['src-main/core/model/planted.ts', "import { open } from 'node:fs/promises'\nexport const x = open\n"],
  ])('bans the package import in %s: %s', async (file, code) => {
    expect(await ruleIdsFor(file, code)).toContain('@typescript-eslint/no-restricted-imports')
  })

  it.each([
    ['src-main/core/planted.ts', "import { createHandlers } from '../ipc/handlers.js'\nexport const x = createHandlers\n"],
    ['src-main/shared/planted.ts', "import { Project } from '../core/project/Project.js'\nexport const x = Project\n"],
    ['src-renderer/src/planted.ts', "import { Project } from '../../src-main/core/project/Project'\nexport const x = Project\n"],
    ['src-main/cli/planted.ts', "import { wireIpc } from '../electron/ipcWiring.js'\nexport const x = wireIpc\n"],
    ['src-main/core/model/planted.ts', "import { Project } from '../project/Project.js'\nexport const x = Project\n"],
  ])('bans the cross-layer import in %s: %s', async (file, code) => {
    expect(await ruleIdsFor(file, code)).toContain('import-x/no-restricted-paths')
  })

  it('allows what the layer table allows', async () => {
    expect(await ruleIdsFor('src-main/core/planted.ts', "import { LecternError } from '../shared/errors.js'\nimport { readFile } from 'node:fs/promises'\nexport const x = [LecternError, readFile]\n")).toEqual([])
    expect(await ruleIdsFor('src-main/core/model/planted.ts', "import { LecternError } from '../../shared/errors.js'\nexport const x = LecternError\n")).toEqual([])
    expect(await ruleIdsFor('src-main/core/planted2.ts', "import { x } from './model/planted.js'\nexport const y = x\n")).not.toContain('import-x/no-restricted-paths')
    expect(await ruleIdsFor('src-main/electron/planted.ts', "import { app } from 'electron'\nimport { createHandlers } from '../ipc/handlers.js'\nexport const x = [app, createHandlers]\n")).toEqual([])
  })
})
