import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { exportRun, type ExportRunHooks } from '../../../../src-main/core/export/exportRun.js'
import { openModel } from '../../../../src-main/core/modelFiles/openModel.js'
import { resolveTrainSettings, runTraining } from '../../../../src-main/core/train/trainRun.js'
import type { FinishedTrainRun } from '../../../../src-main/core/train/trainRuns.js'
import { exportParamsSchema, type ExportParamsInput } from '../../../../src-main/shared/types/export.js'
import { trainParamsSchema } from '../../../../src-main/shared/types/train.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

const hooks = (): ExportRunHooks & { logs: string[] } => {
  const logs: string[] = []
  return { signal: new AbortController().signal, threads: 1, log: (m) => logs.push(m), progress: () => {}, logs }
}

let projectDir: string
let run: FinishedTrainRun

/** A few MoRA steps on repeated text: enough to move the model well past F16's rounding. */
beforeAll(async () => {
  projectDir = await mkdtemp(join(tmpdir(), 'lectern-export-'))
  const model = await writeTinyGgufModel(projectDir, { architecture: 'llama' })
  const data = join(projectDir, 'data.jsonl')
  await writeFile(data, Array.from({ length: 12 }, (_, i) => JSON.stringify({ text: `the ledger ${i} records what the court decided and why it was so` })).join('\n'))
  const settings = resolveTrainSettings(trainParamsSchema.parse({ base: model.ggufPath, data, steps: 8, seqLen: 16, lr: 0.02, warmupRatio: 0, method: 'mora', moraType: 6, rank: 4 }), projectDir)
  const runDir = join(projectDir, 'runs', 'run-1')
  const result = await runTraining(projectDir, runDir, settings, null, { signal: new AbortController().signal, threads: 1, log: () => {}, progress: () => {}, onStep: () => {}, onCheckpoint: () => {} })
  run = { runId: 'run-1', jobId: '1', runDir, adapterFile: result.adapterFile, settings }
}, 120_000)

afterAll(async () => {
  await rm(projectDir, { recursive: true, force: true })
})

afterEach(() => {
  delete process.env['LECTERN_TEST_CORRUPT_MERGE']
})

const params = (input: Omit<ExportParamsInput, 'run'>) => exportParamsSchema.parse({ run: 'run-1', ...input })

describe('exportRun', () => {
  it.each(['f16', 'q8_0', 'bf16', 'q4_k_m'] as const)('GGUF %s: reloaded in llama.cpp, matches the adapter forward, differs from the base', async (type) => {
    const out = join(await tempDir(), `model-${type}.gguf`)
    const h = hooks()
    const outcome = await exportRun(projectDir, run, params({ format: 'gguf', type, out, verifyTokens: 64 }), h)
    const d = outcome.verification.distributions!
    console.log(`${type}: mean KL ${d.meanKl.toExponential(2)} (max ${d.maxKl.toExponential(2)}), top-1 ${d.top1Agreement}, to base ${d.meanKlToBase.toExponential(2)}, adapter effect ${d.adapterEffect.toExponential(2)}`)
    expect(outcome.verification.checks.filter((c) => !c.passed)).toEqual([])
    expect(outcome.verification.passed).toBe(true)
    if (type === 'f16') expect(d.meanKl).toBeLessThanOrEqual(1e-3)
    expect(d.meanKl).toBeLessThan(d.meanKlToBase)
    expect(d.adapterEffect).toBeGreaterThan(1e-3)
    expect(outcome.files.map((f) => f.name)).toEqual([`model-${type}.gguf`, `model-${type}.Modelfile`])
    const opened = await openModel(out)
    expect(opened.source.general.get('general.base_model.count')?.value).toBe(1)
    expect(String(opened.source.general.get('general.name')?.value)).toMatch(/Lectern MoRA r4/)
    await opened.close()
    expect(await readFile(join(out, '..', `model-${type}.Modelfile`), 'utf8')).toMatch(/^FROM \.\/model-/m)
  }, 120_000)

  it('a merge that drops the adapter is caught: the export fails and nothing is left under the name', async () => {
    process.env['LECTERN_TEST_CORRUPT_MERGE'] = 'drop'
    const dir = await tempDir()
    const outcome = await exportRun(projectDir, run, params({ format: 'gguf', type: 'f16', out: join(dir, 'broken.gguf'), verifyTokens: 64 }), hooks())
    expect(outcome.verification.passed).toBe(false)
    const failed = outcome.verification.checks.filter((c) => !c.passed).map((c) => c.name)
    expect(failed).toEqual(['matches the trained adapter', 'differs from the base model'])
    expect(await readdir(dir)).toEqual([])
  }, 120_000)

  it('safetensors: tensors re-read equal the merged weights; the dropped merge fails', async () => {
    const dir = await tempDir()
    const ok = await exportRun(projectDir, run, params({ format: 'safetensors', type: 'f32', out: join(dir, 'hf') }), hooks())
    expect(ok.verification.passed).toBe(true)
    expect(ok.verification.tensors!.maxAbsDiff).toBe(0)
    expect(ok.verification.tensors!.changedFromBase).toBeGreaterThan(0)
    expect(ok.files.map((f) => f.name)).toContain('config.json')
    process.env['LECTERN_TEST_CORRUPT_MERGE'] = 'drop'
    const bad = await exportRun(projectDir, run, params({ format: 'safetensors', type: 'bf16', out: join(dir, 'hf-bad') }), hooks())
    expect(bad.verification.passed).toBe(false)
    expect(await readdir(dir)).toEqual(['hf'])
  }, 120_000)

  it('adapter, ollama and bundle formats', async () => {
    const dir = await tempDir()
    const adapter = await exportRun(projectDir, run, params({ format: 'adapter', out: join(dir, 'adapter') }), hooks())
    expect(adapter.verification.passed).toBe(true)
    expect(adapter.files.map((f) => f.name)).toEqual(['adapter_config.json', 'adapter_model.safetensors'])
    expect(JSON.parse(await readFile(join(dir, 'adapter', 'adapter_config.json'), 'utf8'))).toMatchObject({ use_mora: true, mora_type: 6 })
    const ollama = await exportRun(projectDir, run, params({ format: 'ollama', type: 'q8_0', out: join(dir, 'ollama'), verifyTokens: 32 }), hooks())
    expect(ollama.verification.passed).toBe(true)
    expect((await readdir(join(dir, 'ollama'))).sort()).toEqual(['Modelfile', 'model.gguf'])
    expect(await readFile(join(dir, 'ollama', 'Modelfile'), 'utf8')).toMatch(/^FROM \.\/model\.gguf$/m)
    await expect(exportRun(projectDir, run, params({ format: 'gguf', out: join(dir, 'adapter') }), hooks())).rejects.toThrow(/ending in \.gguf/)
    await expect(exportRun(projectDir, run, params({ format: 'adapter', out: join(dir, 'adapter') }), hooks())).rejects.toThrow(/already exists/)
  }, 120_000)
})
