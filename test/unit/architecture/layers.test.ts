import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { LAYERS } from '../../../layers.config.js'

const root = new URL('../../../', import.meta.url)

function sourceFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src-main', 'src-renderer'], { cwd: root, encoding: 'utf8' })
  return out.split('\n').filter((f) => /\.(ts|js|mjs|svelte)$/.test(f))
}

function layerOf(file: string): string[] {
  return LAYERS.filter((layer) =>
    layer.files.some((glob) => (glob.endsWith('/**') ? file.startsWith(glob.slice(0, -2)) : file === glob)),
  ).map((layer) => layer.name)
}

it('puts every source file in exactly one layer (a new folder must be added to layers.config.js)', () => {
  const files = sourceFiles()
  expect(files.length).toBeGreaterThan(20)
  const unplaced = files.filter((file) => layerOf(file).length !== 1)
  expect(unplaced, 'files in no layer, or in several').toEqual([])
})

it('imports electron only from the entry, src-main/electron/ and the preload', () => {
  const offenders = sourceFiles().filter((file) => {
    const text = readFileSync(new URL(file, root), 'utf8')
    return /from ['"]electron['"]|require\(['"]electron['"]\)/.test(text) && !['electron', 'preload'].includes(layerOf(file)[0] ?? '')
  })
  expect(offenders).toEqual([])
})
