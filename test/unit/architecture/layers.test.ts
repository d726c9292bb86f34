import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { LAYERS } from '../../../layers.config.js'

const root = new URL('../../../', import.meta.url)

function sourceFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src-main', 'src-renderer'], { cwd: root, encoding: 'utf8' })
  return out.split('\n').filter((f) => /\.(ts|js|mjs|svelte)$/.test(f))
}

/** The layers whose folder holds the file, most specific (longest folder) first. */
function layersHolding(file: string): { name: string; depth: number }[] {
  return LAYERS.flatMap((layer) =>
    layer.files
      .filter((glob) => (glob.endsWith('/**') ? file.startsWith(glob.slice(0, -2)) : file === glob))
      .map((glob) => ({ name: layer.name, depth: glob.length })),
  ).sort((a, b) => b.depth - a.depth)
}

function layerOf(file: string): string[] {
  const [first] = layersHolding(file)
  return first ? [first.name] : []
}

it('puts every source file in one layer (a new folder must be added to layers.config.js)', () => {
  const files = sourceFiles()
  expect(files.length).toBeGreaterThan(20)
  const unplaced = files.filter((file) => layerOf(file).length !== 1)
  expect(unplaced, 'files in no layer').toEqual([])
  const ambiguous = files.filter((file) => {
    const [a, b] = layersHolding(file)
    return a && b && a.depth === b.depth
  })
  expect(ambiguous, 'files claimed by two layers equally').toEqual([])
})

it('imports electron only from the entry, src-main/electron/ and the preload', () => {
  const offenders = sourceFiles().filter((file) => {
    const text = readFileSync(new URL(file, root), 'utf8')
    return /from ['"]electron['"]|require\(['"]electron['"]\)/.test(text) && !['electron', 'preload'].includes(layerOf(file)[0] ?? '')
  })
  expect(offenders).toEqual([])
})
