import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkExportFreeSpace, exportHfFolder, type HfExportDtype } from '../../../../src-main/core/export/hfFolderExport.js'
import { FileByteSource } from '../../../../src-main/core/io/fileBytes.js'
import type { ModelSource } from '../../../../src-main/core/model/convert/ModelSource.js'
import { readSafetensors } from '../../../../src-main/core/model/safetensors/readSafetensors.js'
import { parseSafetensorsIndex, SAFETENSORS_INDEX_FILE } from '../../../../src-main/core/model/safetensors/shardedSafetensors.js'
import { Tokenizer } from '../../../../src-main/core/model/tokenizers/Tokenizer.js'
import { openModel } from '../../../../src-main/core/modelFiles/openModel.js'
import { readAdapterFile, writeAdapterFile } from '../../../../src-main/core/train/adapterFile.js'
import { planAdapters, type AdapterConfig } from '../../../../src-main/core/train/adapters.js'
import { mergedModelSource } from '../../../../src-main/core/train/mergedModelSource.js'
import type { NamedTensor } from '../../../../src-main/core/train/tensorFiles.js'
import type { ModelHyperparameters } from '../../../../src-main/core/model/hyperparameters.js'
import { writeTinyGgufModel } from '../../../fixtures/tinyModels.js'
import { CHATML_TEMPLATE, TINY_WORDS, tinyTokenizerMetadata, type TinyTokenizerKind } from '../../../fixtures/tokenizers/tinyTokenizers.js'
import { adapterConfig, ADAPTER_METHODS, randomAdapterValues } from '../../../support/adapterCases.js'
import { seeded } from '../../../support/float64Checks.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

const JSON_FILES = ['config.json', 'generation_config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']
const SAMPLE = `${TINY_WORDS.join(' ')} The model was there, and we can see it at 42 ünïcode!`

/** Largest |actual − expected| allowed for a value rounded to `dtype` (half an ulp at the value's magnitude, with slack). */
function tolerance(dtype: HfExportDtype, expected: number): number {
  const mantissaBits = { F32: 24, F16: 11, BF16: 8 }[dtype]
  return dtype === 'F32' ? 0 : Math.abs(expected) * 2 ** -mantissaBits + (dtype === 'F16' ? 2 ** -24 : 0)
}

async function writeRandomAdapter(dir: string, h: ModelHyperparameters, config: AdapterConfig, seed: number): Promise<string> {
  const plan = planAdapters(h, config)
  const random = randomAdapterValues(plan, seeded(seed), 0.3)
  const params = new Map<string, NamedTensor>()
  for (const site of plan.sites) for (const p of site.params) params.set(p.name, { shape: p.shape, data: Float32Array.from(random.get(p.name)!) })
  const path = join(dir, 'adapter.safetensors')
  await writeAdapterFile(path, config, params)
  return path
}

async function readAll(source: ModelSource): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>()
  for (const t of source.tensors) {
    const rows = t.shape.length === 1 ? 1 : t.shape.slice(0, -1).reduce((a, b) => a * b, 1)
    out.set(t.name, { shape: t.shape, data: await t.readRows(0, rows) })
  }
  return out
}

/** The base model's tensors with the adapter merged, read through the app's merge path (as `convertModel --adapter`). */
async function expectedTensors(base: string, adapter: string | null): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const opened = await openModel(base)
  try {
    let source = opened.source
    if (adapter !== null) {
      const { config, values } = await readAdapterFile(adapter)
      source = mergedModelSource(source, config, values)
    }
    return await readAll(source)
  } finally {
    await opened.close()
  }
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const readJson = async (path: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>

async function setup(kind: TinyTokenizerKind, architecture: ModelHyperparameters['architecture']): Promise<{ root: string; gguf: string; hf: string; adapter: string; h: ModelHyperparameters }> {
  const root = await tempDir()
  const model = await writeTinyGgufModel(join(root, 'base'), { architecture, tokenizer: kind, seed: 7 })
  const adapter = await writeRandomAdapter(root, model.hyperparameters, adapterConfig(ADAPTER_METHODS.find(([label]) => label === 'LoRA')![1], 4), 11)
  return { root, gguf: model.ggufPath, hf: model.hfDir, adapter, h: model.hyperparameters }
}

describe('exportHfFolder', () => {
  it.each([
    ['GGUF base, llama/SentencePiece, LoRA merged, BF16', 'spm', 'llama', 'gguf', true, 'BF16'],
    ['HF base, qwen2/byte-level BPE, LoRA merged, F16', 'bpe', 'qwen2', 'hf', true, 'F16'],
    ['HF base, llama/SentencePiece, no adapter, F32', 'spm', 'llama', 'hf', false, 'F32'],
  ] as const)('%s: sharded folder that reopens with the merged weights', async (_label, kind, architecture, baseKind, withAdapter, dtype) => {
    const { root, gguf, hf, adapter, h } = await setup(kind, architecture)
    const base = baseKind === 'gguf' ? gguf : hf
    const outParent = join(root, 'exports')
    const outDir = join(outParent, 'merged')
    const maxShardBytes = 24 * 1024
    const progress: [number, number][] = []
    const result = await exportHfFolder(base, withAdapter ? adapter : null, outDir, { maxShardBytes, dtype, onProgress: (done, total) => progress.push([done, total]) })

    expect(result.dir).toBe(outDir)
    // Nothing else beside the finished folder: no temp folder, no partial files.
    expect(await readdir(outParent)).toEqual(['merged'])
    const names = (await readdir(outDir)).sort()
    expect(names).toEqual(result.files.map((f) => f.name))
    expect(names.some((n) => n.endsWith('.partial'))).toBe(false)

    // Every recorded hash and size is the file's.
    for (const file of result.files) {
      const bytes = await readFile(join(outDir, file.name))
      expect(file.bytes).toBe(bytes.length)
      expect(file.sha256).toBe(sha256(bytes))
    }

    // Shards and index agree with each other.
    const shards = names.filter((n) => n.endsWith('.safetensors'))
    expect(shards.length).toBeGreaterThan(1)
    shards.forEach((name, i) => expect(name).toBe(`model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`))
    expect(names).toContain(SAFETENSORS_INDEX_FILE)
    const index = parseSafetensorsIndex(await readFile(join(outDir, SAFETENSORS_INDEX_FILE), 'utf8'), SAFETENSORS_INDEX_FILE)
    expect(index.shardFiles).toEqual(shards)
    let totalBytes = 0
    const found = new Map<string, string>()
    for (const shard of shards) {
      const source = await FileByteSource.open(join(outDir, shard))
      try {
        const header = await readSafetensors(source)
        const shardBytes = header.tensors.reduce((sum, t) => sum + t.byteLength, 0)
        if (header.tensors.length > 1) expect(shardBytes).toBeLessThanOrEqual(maxShardBytes)
        totalBytes += shardBytes
        for (const t of header.tensors) {
          expect(t.dtype).toBe(dtype)
          found.set(t.name, shard)
        }
      } finally {
        await source.close()
      }
    }
    expect(index.totalSizeBytes).toBe(totalBytes)
    expect(new Map([...index.weightMap].sort())).toEqual(new Map([...found].sort()))
    expect(progress.at(-1)).toEqual([totalBytes, totalBytes])

    // Every tensor reads back as the merged model's, within the rounding of the export type.
    const expected = await expectedTensors(base, withAdapter ? adapter : null)
    const exported = await openModel(outDir)
    try {
      const actual = await readAll(exported.source)
      expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort())
      for (const [name, want] of expected) {
        const got = actual.get(name)!
        expect(got.shape, name).toEqual(want.shape)
        let worst = 0
        for (let i = 0; i < want.data.length; i++) {
          worst = Math.max(worst, Math.abs(got.data[i]! - want.data[i]!) - tolerance(dtype, want.data[i]!))
        }
        expect(worst, name).toBeLessThanOrEqual(0)
      }
      if (withAdapter) {
        // The adapter did change the weights it targets (so the comparison above covers the merge).
        const plain = await expectedTensors(base, null)
        const q = 'model.layers.0.self_attn.q_proj.weight'
        expect(Array.from(plain.get(q)!.data)).not.toEqual(Array.from(expected.get(q)!.data))
      }
    } finally {
      await exported.close()
    }

    // JSON files: valid, and what transformers and vLLM look for.
    for (const name of JSON_FILES) expect(names).toContain(name)
    const config = await readJson(join(outDir, 'config.json'))
    expect(config['torch_dtype']).toBe({ F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype])
    expect(config['architectures']).toEqual([architecture === 'llama' ? 'LlamaForCausalLM' : 'Qwen2ForCausalLM'])
    expect(config['num_hidden_layers']).toBe(h.blockCount)
    const metadata = tinyTokenizerMetadata(kind)
    const id = (key: string): number | undefined => {
      const v = metadata.get(key)?.value
      return typeof v === 'number' ? v : undefined
    }
    const bos = id('tokenizer.ggml.bos_token_id')
    const eos = id('tokenizer.ggml.eos_token_id')
    if (bos !== undefined) expect(config['bos_token_id']).toBe(bos)
    expect(config['eos_token_id']).toBe(eos)
    const generation = await readJson(join(outDir, 'generation_config.json'))
    if (bos !== undefined) expect(generation['bos_token_id']).toBe(bos)
    const stop = generation['eos_token_id']
    expect(Array.isArray(stop) ? stop : [stop]).toContain(eos)
    expect(generation['do_sample']).toBe(true)

    const tokenizerJson = await readJson(join(outDir, 'tokenizer.json'))
    const tokenizerConfig = await readJson(join(outDir, 'tokenizer_config.json'))
    expect(tokenizerConfig['chat_template']).toBe(CHATML_TEMPLATE)
    expect(tokenizerConfig['model_max_length']).toBe(h.contextLength)
    const specialMap = await readJson(join(outDir, 'special_tokens_map.json'))
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
      if (typeof tokenizerConfig[key] === 'string') expect(specialMap[key]).toBe(tokenizerConfig[key])
    }
    expect(specialMap['eos_token']).toEqual(expect.any(String))

    // The exported tokenizer encodes like the base model's.
    const exportedTokenizer = Tokenizer.fromHf({ tokenizerJson, tokenizerConfig }, join(outDir, 'tokenizer.json'))
    const baseTokenizer = Tokenizer.fromGguf(metadata, 'tiny.gguf')
    for (const options of [{}, { addSpecial: true }, { addSpecial: true, parseSpecial: true }]) {
      const text = `<|im_start|>user\n${SAMPLE}<|im_end|>`
      expect(exportedTokenizer.encode(text, options)).toEqual(baseTokenizer.encode(text, options))
    }
  })

  it('writes one model.safetensors and no index when the model fits in one shard', async () => {
    const { root, gguf } = await setup('spm', 'llama')
    const outDir = join(root, 'single')
    const result = await exportHfFolder(gguf, null, outDir, { dtype: 'F16' })
    const names = result.files.map((f) => f.name)
    expect(names).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'])
    const opened = await openModel(outDir)
    await opened.close()
  })

  it('leaves nothing under the target name, and no temp folder, when cancelled mid-export', async () => {
    const { root, gguf, adapter } = await setup('spm', 'llama')
    const outParent = join(root, 'exports')
    await mkdir(outParent)
    const outDir = join(outParent, 'merged')
    const controller = new AbortController()
    let calls = 0
    const promise = exportHfFolder(gguf, adapter, outDir, {
      maxShardBytes: 24 * 1024,
      dtype: 'BF16',
      signal: controller.signal,
      onProgress: () => {
        if (++calls === 3) controller.abort()
      },
    })
    await expect(promise).rejects.toMatchObject({ name: 'AbortError' })
    expect(calls).toBe(3)
    expect(await readdir(outParent)).toEqual([])
  })

  it('refuses a target that exists and is not empty, and keeps it', async () => {
    const { root, gguf } = await setup('bpe', 'qwen2')
    const outDir = join(root, 'taken')
    await mkdir(outDir)
    await writeFile(join(outDir, 'keep.txt'), 'mine')
    await expect(exportHfFolder(gguf, null, outDir, { dtype: 'F16' })).rejects.toMatchObject({ code: 'invalid_argument' })
    expect(await readdir(outDir)).toEqual(['keep.txt'])
    expect(await readdir(root)).not.toContainEqual(expect.stringMatching(/^\.taken\.export-/))
  })

  it('takes the place of an empty folder at the target', async () => {
    const { root, gguf } = await setup('spm', 'llama')
    const outDir = join(root, 'empty')
    await mkdir(outDir)
    await exportHfFolder(gguf, null, outDir, { dtype: 'F32' })
    expect((await readdir(outDir)).sort()).toContain('model.safetensors')
  })

  it('refuses with a clear io error when the disk lacks the space', async () => {
    const root = await tempDir()
    await expect(checkExportFreeSpace(root, Number.MAX_SAFE_INTEGER)).rejects.toMatchObject({
      code: 'io',
      message: expect.stringMatching(/^Not enough free space in .+: the export needs about .+, and .+ is available$/),
    })
    await expect(checkExportFreeSpace(root, 1024)).resolves.toBeUndefined()
  })

  it('refuses an unknown export type before writing anything', async () => {
    const { root, gguf } = await setup('spm', 'llama')
    const outDir = join(root, 'bad')
    await expect(exportHfFolder(gguf, null, outDir, { dtype: 'Q4_K' as HfExportDtype })).rejects.toMatchObject({ code: 'invalid_argument' })
    await expect(readdir(outDir)).rejects.toThrow()
  })
})
