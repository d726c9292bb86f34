#!/usr/bin/env node
// The CLI is bundled with the main process (out/main/cli.js) by `npm run build`, which `npm install` runs.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const built = new URL('../out/main/cli.js', import.meta.url)
if (!existsSync(built)) {
  console.error(`lectern: ${fileURLToPath(built)} is missing; run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}`)
  process.exit(1)
}
await import(built.href)
