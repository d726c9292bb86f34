import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { JobDetail, JobSummary } from '../../../src-main/shared/types/jobs.js'
import type { TrainStepMetrics } from '../../../src-main/shared/types/train.js'
import { writeTinyGgufModel } from '../../fixtures/tinyModels.js'
import { runCliProcess, startCli } from '../../support/cli.js'
import { useTempDirs } from '../../support/tempDir.js'

const tempDir = useTempDirs()

async function trainingFixture(): Promise<{ dir: string; base: string; data: string }> {
  const dir = await tempDir()
  const model = await writeTinyGgufModel(dir, { architecture: 'qwen2' })
  const data = join(dir, 'data.jsonl')
  await writeFile(data, Array.from({ length: 20 }, (_, i) => JSON.stringify({ prompt: `key ${i} ->`, response: ` the value of ${i * 13} is what we have` })).join('\n'))
  return { dir, base: model.ggufPath, data }
}

const stepLines = (stdout: string): TrainStepMetrics[] =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record): record is TrainStepMetrics & Record<string, unknown> => typeof record['step'] === 'number' && typeof record['loss'] === 'number')

describe('lectern train (built CLI)', () => {
  it('prints JSON lines (run id, then one line per step) and writes the run into the project', async () => {
    const { dir, base, data } = await trainingFixture()
    const project = join(dir, 'project')
    await runCliProcess(['init', project])
    const result = await runCliProcess(['train', project, '--base', base, '--data', data, '--method', 'lora', '--rank', '4', '--steps', '6', '--seq-len', '16', '--json'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines[0]).toEqual({ runId: 'run-1', jobId: '1' })
    const steps = stepLines(result.stdout)
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6])
    for (const s of steps) {
      expect(s.loss).toBeGreaterThan(0)
      expect(s.lr).toBeGreaterThanOrEqual(0)
      expect(s.tokensPerSecond).toBeGreaterThan(0)
    }
    expect(lines.at(-1)).toMatchObject({ id: '1', kind: 'train', state: 'succeeded' })
    const runDir = join(project, 'runs', 'run-1')
    const metrics = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as TrainStepMetrics)
    expect(metrics.map((m) => m.loss)).toEqual(steps.map((s) => s.loss))
    expect(JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8'))).toMatchObject({ settings: { method: 'lora', rank: 4 }, totalSteps: 6 })
    await expect(readFile(join(runDir, 'adapter.safetensors'))).resolves.toBeInstanceOf(Buffer)
  })

  it('refuses bad settings with a clear message before creating a job', async () => {
    const { dir, base, data } = await trainingFixture()
    const project = join(dir, 'project')
    await runCliProcess(['init', project])
    const unknownTarget = await runCliProcess(['train', project, '--base', base, '--data', data, '--targets', 'q,attn'])
    expect(unknownTarget.code).toBe(2)
    expect(unknownTarget.stderr).toMatch(/unknown target attn; targets are q, k, v, o, gate, up, down/)
    const tooLarge = await runCliProcess(['train', project, '--base', base, '--data', data, '--rank', '500'])
    expect(tooLarge.code).toBe(1)
    expect(tooLarge.stderr).toMatch(/too large for this model.*largest rank these targets allow is \d+/)
    const empty = join(dir, 'empty.jsonl')
    await writeFile(empty, '')
    const noData = await runCliProcess(['train', project, '--base', base, '--data', empty])
    expect(noData.code).toBe(1)
    expect(noData.stderr).toContain('empty.jsonl')
    const jobs = JSON.parse((await runCliProcess(['jobs', project, '--json'])).stdout) as JobSummary[]
    expect(jobs).toEqual([])
  })

  it('a run killed mid-way (SIGKILL) and resumed reproduces the uninterrupted losses exactly', async () => {
    const { dir, base, data } = await trainingFixture()
    const args = ['--base', base, '--data', data, '--rank', '4', '--mora-type', '1', '--steps', '400', '--seq-len', '16', '--batch', '2', '--checkpoint-every', '10', '--json', '--threads', '1']
    const straightProject = join(dir, 'straight')
    await runCliProcess(['init', straightProject])
    const straight = stepLines((await runCliProcess(['train', straightProject, ...args])).stdout)
    expect(straight).toHaveLength(400)

    const project = join(dir, 'killed')
    await runCliProcess(['init', project])
    const { child, done } = startCli(['train', project, ...args])
    let seen = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      if (/"step":2[5-9],/.test(seen)) child.kill('SIGKILL')
    })
    const killed = await done
    expect(killed.signal).toBe('SIGKILL')
    const beforeKill = stepLines(killed.stdout.split('\n').slice(0, -1).join('\n'))
    expect(beforeKill.length).toBeGreaterThanOrEqual(25)
    expect(beforeKill.length).toBeLessThan(400)

    const resumed = await runCliProcess(['train', project, '--resume', 'run-1', '--json'])
    expect(resumed.code).toBe(0)
    const after = stepLines(resumed.stdout)
    const resumedAt = after[0]!.step - 1
    expect(resumedAt % 10).toBe(0)
    expect(resumedAt).toBeGreaterThanOrEqual(20)
    expect(after.at(-1)!.step).toBe(400)
    expect(after.map((s) => s.loss)).toEqual(straight.slice(resumedAt).map((s) => s.loss))
    const detail = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!) as JobDetail
    expect(detail).toMatchObject({ state: 'succeeded', attempts: 2 })
    const metrics = (await readFile(join(project, 'runs', 'run-1', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as TrainStepMetrics)
    expect(metrics.map((m) => m.loss)).toEqual(straight.map((s) => s.loss))
  }, 180_000) // three CLI runs of 400 steps, each probing the execution providers: about 50 s alone, more on a busy machine
})
