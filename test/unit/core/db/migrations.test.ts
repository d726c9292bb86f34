import { expect, it } from 'vitest'
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../../../src-main/core/db/migrations.js'

it('numbers migrations 1, 2, 3… without gaps, ending at the latest version', () => {
  expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1))
  expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.length)
  for (const m of MIGRATIONS) expect(m.description.length).toBeGreaterThan(0)
})
