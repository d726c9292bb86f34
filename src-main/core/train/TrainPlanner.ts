import { stat } from 'node:fs/promises'
import { LecternError } from '../../shared/errors.js'
import type { TrainParams } from '../../shared/types/train.js'
import type { TrainPlanInfo } from '../../shared/types/trainPlan.js'
import type { ModelHyperparameters } from '../model/hyperparameters.js'
import { Tokenizer } from '../model/tokenizers/Tokenizer.js'
import { openModel } from '../modelFiles/openModel.js'
import { planAdapters } from './adapters.js'
import { adapterConfigOf, planRunFit, resolveTrainSettings } from './trainRun.js'
import { packedSequenceCount, packingExtents, readTrainingJsonl, stepsPerEpoch, tokenizeExamples, type PackingExtent } from './trainingData.js'

interface CachedModel {
  hyperparameters: ModelHyperparameters
  tokenizer: Tokenizer
  name: string
}

export interface TrainPlannerOptions {
  /** Entries kept per cache (models, and the examples' token counts per data file and model). Defaults to `8`. */
  cacheSize?: number
}

/**
 * The fit check `prepareTrainRun` makes, cheap enough to run as the user edits the Train wizard: the model
 * header is read once per file version and the data tokenized once per (data file version, model), both keyed
 * by path, size and modification time, so only a changed file is read again. Only each example's token count is
 * kept (`packingExtents`): the sequences of any sequence length are counted from those. Refusals the
 * run would make for the data (no dataset yet, an unreadable file) come back as `dataProblem`, so the memory
 * estimate still shows; a model that cannot be opened, or adapter settings it cannot take, throw.
 */
export class TrainPlanner {
  private readonly models = new Map<string, Promise<CachedModel>>()
  private readonly packing = new Map<string, Promise<PackingExtent[]>>()
  private readonly cacheSize: number

  constructor({ cacheSize = 8 }: TrainPlannerOptions = {}) {
    this.cacheSize = cacheSize
  }

  async plan(projectDir: string, params: TrainParams): Promise<TrainPlanInfo> {
    const settings = resolveTrainSettings(params, projectDir)
    const modelKey = await fileKey(settings.base)
    if (modelKey === null) throw new LecternError('not_found', `${settings.base}: no such file or folder`, { file: settings.base })
    const model = await this.cached(this.models, modelKey, () => loadModel(settings.base))
    const h = model.hyperparameters
    const plan = planAdapters(h, adapterConfigOf(settings))

    let sequences: number | null = null
    let dataProblem: string | null = null
    const dataKey = await fileKey(settings.data)
    if (dataKey === null) {
      dataProblem = settings.usesProjectDataset ? 'This project has no built dataset yet; build it in the Comprehension step, or choose a .jsonl file' : `${settings.data}: no such file`
    } else {
      try {
        const extents = await this.cached(this.packing, `${dataKey}|${modelKey}`, async () => {
          const examples = await readTrainingJsonl(settings.data)
          return packingExtents(tokenizeExamples(examples.examples, model.tokenizer))
        })
        sequences = packedSequenceCount(extents, settings.seqLen)
      } catch (error) {
        dataProblem = error instanceof Error ? error.message : String(error)
      }
    }
    const perEpoch = sequences === null ? null : stepsPerEpoch(sequences, settings.batch, settings.gradAccum)
    const totalSteps = settings.steps ?? (perEpoch === null ? null : Math.max(1, Math.ceil(settings.epochs * perEpoch)))

    const { fit, availableBytes, availableKnown } = planRunFit(h, plan, settings)
    return {
      fits: fit.fits,
      estimateBytes: fit.estimateBytes,
      breakdown: { ...fit.breakdown },
      availableBytes,
      availableKnown,
      message: fit.message,
      suggestion: fit.suggestion,
      suggestedShape: fit.suggestedShape,
      trainableParameters: plan.trainableParameters,
      adapterSites: plan.sites.length,
      architecture: h.architecture,
      modelName: model.name,
      sequences,
      stepsPerEpoch: perEpoch,
      totalSteps,
      dataProblem,
      moraType: settings.moraType,
      lr: settings.lr,
    }
  }

  /** Shares one pending load between concurrent calls; a failed load is forgotten so a fixed file is read again. */
  private cached<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    let entry = cache.get(key)
    if (entry === undefined) {
      entry = load()
      entry.catch(() => cache.delete(key))
      cache.set(key, entry)
      while (cache.size > this.cacheSize) cache.delete(cache.keys().next().value!)
    }
    return entry
  }
}

/** `path|size|mtime`, or null when there is nothing at `path`. */
async function fileKey(path: string): Promise<string | null> {
  const info = await stat(path).catch(() => null)
  return info === null ? null : `${path}|${info.size}|${info.mtimeMs}`
}

async function loadModel(path: string): Promise<CachedModel> {
  const opened = await openModel(path)
  try {
    const source = opened.source
    return { hyperparameters: source.hyperparameters, tokenizer: Tokenizer.fromGguf(source.tokenizer, source.name), name: source.name }
  } finally {
    await opened.close()
  }
}
