import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ModelLibrary } from '../../../../src-main/core/app/ModelLibrary.js'
import { LecternError } from '../../../../src-main/shared/errors.js'
import { writeNotAModel, writeTruncatedGguf, writeUnknownArchitectureGguf } from '../../../fixtures/badModelFiles.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'

let dir: string
let gguf: string
let hfDir: string
const warnings: string[] = []

async function library(appData = join(dir, 'app')): Promise<ModelLibrary> {
  return ModelLibrary.load(appData, { isOffline: () => true, warn: (m) => warnings.push(m) })
}

async function refusal(work: Promise<unknown>): Promise<LecternError> {
  const error = await work.then(() => null, (e: unknown) => e)
  expect(error).toBeInstanceOf(LecternError)
  return error as LecternError
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lectern-models-'))
  const tiny = await writeTinyGgufModel(join(dir, 'tiny'), { architecture: 'qwen2', hyperparameters: { contextLength: 4096 } }, 'Q8_0')
  gguf = tiny.ggufPath
  hfDir = tiny.hfDir
}, 60_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('ModelLibrary', () => {
  it('adds a GGUF with its facts and suggested roles, and keeps it across a reload', async () => {
    const models = await library()
    const added = await models.add(gguf)
    expect(added).toMatchObject({ status: 'ok', path: gguf, roles: ['generator', 'base'] })
    expect(added.facts).toMatchObject({ format: 'gguf', architecture: 'qwen2', quantization: 'Q8_0', contextLength: 4096, llamaCppUsable: true, trainable: true })
    expect(added.facts.chatTemplate).toContain('<|im_start|>')
    expect(added.facts.parameterCount).toBeGreaterThan(1000)
    expect(added.facts.sizeBytes).toBeGreaterThan(0)
    expect((await models.add(gguf)).id).toBe(added.id)
    const twice = await library(join(dir, 'app-twice'))
    const [a, b] = await Promise.all([twice.add(gguf), twice.add(gguf)])
    expect(a.id).toBe(b.id)
    expect(await twice.list()).toHaveLength(1)

    const again = await library()
    expect((await again.list()).map((m) => m.id)).toEqual([added.id])
    expect(await again.list({ role: 'embedder' })).toEqual([])
    expect((await again.list({ role: 'generator' })).map((m) => m.id)).toEqual([added.id])
  })

  it('adds a Hugging Face folder as a training base only', async () => {
    const models = await library(join(dir, 'app-hf'))
    const added = await models.add(hfDir)
    expect(added.facts).toMatchObject({ format: 'hf-folder', architecture: 'qwen2', llamaCppUsable: false, trainable: true, quantization: 'F32' })
    expect(added.roles).toEqual(['base'])
    const error = await refusal(models.setRoles(added.id, ['generator']))
    expect(error.message).toContain('a generator must be a GGUF file llama.cpp can load')
  })

  it('refuses bad files with the file and the reason, and adds nothing', async () => {
    const models = await library(join(dir, 'app-bad'))
    const truncated = await writeTruncatedGguf(gguf, join(dir, 'truncated.gguf'))
    const notes = await writeNotAModel(join(dir, 'notes.gguf'))
    const alien = await writeUnknownArchitectureGguf(gguf, 'qwen2', join(dir, 'alien.gguf'), 'zork9')

    const cut = await refusal(models.add(truncated))
    expect(cut.code).toBe('invalid_model_file')
    expect(cut.message).toContain(truncated)
    expect(cut.message).toMatch(/truncated/)

    const text = await refusal(models.add(notes))
    expect(text.message).toContain(notes)
    expect(text.message).toContain('not a GGUF file')

    const unknown = await refusal(models.add(alien))
    expect(unknown.code).toBe('unsupported_model')
    expect(unknown.message).toContain(alien)
    expect(unknown.message).toContain('"zork9"')

    const missing = await refusal(models.add(join(dir, 'nowhere.gguf')))
    expect(missing.code).toBe('not_found')
    expect(await models.list()).toEqual([])
  })

  it('flags a model whose file vanished or broke instead of dropping it', async () => {
    const appData = join(dir, 'app-flag')
    const copy = join(dir, 'copy.gguf')
    await writeFile(copy, await import('node:fs/promises').then((fs) => fs.readFile(gguf)))
    const models = await library(appData)
    const added = await models.add(copy)
    await rename(copy, `${copy}.moved`)
    const [gone] = await models.list()
    expect(gone).toMatchObject({ id: added.id, status: 'missing' })
    expect(gone!.problem).toContain(copy)
    expect(gone!.facts.architecture).toBe('qwen2')
    expect(await models.list({ role: 'generator' })).toEqual([])

    await writeTruncatedGguf(`${copy}.moved`, copy)
    const [broken] = await (await library(appData)).list()
    expect(broken).toMatchObject({ id: added.id, status: 'invalid' })
    expect(broken!.problem).toMatch(/truncated/)
  })

  it('sets a damaged library file aside with a warning and starts afresh', async () => {
    const appData = join(dir, 'app-damaged')
    await (await library(appData)).add(gguf)
    await writeFile(join(appData, 'models.json'), '{"models": [{"id": 3')
    warnings.length = 0
    const models = await library(appData)
    expect(await models.list()).toEqual([])
    expect(warnings.join('\n')).toMatch(/models\.json was damaged; moved to .*damaged-/)
    expect((await readdir(appData)).some((name) => name.startsWith('models.json.damaged-'))).toBe(true)
  })

  it('refuses to download while offline', async () => {
    const models = await ModelLibrary.load(join(dir, 'app-offline'), {
      isOffline: () => true,
      warn: () => undefined,
      recommended: [{ id: 'tiny', name: 'Tiny', description: '', url: 'https://example.invalid/tiny.gguf', fileName: 'tiny.gguf', sizeBytes: null, sha256: null, roles: ['generator'], license: 'x', source: 'test' }],
    })
    const error = await refusal(Promise.resolve().then(() => models.startDownload('tiny')))
    expect(error.code).toBe('offline')
    expect(error.message).toContain('Offline mode')
  })
})
