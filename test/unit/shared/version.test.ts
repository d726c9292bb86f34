import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { LECTERN_VERSION } from '../../../src-main/shared/version.js'

it('matches the version in package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  expect(LECTERN_VERSION).toBe(pkg.version)
})
