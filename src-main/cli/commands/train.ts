import { join, resolve } from 'node:path'
import { LecternError } from '../../shared/errors.js'
import { ADAPTER_TARGET_NAMES, TRAIN_DEVICES, trainParamsSchema, type TrainParamsInput } from '../../shared/types/train.js'
import { trainRunDir, trainRunId } from '../../core/train/trainRuns.js'
import { ADAPTER_FILE, prepareTrainRun, resolveTrainSettings } from '../../core/train/trainRun.js'
import { oneOf, parseIntegerOption, parseNumberOption, print, requireDir, UsageError, withProject, type CliCommand } from '../CliContext.js'
import { runJobInForeground } from '../runJobInForeground.js'

const USAGE = [
  'lectern train <dir> --base <gguf|hf-dir> [--method mora|lora] [--rank R] [--mora-type 1|6]',
  '      [--targets q,k,v,o,gate,up,down] [--data <jsonl>] [--seq-len N] [--batch N] [--grad-accum N]',
  '      [--lr X] [--steps N | --epochs N] [--schedule cosine|linear|constant] [--warmup-ratio X]',
  '      [--dropout P] [--lora-alpha A] [--rslora] [--weight-decay X] [--max-grad-norm X] [--seed N]',
  '      [--checkpoint-every N] [--device auto|cpu|webgpu|cuda] [--threads N] [--json]',
  '   or: lectern train <dir> --resume <run> [--threads N] [--json]',
].join('\n')

function parseTargets(value: string | boolean | undefined): TrainParamsInput['targets'] {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new UsageError('--targets needs a list such as q,v')
  const targets = value.split(',').map((t) => t.trim()).filter(Boolean)
  const unknown = targets.filter((t) => !(ADAPTER_TARGET_NAMES as readonly string[]).includes(t))
  if (unknown.length > 0) throw new UsageError(`unknown target ${unknown.join(', ')}; targets are ${ADAPTER_TARGET_NAMES.join(', ')}`)
  if (targets.length === 0) throw new UsageError('--targets needs at least one of ' + ADAPTER_TARGET_NAMES.join(', '))
  return targets as TrainParamsInput['targets']
}


/** The run's settings from the command line, checked by the same schema the job system uses. */
function trainParamsFromOptions(values: Record<string, string | boolean | undefined>) {
  if (values['steps'] !== undefined && values['epochs'] !== undefined) throw new UsageError('give --steps or --epochs, not both')
  const base = values['base']
  if (typeof base !== 'string' || base === '') throw new UsageError(`--base <gguf|hf-dir> is required\nusage: ${USAGE}`)
  const moraType = oneOf(values['mora-type'], 'mora-type', ['1', '6'])
  const data = values['data']
  const input: TrainParamsInput = {
    base: resolve(base),
    data: typeof data === 'string' ? resolve(data) : null,
    method: oneOf(values['method'], 'method', ['mora', 'lora']),
    rank: parseIntegerOption(values['rank'], 'rank', 1, 65536),
    moraType: moraType === undefined ? null : (Number(moraType) as 1 | 6),
    targets: parseTargets(values['targets']),
    loraAlpha: parseNumberOption(values['lora-alpha'], 'lora-alpha') ?? null,
    rsLora: values['rslora'] === true,
    dropout: parseNumberOption(values['dropout'], 'dropout'),
    seqLen: parseIntegerOption(values['seq-len'], 'seq-len', 8, 32768),
    batch: parseIntegerOption(values['batch'], 'batch', 1, 1024),
    gradAccum: parseIntegerOption(values['grad-accum'], 'grad-accum', 1, 4096),
    lr: parseNumberOption(values['lr'], 'lr') ?? null,
    steps: parseIntegerOption(values['steps'], 'steps', 1, 10_000_000) ?? null,
    epochs: parseNumberOption(values['epochs'], 'epochs'),
    schedule: oneOf(values['schedule'], 'schedule', ['cosine', 'linear', 'constant']),
    warmupRatio: parseNumberOption(values['warmup-ratio'], 'warmup-ratio'),
    weightDecay: parseNumberOption(values['weight-decay'], 'weight-decay'),
    maxGradNorm: parseNumberOption(values['max-grad-norm'], 'max-grad-norm'),
    seed: parseIntegerOption(values['seed'], 'seed', 0, 2 ** 31 - 1),
    checkpointEvery: parseIntegerOption(values['checkpoint-every'], 'checkpoint-every', 1, 10_000_000),
    device: oneOf(values['device'], 'device', TRAIN_DEVICES),
    threads: parseIntegerOption(values['threads'], 'threads', 1, 512) ?? null,
  }
  const parsed = trainParamsSchema.safeParse(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new UsageError(`--${issue.path.join('.').replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: ${issue.message}`)
  }
  return parsed.data
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Train MoRA or LoRA adapters on a base model with the project dataset or a JSONL file',
  usage: USAGE,
  options: {
    base: { type: 'string' },
    method: { type: 'string' },
    rank: { type: 'string' },
    'mora-type': { type: 'string' },
    targets: { type: 'string' },
    data: { type: 'string' },
    'seq-len': { type: 'string' },
    batch: { type: 'string' },
    'grad-accum': { type: 'string' },
    lr: { type: 'string' },
    steps: { type: 'string' },
    epochs: { type: 'string' },
    schedule: { type: 'string' },
    'warmup-ratio': { type: 'string' },
    dropout: { type: 'string' },
    'lora-alpha': { type: 'string' },
    rslora: { type: 'boolean' },
    'weight-decay': { type: 'string' },
    'max-grad-norm': { type: 'string' },
    seed: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    device: { type: 'string' },
    threads: { type: 'string' },
    resume: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const json = values['json'] === true
    const threads = parseIntegerOption(values['threads'], 'threads', 1, 512)
    const announce = { announce: (job: { id: string }) => ({ runId: trainRunId(job.id), jobId: job.id }) }
    const resumeRun = values['resume']
    if (typeof resumeRun === 'string') {
      const jobId = resumeRun.replace(/^run-/, '')
      return withProject(dir, (project) => {
        const job = project.jobs.get(jobId)
        if (job.kind !== 'train') throw new LecternError('invalid_argument', `${resumeRun} is not a training run (job ${jobId} is a ${job.kind} job)`)
        return runJobInForeground(project, context, { json, threads, jsonLines: announce }, (queue) => queue.resume(jobId))
      })
    }
    const params = trainParamsFromOptions(values)
    return withProject(dir, async (project) => {
      // Refuse bad settings (rank, targets, data, memory) here, before a job or any file exists.
      const prepared = await prepareTrainRun(resolveTrainSettings(params, project.dir), {
        log: (message) => {
          if (!json) print(context, message)
        },
      })
      await prepared.opened.close()
      let jobId = ''
      const code = await runJobInForeground(project, context, { json, threads, jsonLines: announce }, (queue) => {
        const job = queue.enqueue({ kind: 'train', params })
        jobId = job.id
        if (!json) print(context, `Run ${trainRunId(job.id)} in ${trainRunDir(project.dir, job.id)}`)
        return job
      })
      if (!json && code === 0) print(context, `Adapter: ${join(trainRunDir(project.dir, jobId), ADAPTER_FILE)}`)
      return code
    })
  },
}
