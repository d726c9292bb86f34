import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExportInfo } from '../../../src-main/shared/types/export.js'
import type { JobDetail } from '../../../src-main/shared/types/jobs.js'
import { writeTinyGgufModel } from '../../fixtures/tinyModels.js'
import { runCliProcess, startCli } from '../../support/cli.js'
import { useTempDirs } from '../../support/tempDir.js'

const tempDir = useTempDirs()
let root: string
let project: string

function exportRows(projectDir: string): { job_id: number; status: string; path: string; error: string | null }[] {
  const db = new BetterSqlite3(join(projectDir, 'project.db'), { readonly: true, fileMustExist: true })
  try {
    return db.prepare('SELECT job_id, status, path, error FROM exports ORDER BY id').all() as never
  } finally {
    db.close()
  }
}

/** One project with a finished MoRA run (a few steps on repeated text), shared by the tests. */
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lectern-export-cli-'))
  const model = await writeTinyGgufModel(join(root, 'model'), { architecture: 'llama' })
  const data = join(root, 'data.jsonl')
  await writeFile(data, Array.from({ length: 12 }, (_, i) => JSON.stringify({ text: `clause ${i} of the lease binds the tenant to repair the roof` })).join('\n'))
  project = join(root, 'project')
  await runCliProcess(['init', project])
  const trained = await runCliProcess(['train', project, '--base', model.ggufPath, '--data', data, '--method', 'mora', '--rank', '4', '--steps', '8', '--seq-len', '16', '--lr', '0.02', '--warmup-ratio', '0'])
  expect(trained.stderr).toBe('')
  expect(trained.code).toBe(0)
}, 180_000)

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

async function exportJson(args: string[]): Promise<{ code: number | null; detail: JobDetail }> {
  const result = await runCliProcess(['export', project, ...args, '--json'])
  return { code: result.code, detail: JSON.parse(result.stdout) as JobDetail }
}

describe('lectern export', () => {
  it('trained MoRA → GGUF F16 and Q8_0: verified against the adapter forward, different from the base, checksummed', async () => {
    const out = await tempDir()
    const f16 = await exportJson(['--run', 'latest', '--format', 'gguf', '--type', 'f16', '--out', join(out, 'lease-f16.gguf')])
    expect(f16.code).toBe(0)
    const f16Result = f16.detail.result as ExportInfo
    expect(f16Result.status).toBe('verified')
    expect(f16Result.verification!.distributions!.meanKl).toBeLessThanOrEqual(1e-3)
    expect(f16Result.verification!.checks.find((c) => c.name === 'differs from the base model')!.passed).toBe(true)
    expect(f16Result.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/)

    const q8 = await runCliProcess(['export', project, '--run', 'run-1', '--format', 'gguf', '--type', 'Q8_0', '--out', join(out, 'lease-q8.gguf')])
    expect(q8.code).toBe(0)
    expect(q8.stdout).toMatch(/Passed +loads in llama\.cpp/)
    expect(q8.stdout).toMatch(/Passed +differs from the base model/)
    expect((await readdir(out)).sort()).toEqual(['lease-f16.Modelfile', 'lease-f16.gguf', 'lease-q8.Modelfile', 'lease-q8.gguf'])
  }, 180_000)

  it('a corrupted merge (test hook) fails verification: the job fails, the export is marked failed, no file is kept', async () => {
    const out = await tempDir()
    process.env['LECTERN_TEST_CORRUPT_MERGE'] = 'drop'
    try {
      const result = await runCliProcess(['export', project, '--format', 'gguf', '--type', 'f16', '--out', join(out, 'broken.gguf')])
      expect(result.code).not.toBe(0)
      expect(result.stderr).toMatch(/failed verification/)
    } finally {
      delete process.env['LECTERN_TEST_CORRUPT_MERGE']
    }
    expect(await readdir(out)).toEqual([])
    const row = exportRows(project).at(-1)!
    expect(row.status).toBe('failed')
    expect(row.error).toMatch(/differs from the base model/)
  }, 180_000)

  it('killed mid-export: nothing under the final name, the export reads as interrupted, a resume finishes it and clears the leftovers', async () => {
    const out = await tempDir()
    const target = join(out, 'killed.gguf')
    const { child, done } = startCli(['export', project, '--format', 'gguf', '--type', 'f32', '--out', target])
    // Kill as soon as the temporary file exists: the export is writing or verifying it.
    for (let i = 0; i < 4000 && (await readdir(out)).length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    expect((await readdir(out)).some((name) => name.startsWith('.killed.gguf.export-'))).toBe(true)
    child.kill('SIGKILL')
    expect((await done).signal).toBe('SIGKILL')
    expect(await readdir(out)).not.toContain('killed.gguf')

    const listed = JSON.parse((await runCliProcess(['jobs', project, '--json'])).stdout) as { id: string; kind: string; state: string }[]
    const job = listed.find((j) => j.kind === 'export' && j.state !== 'succeeded' && j.state !== 'failed')!
    expect(job.state).toBe('interrupted')
    const status = await runCliProcess(['status', project])
    expect(status.stdout).toMatch(/interrupted/)

    const resumed = await runCliProcess(['resume', project, job.id])
    expect(resumed.code).toBe(0)
    expect(await readdir(out)).toEqual(['killed.Modelfile', 'killed.gguf'])
    expect(exportRows(project).find((r) => String(r.job_id) === job.id)!.status).toBe('verified')
  }, 180_000)

  it('refuses bad requests with the option named', async () => {
    const out = await tempDir()
    const noFormat = await runCliProcess(['export', project, '--out', join(out, 'x.gguf')])
    expect(noFormat.code).not.toBe(0)
    expect(noFormat.stderr).toMatch(/--format/)
    const badType = await runCliProcess(['export', project, '--format', 'safetensors', '--type', 'q4_k_m', '--out', join(out, 'hf')])
    expect(badType.stderr).toMatch(/--type: a safetensors export is f32, f16 or bf16/)
    const noRun = await runCliProcess(['export', project, '--run', 'run-99', '--format', 'adapter', '--out', join(out, 'a')])
    expect(noRun.stderr).toMatch(/no training run "run-99"/)
    expect(await readdir(out)).toEqual([])
  }, 120_000)
})
