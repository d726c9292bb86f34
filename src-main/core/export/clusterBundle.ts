import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { LecternError } from '../../shared/errors.js'
import { CLUSTER_LAUNCHERS, type ClusterLauncher } from '../../shared/types/export.js'
import { trainParamsSchema, type TrainParamsInput } from '../../shared/types/train.js'
import { DATASET_FILES, exportDataset, type ExportFormat } from '../dataset/writeDataset.js'
import { ADAPTER_FILE, PROJECT_TRAINING_DATA, RUN_CONFIG_FILE, resolveTrainSettings, type ResolvedTrainSettings } from '../train/trainRun.js'
import { ADAPTER_TARGETS } from '../train/adapters.js'
import { exportPeftAdapter, PEFT_TARGET_MODULES, peftAdapterConfig, type PeftAdapterConfigJson } from './peftAdapter.js'

/**
 * A folder that takes a Lectern project to a GPU cluster: the built dataset as JSONL, the run's adapter as a PEFT
 * folder (so training continues from it), and ready configs for one launcher, with a README of the commands.
 *
 * What was checked, and where (read, not copied; key names only, the files below are our own):
 * - axolotl: its README's dataset formats (`completion` reads `{"text"}` lines) and published axolotl configs for
 *   the keys `base_model`, `datasets[].path/type/field/ds_type`, `sequence_len`, `sample_packing`, `adapter: lora`,
 *   `lora_model_dir`, `lora_r`, `lora_alpha`, `lora_dropout`, `lora_target_modules`, `micro_batch_size`,
 *   `gradient_accumulation_steps`, `num_epochs`, `learning_rate`, `lr_scheduler`, `warmup_ratio`, `bf16`,
 *   `gradient_checkpointing`, `output_dir`, `deepspeed`. `peft_use_rslora` is recalled, not seen in a source.
 * - LLaMA-Factory: `examples/train_lora/llama3_lora_pretrain.yaml` and `…_sft.yaml` for `model_name_or_path`,
 *   `stage: pt`, `finetuning_type: lora`, `lora_rank`, `lora_target` (comma-separated), `cutoff_len`,
 *   `per_device_train_batch_size`, `num_train_epochs`, `lr_scheduler_type`, `warmup_ratio`, `bf16`; the examples
 *   README for `llamafactory-cli train` and `FORCE_TORCHRUN=1 NNODES=… ` multi-node launches. `dataset_dir` +
 *   `dataset_info.json` with `columns.prompt` naming the text field, `adapter_name_or_path`, `lora_alpha`,
 *   `lora_dropout`, `use_rslora` and `disable_gradient_checkpointing` are recalled from its argument classes.
 * - accelerate: the FSDP usage guide and Transformers' accelerate page (`distributed_type: FSDP`, `fsdp_config`
 *   with `fsdp_auto_wrap_policy: TRANSFORMER_BASED_WRAP`, `fsdp_sharding_strategy`, `fsdp_state_dict_type`,
 *   `fsdp_use_orig_params`, `fsdp_cpu_ram_efficient_loading`, `fsdp_sync_module_states`); DeepSpeed plugin configs
 *   (`distributed_type: DEEPSPEED`, `deepspeed_config.deepspeed_config_file`, `zero3_init_flag`,
 *   `deepspeed_multinode_launcher`).
 * - DeepSpeed JSON for the HF Trainer: Transformers' DeepSpeed guide; `"auto"` lets the Trainer fill batch sizes,
 *   accumulation, clipping and bf16 from its own arguments, so the JSON cannot disagree with them.
 * - MoRA: the fork's `LoraConfig(use_mora=True, mora_type=…)` (kongds/MoRA `peft-mora`), installed from the repo;
 *   see peftAdapter.ts. Neither axolotl nor LLaMA-Factory knows these options, so MoRA bundles are accelerate only.
 * Inferred, not run: no Python or GPU here, so train.py and the configs are checked for structure and values only.
 */

export { CLUSTER_LAUNCHERS, type ClusterLauncher }

/** Files of a bundle, relative to its folder. */
export const BUNDLE_FILES = {
  train: 'data/train.jsonl',
  heldOut: 'data/heldout.jsonl',
  datasetInfo: 'data/dataset_info.json',
  adapterDir: 'adapter',
  peftConfig: 'peft_config.json',
  trainSettings: 'train_settings.json',
  trainScript: 'train.py',
  accelerate: 'accelerate_config.yaml',
  deepspeed: 'deepspeed.json',
  axolotl: 'axolotl.yaml',
  llamafactory: 'llamafactory.yaml',
  readme: 'README.md',
} as const

export interface ClusterBundleOptions {
  /** The Lectern project folder; its built dataset (`artifacts/dataset`) is exported. */
  projectDir: string
  /** A run folder (`runs/<run>`) whose settings and adapter the bundle carries; `null` starts a fresh adapter. */
  runDir: string | null
  /** The base model as the cluster names it: a Hugging Face Hub id or a path there. */
  baseModelName: string
  /** The bundle folder; it must not exist yet (or be empty). */
  outDir: string
  launcher: ClusterLauncher
  /**
   * `text` (default): one `{"text"}` line per packed sequence, which every launcher reads. `chat`: conversations as
   * `{"messages"}` lines mixed with `{"text"}` lines, which only train.py reads (accelerate launchers).
   */
  format?: ExportFormat
  /** Training settings when `runDir` is null (Lectern's defaults otherwise); `base` is not needed. */
  settings?: Omit<TrainParamsInput, 'base'>
  /** DeepSpeed ZeRO stage for the DeepSpeed paths. Defaults to `2`. */
  zeroStage?: 2 | 3
  /** Written into the accelerate config and the README commands. Default 1 node of 8 GPUs. */
  nodes?: number
  gpusPerNode?: number
}

/** The hyperparameters every config of the bundle states, in one place. */
export interface BundleHyperparameters {
  method: 'mora' | 'lora'
  rank: number
  moraType: 1 | 6
  loraAlpha: number
  rsLora: boolean
  dropout: number
  /** PEFT module names. */
  targetModules: string[]
  learningRate: number
  seqLen: number
  microBatch: number
  gradAccum: number
  epochs: number
  /** null: train for `epochs`. */
  maxSteps: number | null
  /** transformers' `lr_scheduler_type`. */
  scheduler: 'cosine' | 'linear' | 'constant_with_warmup'
  warmupRatio: number
  weightDecay: number
  maxGradNorm: number
  seed: number
}

export interface ClusterBundleResult {
  outDir: string
  /** Every file written, relative to `outDir`, sorted. */
  files: string[]
  hyperparameters: BundleHyperparameters
  /** The shell commands the README gives, in order. */
  commands: string[]
  trainLines: number
}

function invalid(message: string, file?: string): LecternError {
  return new LecternError('invalid_argument', message, file === undefined ? {} : { file })
}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false)

/** The settings a run was trained with, from its config.json, re-checked against the schema. */
async function readRunSettings(runDir: string, projectDir: string): Promise<ResolvedTrainSettings> {
  const path = join(runDir, RUN_CONFIG_FILE)
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not_found' : 'invalid_argument'
    throw new LecternError(code, `${path}: cannot read the run's settings (${(error as Error).message})`, { file: path, cause: error })
  }
  const settings = (raw as { settings?: unknown } | null)?.settings
  if (typeof settings !== 'object' || settings === null) throw invalid(`${path}: has no "settings" object; it was not written by a Lectern training run`, path)
  const { data: _data, usesProjectDataset: _uses, ...params } = settings as Record<string, unknown>
  const parsed = trainParamsSchema.safeParse({ ...params, data: null })
  if (!parsed.success) throw invalid(`${path}: the run's settings are not valid (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`, path)
  return resolveTrainSettings(parsed.data, projectDir)
}

function bundleHyperparameters(s: ResolvedTrainSettings): BundleHyperparameters {
  return {
    method: s.method,
    rank: s.rank,
    moraType: s.moraType,
    loraAlpha: s.loraAlpha,
    rsLora: s.rsLora,
    dropout: s.dropout,
    targetModules: ADAPTER_TARGETS.filter((t) => s.targets.includes(t)).map((t) => PEFT_TARGET_MODULES[t]),
    learningRate: s.lr,
    seqLen: s.seqLen,
    microBatch: s.batch,
    gradAccum: s.gradAccum,
    epochs: s.epochs,
    maxSteps: s.steps,
    // Lectern's constant schedule warms up first, as transformers' constant_with_warmup does.
    scheduler: s.schedule === 'constant' ? 'constant_with_warmup' : s.schedule,
    warmupRatio: s.warmupRatio,
    weightDecay: s.weightDecay,
    maxGradNorm: s.maxGradNorm,
    seed: s.seed,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// YAML, written by hand: a small subset (maps, lists, scalars) that PyYAML and every YAML 1.2 parser read alike.

type YamlValue = string | number | boolean | null | readonly YamlValue[] | { readonly [key: string]: YamlValue }

/** Numbers PyYAML reads back as numbers: its float pattern wants a dot in the mantissa and a signed exponent. */
function yamlNumber(n: number): string {
  if (!Number.isFinite(n)) throw invalid(`cannot write ${n} into a config`)
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n)
  const plain = String(n)
  if (!plain.includes('e')) return plain
  const [mantissa, exponent] = n.toExponential().split('e') as [string, string]
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${exponent}`
}

function yamlScalar(value: string | number | boolean | null): string {
  if (value === null) return 'null'
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') return yamlNumber(value)
  return JSON.stringify(value) // a JSON string is a valid YAML double-quoted scalar
}

function yamlLines(map: { readonly [key: string]: YamlValue }, indent = ''): string[] {
  const lines: string[] = []
  for (const [key, value] of Object.entries(map)) {
    if (Array.isArray(value)) {
      if (value.length === 0) {
        lines.push(`${indent}${key}: []`)
        continue
      }
      lines.push(`${indent}${key}:`)
      for (const item of value as readonly YamlValue[]) {
        if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
          const inner = yamlLines(item as { readonly [key: string]: YamlValue }, `${indent}    `)
          lines.push(`${indent}  - ${inner[0]!.trimStart()}`, ...inner.slice(1))
        } else if (Array.isArray(item)) throw invalid('nested YAML lists are not written')
        else lines.push(`${indent}  - ${yamlScalar(item as string | number | boolean | null)}`)
      }
    } else if (typeof value === 'object' && value !== null) {
      lines.push(`${indent}${key}:`, ...yamlLines(value as { readonly [key: string]: YamlValue }, `${indent}  `))
    } else lines.push(`${indent}${key}: ${yamlScalar(value as string | number | boolean | null)}`)
  }
  return lines
}

/** A YAML file of commented sections. */
function yamlFile(header: string, sections: readonly [comment: string, body: { readonly [key: string]: YamlValue }][]): string {
  const out = header.split('\n').map((line) => `# ${line}`.trimEnd())
  for (const [comment, body] of sections) out.push('', `# ${comment}`, ...yamlLines(body))
  return `${out.join('\n')}\n`
}

// ---------------------------------------------------------------------------------------------------------------
// The configs.

const AXOLOTL_OUTPUT = 'outputs/axolotl'
const LLAMAFACTORY_OUTPUT = 'outputs/llamafactory'
const ACCELERATE_OUTPUT = 'outputs/accelerate'
const LLAMAFACTORY_DATASET = 'lectern_train'

function deepspeedJson(stage: 2 | 3): string {
  const zero: Record<string, unknown> = { stage, overlap_comm: true, contiguous_gradients: true, reduce_bucket_size: 'auto' }
  if (stage === 3) {
    zero['stage3_prefetch_bucket_size'] = 'auto'
    zero['stage3_param_persistence_threshold'] = 'auto'
    // Gathers the sharded weights when the adapter is saved, so adapter_model.safetensors is whole.
    zero['stage3_gather_16bit_weights_on_model_save'] = true
  }
  const json = {
    bf16: { enabled: 'auto' },
    zero_optimization: zero,
    train_micro_batch_size_per_gpu: 'auto',
    train_batch_size: 'auto',
    gradient_accumulation_steps: 'auto',
    gradient_clipping: 'auto',
    steps_per_print: 100,
    wall_clock_breakdown: false,
  }
  return `${JSON.stringify(json, null, 2)}\n`
}

function accelerateYaml(launcher: 'accelerate-deepspeed' | 'accelerate-fsdp', stage: 2 | 3, nodes: number, gpusPerNode: number): string {
  const common = { compute_environment: 'LOCAL_MACHINE', machine_rank: 0, main_training_function: 'main', num_machines: nodes, num_processes: nodes * gpusPerNode, rdzv_backend: 'static', same_network: true, use_cpu: false }
  if (launcher === 'accelerate-deepspeed') {
    return yamlFile('accelerate config: DeepSpeed ZeRO-' + String(stage) + ' from deepspeed.json (written by Lectern).\nmachine_rank is overridden per node on the command line (see README.md).', [
      ['Mixed precision and batch sizes come from deepspeed.json, which train.py fills through the Trainer.', {
        distributed_type: 'DEEPSPEED',
        deepspeed_config: { deepspeed_config_file: BUNDLE_FILES.deepspeed, deepspeed_multinode_launcher: 'standard', zero3_init_flag: stage === 3 },
      }],
      ['Machines and processes.', common],
    ])
  }
  return yamlFile('accelerate config: PyTorch FSDP, full sharding (written by Lectern).\nmachine_rank is overridden per node on the command line (see README.md).', [
    ['Each decoder layer is its own FSDP unit (the model\'s _no_split_modules); original parameters stay visible to PEFT.', {
      distributed_type: 'FSDP',
      mixed_precision: 'bf16',
      fsdp_config: {
        fsdp_auto_wrap_policy: 'TRANSFORMER_BASED_WRAP',
        fsdp_sharding_strategy: 'FULL_SHARD',
        fsdp_backward_prefetch: 'BACKWARD_PRE',
        fsdp_forward_prefetch: false,
        fsdp_offload_params: false,
        fsdp_state_dict_type: 'SHARDED_STATE_DICT',
        fsdp_cpu_ram_efficient_loading: true,
        fsdp_sync_module_states: true,
        fsdp_use_orig_params: true,
      },
    }],
    ['Machines and processes.', common],
  ])
}

function axolotlYaml(baseModelName: string, h: BundleHyperparameters, hasAdapter: boolean): string {
  return yamlFile('axolotl config (written by Lectern). Launch: axolotl train axolotl.yaml — see README.md.', [
    ['Base model and data: data/train.jsonl holds {"text"} lines, each one packed Lectern sequence.', {
      base_model: baseModelName,
      datasets: [{ path: BUNDLE_FILES.train, ds_type: 'json', type: 'completion', field: 'text' }],
      dataset_prepared_path: 'outputs/axolotl-prepared',
      val_set_size: 0,
      sequence_len: h.seqLen,
      sample_packing: false,
    }],
    [hasAdapter ? 'LoRA, continuing from the exported Lectern adapter in adapter/.' : 'LoRA, a fresh adapter.', {
      adapter: 'lora',
      ...(hasAdapter ? { lora_model_dir: BUNDLE_FILES.adapterDir } : {}),
      lora_r: h.rank,
      lora_alpha: h.loraAlpha,
      lora_dropout: h.dropout,
      lora_target_modules: h.targetModules,
      ...(h.rsLora ? { peft_use_rslora: true } : {}),
    }],
    ['Optimisation, as the Lectern run was set up (micro batch is per GPU).', {
      micro_batch_size: h.microBatch,
      gradient_accumulation_steps: h.gradAccum,
      ...(h.maxSteps === null ? { num_epochs: h.epochs } : { max_steps: h.maxSteps }),
      optimizer: 'adamw_torch',
      learning_rate: h.learningRate,
      lr_scheduler: h.scheduler,
      warmup_ratio: h.warmupRatio,
      weight_decay: h.weightDecay,
      max_grad_norm: h.maxGradNorm,
      seed: h.seed,
    }],
    ['Precision, memory and output.', {
      bf16: true,
      tf32: false,
      gradient_checkpointing: true,
      deepspeed: BUNDLE_FILES.deepspeed,
      output_dir: AXOLOTL_OUTPUT,
      logging_steps: 10,
    }],
  ])
}

function llamafactoryYaml(baseModelName: string, h: BundleHyperparameters, hasAdapter: boolean): string {
  return yamlFile('LLaMA-Factory config (written by Lectern). Launch: FORCE_TORCHRUN=1 llamafactory-cli train llamafactory.yaml — see README.md.', [
    ['Model.', { model_name_or_path: baseModelName }],
    [hasAdapter ? 'Method: LoRA on plain text (stage pt), continuing from adapter/.' : 'Method: LoRA on plain text (stage pt), a fresh adapter.', {
      stage: 'pt',
      do_train: true,
      finetuning_type: 'lora',
      ...(hasAdapter ? { adapter_name_or_path: BUNDLE_FILES.adapterDir } : {}),
      lora_rank: h.rank,
      lora_alpha: h.loraAlpha,
      lora_dropout: h.dropout,
      lora_target: h.targetModules.join(','),
      ...(h.rsLora ? { use_rslora: true } : {}),
    }],
    ['Data: data/dataset_info.json maps "' + LLAMAFACTORY_DATASET + '" to data/train.jsonl and its "text" field.', {
      dataset: LLAMAFACTORY_DATASET,
      dataset_dir: dirname(BUNDLE_FILES.train),
      cutoff_len: h.seqLen,
    }],
    ['Optimisation, as the Lectern run was set up (batch size is per GPU).', {
      per_device_train_batch_size: h.microBatch,
      gradient_accumulation_steps: h.gradAccum,
      ...(h.maxSteps === null ? { num_train_epochs: h.epochs } : { max_steps: h.maxSteps }),
      optim: 'adamw_torch',
      learning_rate: h.learningRate,
      lr_scheduler_type: h.scheduler,
      warmup_ratio: h.warmupRatio,
      weight_decay: h.weightDecay,
      max_grad_norm: h.maxGradNorm,
      seed: h.seed,
    }],
    ['Precision, memory and output.', {
      bf16: true,
      disable_gradient_checkpointing: false,
      deepspeed: BUNDLE_FILES.deepspeed,
      output_dir: LLAMAFACTORY_OUTPUT,
      logging_steps: 10,
      save_steps: 500,
      report_to: 'none',
    }],
  ])
}

function llamafactoryDatasetInfo(): string {
  return `${JSON.stringify({ [LLAMAFACTORY_DATASET]: { file_name: basename(BUNDLE_FILES.train), columns: { prompt: 'text' } } }, null, 2)}\n`
}

/** What train.py reads: the hyperparameters under transformers' names, plus paths. */
function trainSettingsJson(baseModelName: string, h: BundleHyperparameters, hasAdapter: boolean): string {
  const json = {
    base_model: baseModelName,
    method: h.method,
    train_file: BUNDLE_FILES.train,
    heldout_file: BUNDLE_FILES.heldOut,
    adapter_dir: hasAdapter ? BUNDLE_FILES.adapterDir : null,
    peft_config: BUNDLE_FILES.peftConfig,
    output_dir: ACCELERATE_OUTPUT,
    max_length: h.seqLen,
    per_device_train_batch_size: h.microBatch,
    gradient_accumulation_steps: h.gradAccum,
    num_train_epochs: h.epochs,
    max_steps: h.maxSteps ?? -1,
    learning_rate: h.learningRate,
    lr_scheduler_type: h.scheduler,
    warmup_ratio: h.warmupRatio,
    weight_decay: h.weightDecay,
    max_grad_norm: h.maxGradNorm,
    seed: h.seed,
  }
  return `${JSON.stringify(json, null, 2)}\n`
}

const TRAIN_PY = `"""Continue (or start) a Lectern adapter on a cluster with transformers + PEFT.

Written by Lectern. Launch it with accelerate (see README.md); every setting is read from train_settings.json,
and the adapter from adapter/ (a PEFT folder) or, without one, from peft_config.json.

MoRA adapters (peft_config.json has "use_mora": true) need the PEFT of the MoRA reference fork
(github.com/kongds/MoRA, folder peft-mora); upstream PEFT does not know use_mora / mora_type.
"""
import argparse
import json
import math
import os

import torch
from torch.utils.data import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

import peft
from peft import LoraConfig, PeftModel, get_peft_model

IGNORE = -100


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def render(tokenizer, messages):
    """A conversation as text: the model's chat template, or Lectern's plain 'role: content' blocks."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False)
    return "\\n\\n".join(f"{m['role']}: {m['content']}" for m in messages)


def encode(tokenizer, example, max_length):
    """Token ids and labels. Text lines train every token; conversations train the assistant turns only."""
    if "text" in example:
        ids = tokenizer(example["text"], add_special_tokens=True)["input_ids"]
        if tokenizer.eos_token_id is not None:
            ids = ids + [tokenizer.eos_token_id]
        ids = ids[:max_length]
        return ids, list(ids)
    messages = example["messages"]
    ids, labels, done = [], [], ""
    for i in range(len(messages)):
        text = render(tokenizer, messages[: i + 1])
        # Each turn adds the text between the previous rendering and this one.
        piece = text[len(done):] if text.startswith(done) else text
        piece_ids = tokenizer(piece, add_special_tokens=(i == 0))["input_ids"]
        ids += piece_ids
        labels += piece_ids if messages[i]["role"] == "assistant" else [IGNORE] * len(piece_ids)
        done = text
    return ids[:max_length], labels[:max_length]


class JsonlDataset(Dataset):
    def __init__(self, path, tokenizer, max_length):
        self.rows = [encode(tokenizer, row, max_length) for row in read_jsonl(path)]
        self.rows = [row for row in self.rows if any(label != IGNORE for label in row[1])]

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        ids, labels = self.rows[index]
        return {"input_ids": ids, "labels": labels}


def collate(pad_id):
    def pad(batch):
        width = max(len(item["input_ids"]) for item in batch)
        ids = [item["input_ids"] + [pad_id] * (width - len(item["input_ids"])) for item in batch]
        labels = [item["labels"] + [IGNORE] * (width - len(item["labels"])) for item in batch]
        mask = [[1] * len(item["input_ids"]) + [0] * (width - len(item["input_ids"])) for item in batch]
        return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}

    return pad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="train_settings.json")
    args = parser.parse_args()
    with open(args.settings, encoding="utf-8") as handle:
        s = json.load(handle)
    with open(s["peft_config"], encoding="utf-8") as handle:
        adapter = json.load(handle)
    if adapter.get("use_mora") and "use_mora" not in LoraConfig.__dataclass_fields__:
        raise SystemExit(f"This is a MoRA adapter, but the installed peft ({peft.__version__}) is not the MoRA fork; "
                         "install it with: pip install -e MoRA/peft-mora (see README.md)")

    # The Trainer's arguments come first: under DeepSpeed ZeRO-3 they must exist before the model is loaded.
    training_args = TrainingArguments(
        output_dir=s["output_dir"],
        per_device_train_batch_size=s["per_device_train_batch_size"],
        per_device_eval_batch_size=s["per_device_train_batch_size"],
        gradient_accumulation_steps=s["gradient_accumulation_steps"],
        num_train_epochs=s["num_train_epochs"],
        max_steps=s["max_steps"],
        learning_rate=s["learning_rate"],
        lr_scheduler_type=s["lr_scheduler_type"],
        warmup_ratio=s["warmup_ratio"],
        weight_decay=s["weight_decay"],
        max_grad_norm=s["max_grad_norm"],
        seed=s["seed"],
        optim="adamw_torch",
        bf16=True,
        gradient_checkpointing=True,
        gradient_checkpointing_kwargs={"use_reentrant": False},
        logging_steps=10,
        save_strategy="steps",
        save_steps=500,
        report_to="none",
        remove_unused_columns=False,
        ddp_find_unused_parameters=False,
    )

    tokenizer = AutoTokenizer.from_pretrained(s["base_model"])
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(s["base_model"], torch_dtype=torch.bfloat16)
    model.config.use_cache = False
    model.enable_input_require_grads()

    if s["adapter_dir"]:
        model = PeftModel.from_pretrained(model, s["adapter_dir"], is_trainable=True)
    else:
        options = dict(r=adapter["r"], lora_alpha=adapter["lora_alpha"], lora_dropout=adapter["lora_dropout"],
                       target_modules=adapter["target_modules"], use_rslora=adapter["use_rslora"], bias="none",
                       task_type="CAUSAL_LM")
        if adapter.get("use_mora"):
            options.update(use_mora=True, mora_type=adapter["mora_type"])
        model = get_peft_model(model, LoraConfig(**options))
    model.print_trainable_parameters()

    train = JsonlDataset(s["train_file"], tokenizer, s["max_length"])
    heldout = JsonlDataset(s["heldout_file"], tokenizer, s["max_length"]) if os.path.exists(s["heldout_file"]) else None
    trainer = Trainer(model=model, args=training_args, train_dataset=train, eval_dataset=heldout,
                      data_collator=collate(tokenizer.pad_token_id))
    trainer.train()
    if trainer.is_fsdp_enabled:
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    final_dir = os.path.join(s["output_dir"], "final")
    trainer.save_model(final_dir)
    if heldout is not None and len(heldout) > 0:
        loss = trainer.evaluate()["eval_loss"]
        if trainer.is_world_process_zero():
            print(f"held-out loss {loss:.4f}, perplexity {math.exp(min(loss, 50)):.2f}")
    if trainer.is_world_process_zero():
        print(f"adapter saved to {final_dir}")


if __name__ == "__main__":
    main()
`

// ---------------------------------------------------------------------------------------------------------------
// README.

interface ReadmeInput {
  baseModelName: string
  launcher: ClusterLauncher
  h: BundleHyperparameters
  hasAdapter: boolean
  runName: string | null
  format: ExportFormat
  zeroStage: 2 | 3
  nodes: number
  gpusPerNode: number
  trainLines: number
  heldOutLines: number
  files: string[]
  notes: string[]
}

const MORA_INSTALL = ['git clone https://github.com/kongds/MoRA.git', 'pip install -e MoRA/peft-mora']

function launchCommands(r: ReadmeInput): { install: string[]; launch: string[] } {
  const peftInstall = r.h.method === 'mora' ? MORA_INSTALL : ['pip install peft']
  const multiNode = r.nodes > 1
  switch (r.launcher) {
    case 'accelerate-deepspeed':
    case 'accelerate-fsdp': {
      const extra = r.launcher === 'accelerate-deepspeed' ? ' deepspeed' : ''
      const flags = multiNode ? ' --machine_rank $NODE_RANK --main_process_ip $MASTER_ADDR --main_process_port 29500' : ''
      return {
        install: [`pip install torch transformers accelerate${extra}`, ...peftInstall],
        launch: [`accelerate launch --config_file ${BUNDLE_FILES.accelerate}${flags} ${BUNDLE_FILES.trainScript} --settings ${BUNDLE_FILES.trainSettings}`],
      }
    }
    case 'axolotl':
      return {
        install: ['pip install --no-build-isolation "axolotl[deepspeed]"'],
        // Across nodes, accelerate's own launcher flags run axolotl's training module on each node.
        launch: [
          multiNode
            ? `accelerate launch --num_machines ${r.nodes} --num_processes ${r.nodes * r.gpusPerNode} --machine_rank $NODE_RANK --main_process_ip $MASTER_ADDR --main_process_port 29500 -m axolotl.cli.train ${BUNDLE_FILES.axolotl}`
            : `axolotl train ${BUNDLE_FILES.axolotl}`,
        ],
      }
    case 'llamafactory':
      return {
        install: ['pip install "llamafactory[torch,metrics,deepspeed]"'],
        launch: [
          multiNode
            ? `FORCE_TORCHRUN=1 NNODES=${r.nodes} NODE_RANK=$NODE_RANK MASTER_ADDR=$MASTER_ADDR MASTER_PORT=29500 llamafactory-cli train ${BUNDLE_FILES.llamafactory}`
            : `FORCE_TORCHRUN=1 llamafactory-cli train ${BUNDLE_FILES.llamafactory}`,
        ],
      }
  }
}

const FILE_DESCRIPTIONS: Record<string, (r: ReadmeInput) => string> = {
  [BUNDLE_FILES.train]: (r) =>
    r.format === 'text'
      ? `the training data, ${r.trainLines} lines of {"text"}: each line is one packed Lectern sequence of at most ${r.h.seqLen} tokens (items joined by the EOS text)`
      : `the training data, ${r.trainLines} lines: conversations as {"messages"} (assistant turns trained) and plain {"text"} items (every token trained)`,
  [BUNDLE_FILES.heldOut]: (r) => `${r.heldOutLines} held-out passages ({"text", "document_id"}) that were never trained on, for perplexity checks`,
  [BUNDLE_FILES.datasetInfo]: () => `LLaMA-Factory's dataset registry: names data/train.jsonl "${LLAMAFACTORY_DATASET}" with its "text" field`,
  [BUNDLE_FILES.peftConfig]: (r) => `the adapter settings in PEFT's adapter_config.json form (${r.h.method === 'mora' ? `MoRA type ${r.h.moraType}, r ${r.h.rank}` : `LoRA r ${r.h.rank}, alpha ${r.h.loraAlpha}`}, dropout ${r.h.dropout})${r.launcher.startsWith('accelerate') ? '; train.py builds a fresh adapter from it when adapter/ is absent' : ', for reference: the launcher\'s YAML states the same values in its own naming'}`,
  [`${BUNDLE_FILES.adapterDir}/adapter_config.json`]: () => 'the exported adapter\'s PEFT config',
  [`${BUNDLE_FILES.adapterDir}/adapter_model.safetensors`]: (r) => `the trained adapter${r.runName === null ? '' : ` of run ${r.runName}`}, as PEFT tensors; training continues from it`,
  [BUNDLE_FILES.trainSettings]: () => 'the run\'s hyperparameters under transformers\' names, read by train.py',
  [BUNDLE_FILES.trainScript]: (r) => `a short transformers + PEFT training script${r.h.method === 'mora' ? ' (MoRA through the fork\'s use_mora / mora_type)' : ''}`,
  [BUNDLE_FILES.accelerate]: (r) => r.launcher === 'accelerate-fsdp' ? `accelerate config for FSDP (full sharding), ${r.nodes} node(s) × ${r.gpusPerNode} GPUs` : `accelerate config for DeepSpeed ZeRO-${r.zeroStage}, ${r.nodes} node(s) × ${r.gpusPerNode} GPUs`,
  [BUNDLE_FILES.deepspeed]: (r) => `DeepSpeed ZeRO-${r.zeroStage} settings; "auto" values are filled from the trainer's own arguments`,
  [BUNDLE_FILES.axolotl]: () => 'the axolotl config',
  [BUNDLE_FILES.llamafactory]: () => 'the LLaMA-Factory config',
  [BUNDLE_FILES.readme]: () => 'this file',
}

function readmeText(r: ReadmeInput): string {
  const { h } = r
  const { install, launch } = launchCommands(r)
  const global = h.microBatch * h.gradAccum
  const lines = [
    '# Lectern cluster bundle',
    '',
    `Training ${h.method === 'mora' ? `a MoRA adapter (type ${h.moraType}, r ${h.rank})` : `a LoRA adapter (r ${h.rank}, alpha ${h.loraAlpha})`} on \`${r.baseModelName}\` with ${launcherName(r.launcher)}, ` +
      (r.hasAdapter ? `continuing from ${r.runName === null ? 'the exported adapter' : `Lectern run \`${r.runName}\``}.` : 'starting from a fresh adapter.'),
    '',
    '## Files',
    '',
    ...r.files.map((file) => `- \`${file}\`: ${FILE_DESCRIPTIONS[file]?.(r) ?? 'written by Lectern'}`),
    '',
    '## Install',
    '',
    'Run these on every node, in one Python environment with a CUDA build of PyTorch:',
    '',
    '```bash',
    ...install,
    '```',
    '',
  ]
  if (h.method === 'mora') {
    lines.push(
      'MoRA is not in upstream PEFT: the adapter needs the PEFT of the MoRA reference fork, installed from its repository as above. ' +
        'If upstream `peft` is installed already, the editable install replaces it. axolotl and LLaMA-Factory do not support MoRA ' +
        '(they pass their own LoRA options to upstream PEFT), so this bundle has only the accelerate path.',
      '',
    )
  }
  lines.push(
    '## Launch',
    '',
    `From this folder${r.nodes > 1 ? `, on each of the ${r.nodes} nodes (NODE_RANK 0 … ${r.nodes - 1}, MASTER_ADDR the address of node 0)` : ''}:`,
    '',
    '```bash',
    ...launch,
    '```',
    '',
    '## Settings',
    '',
    `Carried over from the Lectern ${r.runName === null ? 'settings' : 'run'}: learning rate ${h.learningRate}, ${h.scheduler} schedule with ${h.warmupRatio} warmup, ` +
      `${h.maxSteps === null ? `${h.epochs} epoch(s)` : `${h.maxSteps} steps`}, sequence length ${h.seqLen}, micro batch ${h.microBatch} × ${h.gradAccum} accumulation, ` +
      `dropout ${h.dropout}, weight decay ${h.weightDecay}, gradient clipping ${h.maxGradNorm}, seed ${h.seed}, targets ${h.targetModules.join(', ')}. ` +
      'Training runs in bf16 with gradient checkpointing.',
    '',
    `The micro batch is per GPU: with ${r.nodes * r.gpusPerNode} GPUs one optimizer step sees ${global * r.nodes * r.gpusPerNode} sequences instead of Lectern's ${global}. ` +
      'To keep the run\'s global batch, divide the gradient accumulation by the GPU count (and keep the learning rate), or scale the learning rate if you keep the larger batch.',
    '',
  )
  if (r.notes.length > 0) lines.push('## Notes', '', ...r.notes.map((note) => `- ${note}`), '')
  return `${lines.join('\n')}`
}

function launcherName(launcher: ClusterLauncher): string {
  switch (launcher) {
    case 'accelerate-deepspeed':
      return 'accelerate + DeepSpeed'
    case 'accelerate-fsdp':
      return 'accelerate + FSDP'
    case 'axolotl':
      return 'axolotl'
    case 'llamafactory':
      return 'LLaMA-Factory'
  }
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Writes a cluster bundle (see the file comment) into `outDir`. Everything is written into a temporary sibling
 * folder first, which is renamed to `outDir` only once complete, so a failure leaves no partial bundle.
 * Refused: MoRA with axolotl or LLaMA-Factory (neither supports it), the chat export with either of them (their
 * one dataset type cannot read mixed text and conversation lines), an existing non-empty `outDir`, a project
 * without a built dataset, and a run without an adapter.
 */
export async function writeClusterBundle(options: ClusterBundleOptions): Promise<ClusterBundleResult> {
  const { projectDir, runDir, baseModelName, outDir, launcher, format = 'text', zeroStage = 2, nodes = 1, gpusPerNode = 8 } = options
  if (!(CLUSTER_LAUNCHERS as readonly string[]).includes(launcher)) throw invalid(`Unknown launcher "${String(launcher)}"; expected one of ${CLUSTER_LAUNCHERS.join(', ')}`)
  if (baseModelName.trim() === '') throw invalid('The base model name is empty; give the Hugging Face id or path the cluster loads it from')
  if (format !== 'text' && format !== 'chat') throw invalid(`Unknown export format "${String(format)}"; expected "text" or "chat"`)
  if (zeroStage !== 2 && zeroStage !== 3) throw invalid(`The DeepSpeed ZeRO stage must be 2 or 3, not ${String(zeroStage)}`)
  for (const [name, value] of [['nodes', nodes], ['gpusPerNode', gpusPerNode]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw invalid(`${name} must be a whole number of at least 1, not ${value}`)
  }

  const settings = runDir === null
    ? resolveTrainSettings(parseFreshSettings(options.settings, baseModelName), projectDir)
    : await readRunSettings(runDir, projectDir)
  const h = bundleHyperparameters(settings)
  const usesFramework = launcher === 'axolotl' || launcher === 'llamafactory'
  if (h.method === 'mora' && usesFramework) {
    throw invalid(`${launcherName(launcher)} does not support MoRA adapters (only upstream PEFT's LoRA); use the accelerate-deepspeed or accelerate-fsdp launcher, which trains MoRA with the MoRA fork's PEFT`)
  }
  if (format === 'chat' && usesFramework) {
    throw invalid(`The chat export mixes {"messages"} and {"text"} lines, which one ${launcherName(launcher)} dataset cannot read; use the text format with ${launcherName(launcher)}, or an accelerate launcher for chat`)
  }

  const datasetDir = dirname(join(projectDir, PROJECT_TRAINING_DATA))
  const adapterFile = runDir === null ? null : join(runDir, ADAPTER_FILE)
  if (adapterFile !== null && !(await exists(adapterFile))) throw new LecternError('not_found', `${adapterFile}: the run has no trained adapter yet; finish (or stop) the run first, or bundle without a run`, { file: adapterFile })
  if (await exists(outDir)) {
    const entries = await readdir(outDir).catch(() => null)
    if (entries === null || entries.length > 0) throw invalid(`${outDir} already exists and is not an empty folder; choose a new folder for the bundle`, outDir)
  }

  const parent = dirname(outDir)
  await mkdir(parent, { recursive: true })
  const temporary = join(parent, `.${basename(outDir)}.partial-${process.pid}-${Date.now().toString(36)}`)
  try {
    await mkdir(join(temporary, dirname(BUNDLE_FILES.train)), { recursive: true })
    const files: string[] = []
    const put = async (relative: string, text: string): Promise<void> => {
      await mkdir(dirname(join(temporary, relative)), { recursive: true })
      await writeFile(join(temporary, relative), text)
      files.push(relative)
    }

    const { lines: trainLines } = await exportDataset(datasetDir, join(temporary, BUNDLE_FILES.train), format)
    files.push(BUNDLE_FILES.train)
    await copyFile(join(datasetDir, DATASET_FILES.heldOut), join(temporary, BUNDLE_FILES.heldOut)).catch((error: Error) => {
      throw new LecternError('io', `${join(datasetDir, DATASET_FILES.heldOut)}: cannot copy the held-out data (${error.message})`, { file: datasetDir, cause: error })
    })
    files.push(BUNDLE_FILES.heldOut)
    const heldOutLines = (await readFile(join(temporary, BUNDLE_FILES.heldOut), 'utf8')).split('\n').filter((line) => line.trim() !== '').length

    const adapterConfig = { method: h.method, rank: h.rank, moraType: h.moraType, targets: settings.targets, loraAlpha: h.loraAlpha, rsLora: h.rsLora, dropout: h.dropout }
    if (adapterFile !== null) {
      const exported = await exportPeftAdapter(adapterFile, join(temporary, BUNDLE_FILES.adapterDir), { baseModelName, dropout: h.dropout })
      checkAdapterMatches(exported.config, h, adapterFile)
      files.push(`${BUNDLE_FILES.adapterDir}/adapter_config.json`, `${BUNDLE_FILES.adapterDir}/adapter_model.safetensors`)
    }
    const peftJson = { ...peftAdapterConfig(adapterConfig, { baseModelName, dropout: h.dropout }), inference_mode: false }
    await put(BUNDLE_FILES.peftConfig, `${JSON.stringify(peftJson, null, 2)}\n`)

    const hasAdapter = adapterFile !== null
    if (launcher === 'accelerate-deepspeed' || launcher === 'accelerate-fsdp') {
      await put(BUNDLE_FILES.accelerate, accelerateYaml(launcher, zeroStage, nodes, gpusPerNode))
      await put(BUNDLE_FILES.trainSettings, trainSettingsJson(baseModelName, h, hasAdapter))
      await put(BUNDLE_FILES.trainScript, TRAIN_PY)
    }
    if (launcher !== 'accelerate-fsdp') await put(BUNDLE_FILES.deepspeed, deepspeedJson(zeroStage))
    if (launcher === 'axolotl') await put(BUNDLE_FILES.axolotl, axolotlYaml(baseModelName, h, hasAdapter))
    if (launcher === 'llamafactory') {
      await put(BUNDLE_FILES.llamafactory, llamafactoryYaml(baseModelName, h, hasAdapter))
      await put(BUNDLE_FILES.datasetInfo, llamafactoryDatasetInfo())
    }

    const notes: string[] = []
    if (!settings.usesProjectDataset) notes.push(`The Lectern run trained on ${settings.data}; this bundle carries the project's built dataset instead.`)
    if (launcher === 'llamafactory') notes.push('LLaMA-Factory\'s pt stage appends EOS to each line and cuts the concatenated text into cutoff_len blocks; lines already hold one Lectern sequence each.')
    if (h.method === 'mora') notes.push('Under the MoRA fork, lora_alpha and use_rslora are ignored: MoRA applies its square matrix unscaled.')
    files.push(BUNDLE_FILES.readme)
    files.sort()
    const readmeInput: ReadmeInput = { baseModelName, launcher, h, hasAdapter, runName: runDir === null ? null : basename(runDir), format, zeroStage, nodes, gpusPerNode, trainLines, heldOutLines, files, notes }
    await writeFile(join(temporary, BUNDLE_FILES.readme), readmeText(readmeInput))

    await rm(outDir, { recursive: true, force: true }) // only an empty folder can be here (checked above)
    await rename(temporary, outDir)
    const { install, launch } = launchCommands(readmeInput)
    return { outDir, files, hyperparameters: h, commands: [...install, ...launch], trainLines }
  } catch (error) {
    await rm(temporary, { recursive: true, force: true })
    if (error instanceof LecternError) throw error
    throw new LecternError('io', `${outDir}: cannot write the cluster bundle (${(error as Error).message})`, { file: outDir, cause: error })
  }
}

function parseFreshSettings(input: Omit<TrainParamsInput, 'base'> | undefined, baseModelName: string) {
  const parsed = trainParamsSchema.safeParse({ ...input, base: baseModelName, data: null })
  if (!parsed.success) throw invalid(`The bundle's training settings are not valid (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`)
  return parsed.data
}

/** The adapter file records its own method, rank and targets; they must be the run's. */
function checkAdapterMatches(config: PeftAdapterConfigJson, h: BundleHyperparameters, file: string): void {
  const method = config.use_mora === true ? 'mora' : 'lora'
  const same = method === h.method && config.r === h.rank && config.target_modules.join(',') === h.targetModules.join(',') && (method === 'lora' || config.mora_type === h.moraType)
  if (!same) {
    throw invalid(`${file}: the adapter (${method}, r ${config.r}, ${config.target_modules.join(',')}) does not match the run's settings (${h.method}, r ${h.rank}, ${h.targetModules.join(',')})`, file)
  }
}
