import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildDataset, type BuildDatasetInput } from '../../../../src-main/core/dataset/buildDataset.js'
import { BUNDLE_FILES, writeClusterBundle, type ClusterLauncher } from '../../../../src-main/core/export/clusterBundle.js'
import { writeAdapterFile } from '../../../../src-main/core/train/adapterFile.js'
import { planAdapters, type AdapterConfig } from '../../../../src-main/core/train/adapters.js'
import type { NamedTensor } from '../../../../src-main/core/train/tensorFiles.js'
import { resolveTrainSettings } from '../../../../src-main/core/train/trainRun.js'
import { trainParamsSchema, type TrainParamsInput } from '../../../../src-main/shared/types/train.js'
import { tinyHyperparameters } from '../../../fixtures/tinyWeights.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()
const h = tinyHyperparameters('llama', 32)
const BASE = 'example-org/tiny-llama'

const words = (text: string): string[] => text.split(/\s+/).filter((w) => w !== '')
function datasetInput(): BuildDatasetInput {
  const filler = (n: number): string => Array.from({ length: n }, (_, i) => `w${i % 7}`).join(' ')
  const documents = Array.from({ length: 30 }, (_, i) => {
    const text = `DOC${i + 1} ${filler(10 + i)}`
    return { id: i + 1, text, tokenCount: words(text).length, rcText: `Read: ${text} Question: why? Answer: because.` }
  })
  const qaPairs = new Map(documents.map((d) => [d.id, d.id % 2 === 0 ? [{ question: `Q${d.id}?`, answer: `A${d.id}.` }] : []]))
  return {
    documents,
    clusters: [[1, 2, 3], [4, 5, 6]],
    qaPairs,
    mode: 'both',
    instructions: [
      { kind: 'chat', messages: [{ role: 'user', content: 'hello there' }, { role: 'assistant', content: 'hi back' }], source: { file: 'mix.jsonl', line: 1 } },
      { kind: 'text', text: `plain ${filler(12)}`, source: { file: 'mix.jsonl', line: 2 } },
    ],
    ratio: '1:1',
    heldOutFraction: 0.1,
    seqLen: 64,
    seed: 3,
    countTokens: (text) => words(text).length,
    splitText: (text, max) => {
      const all = words(text)
      const pieces: string[] = []
      for (let i = 0; i < all.length; i += max) pieces.push(all.slice(i, i + max).join(' '))
      return pieces
    },
    eosText: '</s>',
  }
}

const RUN_SETTINGS: Record<'mora' | 'lora', TrainParamsInput> = {
  lora: { base: '/models/tiny.gguf', method: 'lora', rank: 4, loraAlpha: 12, targets: ['q', 'v', 'down'], dropout: 0.1, seqLen: 64, batch: 3, gradAccum: 5, lr: 1.5e-4, epochs: 2, schedule: 'linear', warmupRatio: 0.06, weightDecay: 0.01, maxGradNorm: 0.7, seed: 11 },
  mora: { base: '/models/tiny.gguf', method: 'mora', rank: 4, moraType: 6, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], seqLen: 64, batch: 2, gradAccum: 4, lr: 3e-5, steps: 40, schedule: 'constant', warmupRatio: 0.03, seed: 7 },
}

/** A project with a built dataset and one run of `method` (config.json as runTraining writes it, and an adapter). */
async function project(method: 'mora' | 'lora'): Promise<{ projectDir: string; runDir: string }> {
  const projectDir = await tempDir()
  await buildDataset(datasetInput(), join(projectDir, 'artifacts', 'dataset'))
  const runDir = join(projectDir, 'runs', `run-${method}`)
  await mkdir(runDir, { recursive: true })
  const settings = resolveTrainSettings(trainParamsSchema.parse(RUN_SETTINGS[method]), projectDir)
  await writeFile(join(runDir, 'config.json'), JSON.stringify({ settings, totalSteps: 40, trainableParameters: 1, sites: 1, dataFingerprint: 'x' }, null, 1))
  const config: AdapterConfig = { method: settings.method, rank: settings.rank, moraType: settings.moraType, targets: settings.targets, loraAlpha: settings.loraAlpha, rsLora: settings.rsLora, dropout: settings.dropout }
  const params = new Map<string, NamedTensor>()
  for (const site of planAdapters(h, config).sites) {
    for (const p of site.params) params.set(p.name, { shape: p.shape, data: Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, (_, i) => ((i % 13) - 6) / 100) })
  }
  await writeAdapterFile(join(runDir, 'adapter.safetensors'), config, params)
  return { projectDir, runDir }
}

/** `key: value` of a top-level (or indented) YAML line, as a string. */
function yamlValue(text: string, key: string): string | undefined {
  const line = text.split('\n').find((l) => new RegExp(`^\\s*(- )?${key}: `).test(l))
  return line?.replace(new RegExp(`^\\s*(- )?${key}: `), '')
}

/** The structural checks a YAML parser would make on the subset we write: no tabs, two-space nesting, key lines. */
function checkYamlShape(text: string): void {
  expect(text).not.toContain('\t')
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue
    expect((line.length - line.trimStart().length) % 2).toBe(0)
    expect(line).toMatch(/^\s*(- )?("[^"]*"|[A-Za-z0-9_]+)(: .*|:)?$/)
  }
}

const filesUnder = async (dir: string, prefix = ''): Promise<string[]> => {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...(await filesUnder(join(dir, entry.name), `${prefix}${entry.name}/`)))
    else out.push(`${prefix}${entry.name}`)
  }
  return out.sort()
}

describe('writeClusterBundle', () => {
  const launchers: ClusterLauncher[] = ['accelerate-deepspeed', 'accelerate-fsdp', 'axolotl', 'llamafactory']
  const expected: Record<ClusterLauncher, string[]> = {
    'accelerate-deepspeed': [BUNDLE_FILES.accelerate, BUNDLE_FILES.deepspeed, BUNDLE_FILES.trainScript, BUNDLE_FILES.trainSettings],
    'accelerate-fsdp': [BUNDLE_FILES.accelerate, BUNDLE_FILES.trainScript, BUNDLE_FILES.trainSettings],
    axolotl: [BUNDLE_FILES.axolotl, BUNDLE_FILES.deepspeed],
    llamafactory: [BUNDLE_FILES.llamafactory, BUNDLE_FILES.datasetInfo, BUNDLE_FILES.deepspeed],
  }

  for (const launcher of launchers) {
    it(`writes a complete LoRA bundle for ${launcher}`, async () => {
      const { projectDir, runDir } = await project('lora')
      const outDir = join(projectDir, 'exports', 'cluster')
      const result = await writeClusterBundle({ projectDir, runDir, baseModelName: BASE, outDir, launcher, zeroStage: 3, nodes: 2, gpusPerNode: 4 })

      const common = [BUNDLE_FILES.train, BUNDLE_FILES.heldOut, BUNDLE_FILES.peftConfig, BUNDLE_FILES.readme, 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors']
      expect(await filesUnder(outDir)).toEqual([...common, ...expected[launcher]].sort())
      expect(result.files).toEqual([...common, ...expected[launcher]].sort())
      // Nothing but the bundle is left next to it: the temporary folder was renamed away.
      expect(await readdir(join(projectDir, 'exports'))).toEqual(['cluster'])

      const train = (await readFile(join(outDir, BUNDLE_FILES.train), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(train.length).toBe(result.trainLines)
      expect(train.every((l) => typeof l['text'] === 'string' && Object.keys(l).length === 1)).toBe(true)
      const heldOut = (await readFile(join(outDir, BUNDLE_FILES.heldOut), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(heldOut.length).toBeGreaterThan(0)
      expect(heldOut.every((l) => typeof l['text'] === 'string')).toBe(true)

      const peft = JSON.parse(await readFile(join(outDir, BUNDLE_FILES.peftConfig), 'utf8')) as Record<string, unknown>
      expect(peft).toMatchObject({ r: 4, lora_alpha: 12, lora_dropout: 0.1, target_modules: ['q_proj', 'v_proj', 'down_proj'], base_model_name_or_path: BASE, inference_mode: false })
      expect(peft['use_mora']).toBeUndefined()
      const adapterConfig = JSON.parse(await readFile(join(outDir, 'adapter', 'adapter_config.json'), 'utf8')) as Record<string, unknown>
      expect(adapterConfig).toMatchObject({ r: 4, lora_alpha: 12, lora_dropout: 0.1 })

      if (expected[launcher].includes(BUNDLE_FILES.deepspeed)) {
        const ds = JSON.parse(await readFile(join(outDir, BUNDLE_FILES.deepspeed), 'utf8')) as { zero_optimization: Record<string, unknown>; train_micro_batch_size_per_gpu: unknown }
        expect(ds.zero_optimization['stage']).toBe(3)
        expect(ds.zero_optimization['stage3_gather_16bit_weights_on_model_save']).toBe(true)
        expect(ds.train_micro_batch_size_per_gpu).toBe('auto')
      }

      const readme = await readFile(join(outDir, BUNDLE_FILES.readme), 'utf8')
      for (const file of result.files) expect(readme).toContain(`\`${file}\``)
      for (const command of result.commands) expect(readme).toContain(command)

      if (launcher === 'axolotl') {
        const yaml = await readFile(join(outDir, BUNDLE_FILES.axolotl), 'utf8')
        checkYamlShape(yaml)
        expect(yamlValue(yaml, 'base_model')).toBe(JSON.stringify(BASE))
        expect(yamlValue(yaml, 'path')).toBe('"data/train.jsonl"')
        expect(yamlValue(yaml, 'type')).toBe('"completion"')
        expect(yamlValue(yaml, 'field')).toBe('"text"')
        expect(yamlValue(yaml, 'lora_model_dir')).toBe('"adapter"')
        expect(yamlValue(yaml, 'lora_r')).toBe('4')
        expect(yamlValue(yaml, 'lora_alpha')).toBe('12')
        expect(yamlValue(yaml, 'lora_dropout')).toBe('0.1')
        expect(yaml).toMatch(/lora_target_modules:\n {2}- "q_proj"\n {2}- "v_proj"\n {2}- "down_proj"\n/)
        expect(yamlValue(yaml, 'sequence_len')).toBe('64')
        expect(yamlValue(yaml, 'micro_batch_size')).toBe('3')
        expect(yamlValue(yaml, 'gradient_accumulation_steps')).toBe('5')
        expect(yamlValue(yaml, 'num_epochs')).toBe('2')
        expect(Number(yamlValue(yaml, 'learning_rate'))).toBe(1.5e-4)
        expect(yamlValue(yaml, 'lr_scheduler')).toBe('"linear"')
        expect(yamlValue(yaml, 'warmup_ratio')).toBe('0.06')
        expect(yamlValue(yaml, 'weight_decay')).toBe('0.01')
        expect(yamlValue(yaml, 'max_grad_norm')).toBe('0.7')
        expect(yamlValue(yaml, 'seed')).toBe('11')
        expect(yamlValue(yaml, 'bf16')).toBe('true')
        expect(yamlValue(yaml, 'gradient_checkpointing')).toBe('true')
        expect(yamlValue(yaml, 'deepspeed')).toBe('"deepspeed.json"')
        expect(yamlValue(yaml, 'output_dir')).toBe('"outputs/axolotl"')
        expect(readme).toContain('--machine_rank $NODE_RANK --main_process_ip $MASTER_ADDR --main_process_port 29500 -m axolotl.cli.train axolotl.yaml')
      }
      if (launcher === 'llamafactory') {
        const yaml = await readFile(join(outDir, BUNDLE_FILES.llamafactory), 'utf8')
        checkYamlShape(yaml)
        expect(yamlValue(yaml, 'model_name_or_path')).toBe(JSON.stringify(BASE))
        expect(yamlValue(yaml, 'stage')).toBe('"pt"')
        expect(yamlValue(yaml, 'finetuning_type')).toBe('"lora"')
        expect(yamlValue(yaml, 'adapter_name_or_path')).toBe('"adapter"')
        expect(yamlValue(yaml, 'lora_rank')).toBe('4')
        expect(yamlValue(yaml, 'lora_alpha')).toBe('12')
        expect(yamlValue(yaml, 'lora_dropout')).toBe('0.1')
        expect(yamlValue(yaml, 'lora_target')).toBe('"q_proj,v_proj,down_proj"')
        expect(yamlValue(yaml, 'dataset')).toBe('"lectern_train"')
        expect(yamlValue(yaml, 'dataset_dir')).toBe('"data"')
        expect(yamlValue(yaml, 'cutoff_len')).toBe('64')
        expect(yamlValue(yaml, 'per_device_train_batch_size')).toBe('3')
        expect(yamlValue(yaml, 'gradient_accumulation_steps')).toBe('5')
        expect(yamlValue(yaml, 'num_train_epochs')).toBe('2')
        expect(Number(yamlValue(yaml, 'learning_rate'))).toBe(1.5e-4)
        expect(yamlValue(yaml, 'lr_scheduler_type')).toBe('"linear"')
        expect(yamlValue(yaml, 'warmup_ratio')).toBe('0.06')
        expect(yamlValue(yaml, 'bf16')).toBe('true')
        expect(yamlValue(yaml, 'disable_gradient_checkpointing')).toBe('false')
        expect(yamlValue(yaml, 'output_dir')).toBe('"outputs/llamafactory"')
        const info = JSON.parse(await readFile(join(outDir, BUNDLE_FILES.datasetInfo), 'utf8')) as Record<string, unknown>
        expect(info).toEqual({ lectern_train: { file_name: 'train.jsonl', columns: { prompt: 'text' } } })
        expect(readme).toContain('llamafactory-cli train llamafactory.yaml')
      }
      if (launcher.startsWith('accelerate')) {
        const yaml = await readFile(join(outDir, BUNDLE_FILES.accelerate), 'utf8')
        checkYamlShape(yaml)
        expect(yamlValue(yaml, 'num_machines')).toBe('2')
        expect(yamlValue(yaml, 'num_processes')).toBe('8')
        if (launcher === 'accelerate-deepspeed') {
          expect(yamlValue(yaml, 'distributed_type')).toBe('"DEEPSPEED"')
          expect(yamlValue(yaml, 'deepspeed_config_file')).toBe('"deepspeed.json"')
          expect(yamlValue(yaml, 'zero3_init_flag')).toBe('true')
        } else {
          expect(yamlValue(yaml, 'distributed_type')).toBe('"FSDP"')
          expect(yamlValue(yaml, 'fsdp_sharding_strategy')).toBe('"FULL_SHARD"')
          expect(yamlValue(yaml, 'fsdp_use_orig_params')).toBe('true')
        }
        const settings = JSON.parse(await readFile(join(outDir, BUNDLE_FILES.trainSettings), 'utf8')) as Record<string, unknown>
        expect(settings).toMatchObject({
          base_model: BASE, method: 'lora', adapter_dir: 'adapter', train_file: 'data/train.jsonl', heldout_file: 'data/heldout.jsonl', max_length: 64,
          per_device_train_batch_size: 3, gradient_accumulation_steps: 5, num_train_epochs: 2, max_steps: -1, learning_rate: 1.5e-4,
          lr_scheduler_type: 'linear', warmup_ratio: 0.06, weight_decay: 0.01, max_grad_norm: 0.7, seed: 11,
        })
        const script = await readFile(join(outDir, BUNDLE_FILES.trainScript), 'utf8')
        expect(script).toContain('PeftModel.from_pretrained')
        expect(script).toContain('train_settings.json')
        expect(readme).toContain('accelerate launch --config_file accelerate_config.yaml --machine_rank $NODE_RANK')
      }
    })
  }

  it('bundles a MoRA run for accelerate with the fork named, and refuses MoRA for axolotl and LLaMA-Factory', async () => {
    const { projectDir, runDir } = await project('mora')
    for (const launcher of ['axolotl', 'llamafactory'] as const) {
      const outDir = join(projectDir, `bundle-${launcher}`)
      await expect(writeClusterBundle({ projectDir, runDir, baseModelName: BASE, outDir, launcher })).rejects.toThrow(/does not support MoRA.*accelerate/)
      expect((await readdir(projectDir)).filter((name) => name.includes('bundle'))).toEqual([])
    }

    const outDir = join(projectDir, 'bundle')
    const result = await writeClusterBundle({ projectDir, runDir, baseModelName: BASE, outDir, launcher: 'accelerate-deepspeed' })
    expect(result.files).not.toContain(BUNDLE_FILES.axolotl)
    expect(result.files).not.toContain(BUNDLE_FILES.llamafactory)
    const peft = JSON.parse(await readFile(join(outDir, BUNDLE_FILES.peftConfig), 'utf8')) as Record<string, unknown>
    expect(peft).toMatchObject({ use_mora: true, mora_type: 6, r: 4, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] })
    const settings = JSON.parse(await readFile(join(outDir, BUNDLE_FILES.trainSettings), 'utf8')) as Record<string, unknown>
    expect(settings).toMatchObject({ method: 'mora', max_steps: 40, learning_rate: 3e-5, lr_scheduler_type: 'constant_with_warmup', per_device_train_batch_size: 2, gradient_accumulation_steps: 4, seed: 7 })
    const ds = JSON.parse(await readFile(join(outDir, BUNDLE_FILES.deepspeed), 'utf8')) as { zero_optimization: { stage: number } }
    expect(ds.zero_optimization.stage).toBe(2)
    const readme = await readFile(join(outDir, BUNDLE_FILES.readme), 'utf8')
    expect(readme).toContain('pip install -e MoRA/peft-mora')
    expect(readme).toContain('git clone https://github.com/kongds/MoRA.git')
    expect(readme).toMatch(/axolotl and LLaMA-Factory do not support MoRA/)
    expect(readme).toContain('accelerate launch --config_file accelerate_config.yaml train.py --settings train_settings.json')
    const script = await readFile(join(outDir, BUNDLE_FILES.trainScript), 'utf8')
    expect(script).toContain('use_mora')
    expect(script).toContain('mora_type')
  })

  it('starts a fresh adapter without a run, with the chat export for accelerate only', async () => {
    const { projectDir } = await project('lora')
    const outDir = join(projectDir, 'fresh')
    await expect(writeClusterBundle({ projectDir, runDir: null, baseModelName: BASE, outDir, launcher: 'axolotl', format: 'chat', settings: { method: 'lora' } })).rejects.toThrow(/chat export/)
    const result = await writeClusterBundle({ projectDir, runDir: null, baseModelName: BASE, outDir, launcher: 'accelerate-fsdp', format: 'chat', settings: { method: 'lora', rank: 16 } })
    expect(result.files.some((f) => f.startsWith('adapter/'))).toBe(false)
    expect(result.hyperparameters).toMatchObject({ rank: 16, loraAlpha: 32, learningRate: 2e-4, scheduler: 'cosine' })
    const settings = JSON.parse(await readFile(join(outDir, BUNDLE_FILES.trainSettings), 'utf8')) as Record<string, unknown>
    expect(settings['adapter_dir']).toBeNull()
    const lines = (await readFile(join(outDir, BUNDLE_FILES.train), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.some((l) => Array.isArray(l['messages']))).toBe(true)
  })

  it('refuses an existing bundle folder and a run without an adapter, leaving no temporary folder', async () => {
    const { projectDir, runDir } = await project('lora')
    const outDir = join(projectDir, 'taken')
    await mkdir(outDir)
    await writeFile(join(outDir, 'keep.txt'), 'x')
    await expect(writeClusterBundle({ projectDir, runDir, baseModelName: BASE, outDir, launcher: 'axolotl' })).rejects.toThrow(/already exists/)
    const emptyRun = join(projectDir, 'runs', 'empty')
    await mkdir(emptyRun)
    await writeFile(join(emptyRun, 'config.json'), await readFile(join(runDir, 'config.json'), 'utf8'))
    await expect(writeClusterBundle({ projectDir, runDir: emptyRun, baseModelName: BASE, outDir: join(projectDir, 'b2'), launcher: 'axolotl' })).rejects.toThrow(/no trained adapter/)
    expect((await readdir(projectDir)).filter((name) => name.includes('partial') || name === 'b2')).toEqual([])
  })
})
