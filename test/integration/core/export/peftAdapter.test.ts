import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { exportPeftAdapter, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../../../../src-main/core/export/peftAdapter.js'
import { FileByteSource } from '../../../../src-main/core/io/fileBytes.js'
import type { ModelHyperparameters } from '../../../../src-main/core/model/hyperparameters.js'
import { readSafetensors, readTensorAsFloat32 } from '../../../../src-main/core/model/safetensors/readSafetensors.js'
import { readAdapterFile, writeAdapterFile } from '../../../../src-main/core/train/adapterFile.js'
import { planAdapters, type AdapterConfig, type AdapterSite, type AdapterTarget } from '../../../../src-main/core/train/adapters.js'
import { adapterDeltaWeight } from '../../../../src-main/core/train/mergeAdapters.js'
import type { NamedTensor } from '../../../../src-main/core/train/tensorFiles.js'
import { tinyHyperparameters } from '../../../fixtures/tinyWeights.js'
import { adapterConfig, randomAdapterValues } from '../../../support/adapterCases.js'
import { maxRelativeError, seeded } from '../../../support/float64Checks.js'
import { useTempDirs } from '../../../support/tempDir.js'

const tempDir = useTempDirs()

// q 64 → 64, k/v 64 → 32, o 64 → 64, gate/up 64 → 128, down 128 → 64; two layers.
const h: ModelHyperparameters = tinyHyperparameters('llama', 32)

const HF_MODULES: Record<AdapterTarget, string> = { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'o_proj', gate: 'gate_proj', up: 'up_proj', down: 'down_proj' }

/** A run's adapter file for `config` on the tiny model, with every parameter random (M, A and B non-zero). */
async function writeRandomAdapter(dir: string, config: AdapterConfig, seed: number): Promise<string> {
  const plan = planAdapters(h, config)
  const random = randomAdapterValues(plan, seeded(seed), 0.5)
  const params = new Map<string, NamedTensor>()
  for (const site of plan.sites) for (const p of site.params) params.set(p.name, { shape: p.shape, data: Float32Array.from(random.get(p.name)!) })
  const path = join(dir, 'adapter.safetensors')
  await writeAdapterFile(path, config, params)
  return path
}

async function readPeftTensors(path: string): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const source = await FileByteSource.open(path)
  try {
    const header = await readSafetensors(source)
    expect(header.metadata).toEqual({ format: 'pt' })
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>()
    for (const info of header.tensors) {
      expect(info.dtype).toBe('F32')
      tensors.set(info.name, { shape: info.shape, data: await readTensorAsFloat32(source, info) })
    }
    return tensors
  } finally {
    await source.close()
  }
}

const peftKey = (site: AdapterSite, part: 'lora_A' | 'lora_B'): string => `base_model.model.${site.weightName.replace(/\.weight$/, '')}.${part}.weight`

/** B·A·scale (out, in) from PEFT's tensors, with the scale PEFT derives from the config. */
function peftLoraDelta(a: Float32Array, b: Float32Array, r: number, k: number, d: number, json: Record<string, unknown>): Float64Array {
  const alpha = json['lora_alpha'] as number
  const scale = json['use_rslora'] === true ? alpha / Math.sqrt(r) : alpha / r
  const delta = new Float64Array(d * k)
  for (let i = 0; i < d; i++) for (let c = 0; c < k; c++) {
    let sum = 0
    for (let t = 0; t < r; t++) sum += b[i * r + t]! * a[t * k + c]!
    delta[i * k + c] = sum * scale
  }
  return delta
}

/** The fork's r̂ (`update_layer`): sqrt((in + out)·r) rounded half up, then down to even for type 6. */
const forkSquare = (k: number, d: number, r: number, type: 1 | 6): number => {
  const R = Math.floor(Math.sqrt((k + d) * r) + 0.5)
  return type === 6 ? R - (R % 2) : R
}

/**
 * The fork's adapter output for one input vector x (length k), written from `_apply_mora` as the spec describes
 * it (specs/mora.md §2 and §4), independently of mergeAdapters.ts: wrap-around padding, then type 1 sums the
 * chunks, applies M and tiles; type 6 rotates chunk b by position b, applies M per chunk and truncates or tiles.
 */
function forkMoraForward(M: Float32Array, R: number, type: 1 | 6, x: Float64Array, d: number): Float64Array {
  const k = x.length
  const pad = k % R === 0 ? 0 : R - (k % R)
  const xe = new Float64Array(k + pad)
  xe.set(x)
  for (let j = 0; j < pad; j++) xe[k + j] = x[j]!
  const chunks = xe.length / R
  const apply = (v: Float64Array): Float64Array => Float64Array.from({ length: R }, (_, a) => v.reduce((s, vj, j) => s + M[a * R + j]! * vj, 0))
  let out: Float64Array
  if (type === 1) {
    const z = new Float64Array(R)
    for (let p = 0; p < xe.length; p++) z[p % R]! += xe[p]!
    out = apply(z)
  } else {
    const half = R / 2
    out = new Float64Array(xe.length)
    for (let b = 0; b < chunks; b++) {
      const v = xe.subarray(b * R, (b + 1) * R)
      const rotated = new Float64Array(R)
      for (let j = 0; j < R; j++) {
        const angle = b / Math.pow(10000, (2 * (j % half)) / R)
        const rotateHalf = j < half ? -v[j + half]! : v[j - half]!
        rotated[j] = v[j]! * Math.cos(angle) + rotateHalf * Math.sin(angle)
      }
      out.set(apply(rotated), b * R)
    }
  }
  return Float64Array.from({ length: d }, (_, i) => out[i % out.length]!)
}

/** ΔW (d, k) of the fork's forward, one input basis vector (column) at a time. */
function forkMoraDelta(M: Float32Array, R: number, type: 1 | 6, k: number, d: number): Float64Array {
  const delta = new Float64Array(d * k)
  for (let c = 0; c < k; c++) {
    const e = new Float64Array(k)
    e[c] = 1
    const column = forkMoraForward(M, R, type, e, d)
    for (let i = 0; i < d; i++) delta[i * k + c] = column[i]!
  }
  return delta
}

const CONFIG_KEYS = [
  'peft_type', 'task_type', 'base_model_name_or_path', 'revision', 'inference_mode', 'auto_mapping', 'r', 'lora_alpha', 'lora_dropout', 'target_modules',
  'fan_in_fan_out', 'bias', 'use_rslora', 'modules_to_save', 'init_lora_weights', 'layers_to_transform', 'layers_pattern', 'rank_pattern', 'alpha_pattern',
  'megatron_config', 'megatron_core', 'loftq_config', 'use_dora',
]

async function exportCase(config: AdapterConfig, seed: number, dropout?: number): Promise<{ dir: string; adapterPath: string; json: Record<string, unknown>; tensors: Awaited<ReturnType<typeof readPeftTensors>> }> {
  const dir = await tempDir()
  const adapterPath = await writeRandomAdapter(dir, config, seed)
  const out = join(dir, 'peft')
  const result = await exportPeftAdapter(adapterPath, out, { baseModelName: 'org/tiny-llama', hyperparameters: h, ...(dropout === undefined ? {} : { dropout }) })
  expect((await readdir(out)).sort()).toEqual([PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE].sort())
  const json = JSON.parse(await readFile(join(out, PEFT_CONFIG_FILE), 'utf8')) as Record<string, unknown>
  expect(json).toEqual(result.config)
  const tensors = await readPeftTensors(join(out, PEFT_WEIGHTS_FILE))
  expect([...tensors.keys()].sort()).toEqual(result.tensors.map((t) => t.name))
  return { dir, adapterPath, json, tensors }
}

describe('exportPeftAdapter: LoRA in the Hugging Face PEFT layout', () => {
  it.each([
    ['alpha / r', { loraAlpha: 9, rsLora: false }],
    ['rsLoRA, alpha / √r', { loraAlpha: 6, rsLora: true }],
  ] as const)('%s: config keys, tensors [r, in] / [out, r] equal to the stored ones, and B·A·scale = our ΔW at every site', async (_label, options) => {
    const config = adapterConfig({ method: 'lora', moraType: 1 }, 4, options)
    const { adapterPath, json, tensors } = await exportCase(config, 11, 0.05)
    expect(Object.keys(json).sort()).toEqual([...CONFIG_KEYS].sort())
    expect(json).toMatchObject({
      peft_type: 'LORA', task_type: 'CAUSAL_LM', base_model_name_or_path: 'org/tiny-llama', r: 4, lora_alpha: options.loraAlpha, lora_dropout: 0.05,
      bias: 'none', fan_in_fan_out: false, use_rslora: options.rsLora, use_dora: false,
      target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    })
    expect(json).not.toHaveProperty('use_mora')

    const stored = await readAdapterFile(adapterPath)
    const plan = planAdapters(h, stored.config)
    expect(tensors.size).toBe(2 * plan.sites.length)
    for (const site of plan.sites) {
      const { inFeatures: k, outFeatures: d } = site
      const a = tensors.get(peftKey(site, 'lora_A'))
      const b = tensors.get(peftKey(site, 'lora_B'))
      expect(a?.shape, site.weightName).toEqual([4, k])
      expect(b?.shape, site.weightName).toEqual([d, 4])
      // Our stored layout is PEFT's already: the values come back bit for bit, untransposed.
      expect(a!.data).toEqual(stored.values.get(site.params[0]!.name))
      expect(b!.data).toEqual(stored.values.get(site.params[1]!.name))
      const ours = adapterDeltaWeight(site, stored.config, stored.values)
      expect(maxRelativeError(peftLoraDelta(a!.data, b!.data, 4, k, d, json), ours), site.weightName).toBeLessThanOrEqual(1e-12)
    }
  })

  it('names only the adapted modules, and keys use the base_model.model. prefix', async () => {
    const config: AdapterConfig = { ...adapterConfig({ method: 'lora', moraType: 1 }, 2), targets: ['v', 'q', 'down'] }
    const { json, tensors } = await exportCase(config, 5)
    expect(json['target_modules']).toEqual(['q_proj', 'v_proj', 'down_proj'])
    expect(json['lora_dropout']).toBe(0)
    expect([...tensors.keys()].sort()).toEqual(
      [0, 1].flatMap((l) => ['self_attn.q_proj', 'self_attn.v_proj', 'mlp.down_proj'].flatMap((m) => ['lora_A', 'lora_B'].map((p) => `base_model.model.model.layers.${l}.${m}.${p}.weight`))).sort(),
    )
  })
})

describe('exportPeftAdapter: MoRA in the layout of the kongds/MoRA PEFT fork', () => {
  it.each([1, 6] as const)('type %i: use_mora, mora_type and r; M under lora_A and lora_B at the fork\'s r̂; the fork\'s forward reproduces our ΔW at every site', async (moraType) => {
    const config = adapterConfig({ method: 'mora', moraType }, 2)
    const { adapterPath, json, tensors } = await exportCase(config, 20 + moraType)
    expect(Object.keys(json).sort()).toEqual([...CONFIG_KEYS, 'use_mora', 'mora_type'].sort())
    expect(json).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', use_mora: true, mora_type: moraType, r: 2, base_model_name_or_path: 'org/tiny-llama' })
    expect(json['target_modules']).toEqual(Object.values(HF_MODULES))

    const stored = await readAdapterFile(adapterPath)
    const plan = planAdapters(h, stored.config)
    expect(tensors.size).toBe(2 * plan.sites.length)
    const pads = new Set<number>()
    for (const site of plan.sites) {
      const { inFeatures: k, outFeatures: d } = site
      const R = forkSquare(k, d, json['r'] as number, json['mora_type'] as 1 | 6)
      pads.add((R - (k % R)) % R)
      const a = tensors.get(peftKey(site, 'lora_A'))
      const b = tensors.get(peftKey(site, 'lora_B'))
      expect(a?.shape, site.weightName).toEqual([R, R])
      expect(b?.shape, site.weightName).toEqual([R, R])
      // The fork aliases lora_B to lora_A: one matrix, saved under both keys, equal to our stored M.
      expect(a!.data).toEqual(stored.values.get(site.params[0]!.name))
      expect(b!.data).toEqual(a!.data)
      const ours = adapterDeltaWeight(site, stored.config, stored.values)
      expect(maxRelativeError(forkMoraDelta(a!.data, R, moraType, k, d), ours), site.weightName).toBeLessThanOrEqual(1e-10)
    }
    // The sites cover both an exact fit and wrap-around padding.
    expect(pads.has(0)).toBe(true)
    expect([...pads].some((p) => p > 0)).toBe(true)
  })
})

describe('exportPeftAdapter refuses what would not load', () => {
  it('an adapter trained on another model shape, before writing anything', async () => {
    const dir = await tempDir()
    const adapterPath = await writeRandomAdapter(dir, adapterConfig({ method: 'mora', moraType: 6 }, 2), 3)
    const other = { ...h, feedForwardLength: 96 }
    const out = join(dir, 'peft')
    await expect(exportPeftAdapter(adapterPath, out, { baseModelName: 'x', hyperparameters: other })).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/mlp\.gate_proj\.mora_M\.weight is \[20, 20\], this model wants \[18, 18\].*r̂ = 18/) as unknown,
    })
    await expect(readdir(out)).rejects.toThrow()
  })

  it('an empty base model name', async () => {
    const dir = await tempDir()
    const adapterPath = await writeRandomAdapter(dir, adapterConfig({ method: 'lora', moraType: 1 }, 2), 4)
    await expect(exportPeftAdapter(adapterPath, join(dir, 'peft'), { baseModelName: ' ' })).rejects.toMatchObject({ code: 'invalid_argument' })
  })
})
