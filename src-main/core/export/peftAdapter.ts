import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { LecternError } from '../../shared/errors.js'
import { FileByteSink } from '../io/fileBytes.js'
import type { ModelHyperparameters } from '../model/hyperparameters.js'
import { writeSafetensors } from '../model/safetensors/writeSafetensors.js'
import { readAdapterFile } from '../train/adapterFile.js'
import { ADAPTER_TARGETS, ADAPTER_TARGET_WEIGHTS, moraSquareSize, peftTensorKeys, planAdapters, type AdapterConfig, type AdapterTarget } from '../train/adapters.js'

/**
 * Writes a Lectern adapter file on its own, in the folder layout Hugging Face PEFT loads with
 * `PeftModel.from_pretrained(base, folder)`: `adapter_config.json` and `adapter_model.safetensors`.
 *
 * What was checked, and where (read, not copied):
 * - Tensor keys: PEFT's `get_peft_model_state_dict` (huggingface/peft `src/peft/utils/save_and_load.py`) drops the
 *   adapter name, so `…q_proj.lora_A.default.weight` is saved as `…q_proj.lora_A.weight`, under the
 *   `base_model.model.` prefix of the wrapped model. For a Llama-family causal LM the module path inside that is our
 *   HF weight path, so a site is `base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight`.
 * - LoRA shapes: `lora_A` is `nn.Linear(in, r)`, weight [r, in]; `lora_B` is `nn.Linear(r, out)`, weight [out, r];
 *   ΔW = B·A·scale with scale alpha/r, or alpha/√r with `use_rslora` (kongds/MoRA `peft-mora/src/peft/tuners/lora/
 *   layer.py`, `update_layer`, the same code as upstream PEFT). Lectern stores A and B in exactly that orientation
 *   (`AdapterParameter` in train/adapters.ts), so nothing is transposed.
 * - Config keys: the `LoraConfig` dataclass of the MoRA fork (`peft-mora/src/peft/tuners/lora/config.py`) and
 *   adapter_config.json files saved by upstream PEFT. Only keys both know are written: a PEFT that hands the JSON
 *   straight to the dataclass would refuse an unknown key (inferred for the fork's PEFT version, not checked).
 * - MoRA (the fork's `LoraConfig.use_mora` / `mora_type`, `update_layer` and `_apply_mora`): with `use_mora` the
 *   layer makes one `nn.Linear(R, R, bias=False)` as `lora_A`, and `lora_B` is *the same module*. R is recomputed at
 *   load time from `r` and the layer's in/out features, `int(sqrt((in + out)·r) + 0.5)`, made even for type 6
 *   (that rounding is in the fork's later `layer.py`, commit d0528b4, not in its first version a49fc1f). Scaling is
 *   1.0: `lora_alpha` and `use_rslora` are ignored. The forward applies the square matrix as `lora_A(z)`, i.e.
 *   u = M·z, which is our M (R, R) as stored, untransposed.
 * - PEFT's `save_pretrained` clones tensors that share storage before writing safetensors (the aliasing block in
 *   `peft_model.py`), so a model saved by the fork holds M under both `lora_A.weight` and `lora_B.weight`. We write
 *   both keys too (`peftTensorKeys`), so the fork's `set_peft_model_state_dict` finds every key it expects.
 *
 * Inferred, not run: that the fork loads these files (no Python here), and that upstream PEFT without MoRA support
 * rejects or mis-reads a MoRA export. A MoRA export is only for the fork (`pip install -e peft-mora`).
 */

/** PEFT's module name for each adapter target (the last part of the HF weight path). */
export const PEFT_TARGET_MODULES: Readonly<Record<AdapterTarget, string>> = {
  q: 'q_proj',
  k: 'k_proj',
  v: 'v_proj',
  o: 'o_proj',
  gate: 'gate_proj',
  up: 'up_proj',
  down: 'down_proj',
}

export const PEFT_CONFIG_FILE = 'adapter_config.json'
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors'

export interface PeftExportOptions {
  /** Written as `base_model_name_or_path`: a Hub id or a local folder of the base model, for whoever loads it. */
  baseModelName: string
  /**
   * The base model's hyper-parameters. When given, every tensor is checked against the adapter plan of that
   * model: LoRA shapes must match its projections, and each MoRA square must be the r̂ the fork will recompute
   * from `r` and the layer's sizes (otherwise loading fails with a shape mismatch). Without them only the file's
   * own consistency is checked.
   */
  hyperparameters?: ModelHyperparameters
  /** `lora_dropout` for whoever continues training; adapter files do not record it. Defaults to `0`. */
  dropout?: number
}

/** adapter_config.json as we write it. */
export interface PeftAdapterConfigJson {
  peft_type: 'LORA'
  task_type: 'CAUSAL_LM'
  base_model_name_or_path: string
  revision: null
  inference_mode: boolean
  auto_mapping: null
  r: number
  lora_alpha: number
  lora_dropout: number
  target_modules: string[]
  fan_in_fan_out: false
  bias: 'none'
  use_rslora: boolean
  modules_to_save: null
  init_lora_weights: boolean
  layers_to_transform: null
  layers_pattern: null
  rank_pattern: Record<string, never>
  alpha_pattern: Record<string, never>
  megatron_config: null
  megatron_core: string
  loftq_config: Record<string, never>
  use_dora: false
  /** MoRA fork only. */
  use_mora?: true
  /** MoRA fork only: 1 (sharing) or 6 (rotation). */
  mora_type?: 1 | 6
}

export interface PeftTensor {
  name: string
  shape: [number, number]
  data: Float32Array
}

export interface PeftExportResult {
  configPath: string
  weightsPath: string
  config: PeftAdapterConfigJson
  /** What the safetensors file holds, in name order. */
  tensors: { name: string; shape: [number, number] }[]
}

function invalid(message: string, file?: string): LecternError {
  return new LecternError('invalid_argument', message, file === undefined ? {} : { file })
}

/** adapter_config.json for `config`. `r` is LoRA's rank, and for MoRA the budget r that sets r̂. */
export function peftAdapterConfig(config: AdapterConfig, options: PeftExportOptions): PeftAdapterConfigJson {
  const { baseModelName, dropout = 0 } = options
  if (baseModelName.trim() === '') throw invalid('the base model name is empty; PEFT needs it in base_model_name_or_path')
  if (!(dropout >= 0 && dropout < 1)) throw invalid(`lora_dropout must be in [0, 1), not ${dropout}`)
  const json: PeftAdapterConfigJson = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModelName,
    revision: null,
    // What PEFT's save_pretrained writes; `from_pretrained(…, is_trainable=True)` turns it off to keep training.
    inference_mode: true,
    auto_mapping: null,
    r: config.rank,
    lora_alpha: config.loraAlpha,
    lora_dropout: dropout,
    target_modules: ADAPTER_TARGETS.filter((t) => config.targets.includes(t)).map((t) => PEFT_TARGET_MODULES[t]),
    fan_in_fan_out: false,
    bias: 'none',
    use_rslora: config.rsLora,
    modules_to_save: null,
    // Loading overwrites every adapter tensor, so the init scheme only matters for layers the file lacks.
    init_lora_weights: true,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    megatron_config: null,
    megatron_core: 'megatron.core',
    loftq_config: {},
    use_dora: false,
  }
  if (config.method === 'mora') {
    json.use_mora = true
    json.mora_type = config.moraType
  }
  return json
}

const PARAM_NAME = /^(model\.layers\.(\d+)\.(.+))\.(lora_A|lora_B|mora_M)\.weight$/

interface ParsedSite {
  weightName: string
  target: AdapterTarget
  parts: Map<string, Float32Array>
}

/** Groups the stored values by adapted weight, rejecting names that are not adapter parameters of `config`. */
function groupBySite(config: AdapterConfig, values: ReadonlyMap<string, Float32Array>, file?: string): Map<string, ParsedSite> {
  const sites = new Map<string, ParsedSite>()
  const wanted = config.method === 'mora' ? ['mora_M'] : ['lora_A', 'lora_B']
  for (const [name, data] of values) {
    const match = PARAM_NAME.exec(name)
    const target = ADAPTER_TARGETS.find((t) => ADAPTER_TARGET_WEIGHTS[t] === `${match?.[3]}.weight`)
    if (!match || !target) throw invalid(`${name} is not an adapter parameter (model.layers.<l>.<projection>.{lora_A, lora_B, mora_M}.weight)`, file)
    const part = match[4]!
    if (!wanted.includes(part)) throw invalid(`${name} is a ${part} tensor, but the adapter is ${config.method === 'mora' ? 'MoRA' : 'LoRA'}`, file)
    if (!config.targets.includes(target)) throw invalid(`${name} adapts '${target}', which the adapter's targets (${config.targets.join(', ')}) leave out`, file)
    const weightName = `${match[1]!}.weight`
    let site = sites.get(weightName)
    if (!site) sites.set(weightName, (site = { weightName, target, parts: new Map() }))
    site.parts.set(part, data)
  }
  if (sites.size === 0) throw invalid('the adapter holds no tensors', file)
  return sites
}

/**
 * The tensors of the PEFT file for `values` (as `readAdapterFile` returns them), by PEFT key, in name order.
 * LoRA A and B keep their stored [r, in] and [out, r] layouts; MoRA's M (R, R) goes under both `lora_A` and
 * `lora_B`, as the fork saves it.
 */
export function peftAdapterTensors(config: AdapterConfig, values: ReadonlyMap<string, Float32Array>, hyperparameters?: ModelHyperparameters, file?: string): PeftTensor[] {
  const sites = groupBySite(config, values, file)
  const r = config.rank
  const shapes = new Map<string, [number, number]>()
  for (const site of sites.values()) {
    const prefix = site.weightName.replace(/\.weight$/, '')
    if (config.method === 'mora') {
      const size = site.parts.get('mora_M')!.length
      const R = Math.round(Math.sqrt(size))
      if (R * R !== size) throw invalid(`${prefix}.mora_M.weight has ${size} values, not a square number`, file)
      shapes.set(`${prefix}.mora_M.weight`, [R, R])
      continue
    }
    const a = site.parts.get('lora_A')
    const b = site.parts.get('lora_B')
    if (!a || !b) throw invalid(`${prefix} has lora_${a ? 'A' : 'B'} but no lora_${a ? 'B' : 'A'}`, file)
    if (a.length % r !== 0 || b.length % r !== 0) throw invalid(`${prefix}: lora_A has ${a.length} values and lora_B ${b.length}, not multiples of the rank ${r}`, file)
    shapes.set(`${prefix}.lora_A.weight`, [r, a.length / r])
    shapes.set(`${prefix}.lora_B.weight`, [b.length / r, r])
  }
  if (hyperparameters) checkAgainstPlan(config, shapes, hyperparameters, file)

  const tensors: PeftTensor[] = []
  for (const [name, shape] of shapes) {
    const data = values.get(name)!
    for (const key of peftTensorKeys(name)) tensors.push({ name: key, shape, data })
  }
  return tensors.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
}

/** Every planned parameter present with its planned shape, and nothing else; for MoRA that is the fork's r̂. */
function checkAgainstPlan(config: AdapterConfig, shapes: ReadonlyMap<string, [number, number]>, h: ModelHyperparameters, file?: string): void {
  const plan = planAdapters(h, { ...config, dropout: 0 })
  const planned = new Set<string>()
  for (const site of plan.sites) {
    for (const param of site.params) {
      planned.add(param.name)
      const shape = shapes.get(param.name)
      if (!shape) throw invalid(`the adapter has no ${param.name}, which a ${config.method === 'mora' ? 'MoRA' : 'LoRA'} adapter on this model needs`, file)
      if (shape[0] !== param.shape[0] || shape[1] !== param.shape[1]) {
        const why = config.method === 'mora'
          ? ` (the MoRA fork recomputes r̂ = ${moraSquareSize(site.inFeatures, site.outFeatures, config.rank, config.moraType)} from r = ${config.rank} and ${site.inFeatures} → ${site.outFeatures})`
          : ''
        throw invalid(`${param.name} is [${shape.join(', ')}], this model wants [${param.shape.join(', ')}]${why}`, file)
      }
    }
  }
  const extra = [...shapes.keys()].find((name) => !planned.has(name))
  if (extra) throw invalid(`${extra} does not belong to this model (it has ${h.blockCount} layers)`, file)
}

/**
 * Exports the adapter of a training run (the file `writeAdapterFile` wrote) as a PEFT adapter folder `outDir`:
 * adapter_config.json and adapter_model.safetensors (F32), each written whole or not at all. LoRA loads in
 * upstream PEFT; MoRA needs the reference fork (github.com/kongds/MoRA, `peft-mora`), since its config carries
 * `use_mora` and `mora_type`. Existing files of those names are replaced.
 */
export async function exportPeftAdapter(runAdapterFile: string, outDir: string, options: PeftExportOptions): Promise<PeftExportResult> {
  const { config, values } = await readAdapterFile(runAdapterFile)
  const json = peftAdapterConfig(config, options)
  const tensors = peftAdapterTensors(config, values, options.hyperparameters, runAdapterFile)
  await mkdir(outDir, { recursive: true }).catch((error: Error) => {
    throw new LecternError('io', `${outDir}: cannot create the export folder (${error.message})`, { file: outDir })
  })
  const weightsPath = join(outDir, PEFT_WEIGHTS_FILE)
  const byName = new Map(tensors.map((t) => [t.name, t]))
  await writeWhole(weightsPath, (sink) =>
    writeSafetensors(sink, tensors.map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape })), {
      metadata: { format: 'pt' },
      tensorData: (info) => {
        const { data } = byName.get(info.name)!
        return Promise.resolve(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
      },
    }),
  )
  const configPath = join(outDir, PEFT_CONFIG_FILE)
  await writeWhole(configPath, (sink) => sink.write(new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`)))
  return { configPath, weightsPath, config: json, tensors: tensors.map(({ name, shape }) => ({ name, shape })) }
}

/** Writes through a `.partial` file that only gets its real name once complete. */
async function writeWhole(path: string, write: (sink: FileByteSink) => Promise<unknown>): Promise<void> {
  const sink = await FileByteSink.create(path)
  try {
    await write(sink)
    await sink.commit()
  } catch (error) {
    await sink.abort()
    throw error
  }
}
