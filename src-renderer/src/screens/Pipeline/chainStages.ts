import type { JobKind } from '../../../../src-main/shared/types/jobs'
import { STEPS, type StepInfo } from '../Steps/steps'
import type { StageId, StageStatus } from './pipelinePlan'

/** The overview stage whose output a chain step's job writes; demo jobs belong to none. */
const STAGE_OF_JOB_KIND: Record<JobKind, StageId | null> = {
  demo: null,
  import: 'import',
  comprehend: 'comprehension',
  cluster: 'comprehension',
  dataset: 'dataset',
  train: 'train',
  eval: 'evaluate',
  export: 'export',
}

/** What a chain step's stage has produced (its screen and summary), or null for a kind without a stage. */
export function stageOfChainStep(kind: JobKind, statuses: readonly StageStatus[]): StageStatus | null {
  const id = STAGE_OF_JOB_KIND[kind]
  return statuses.find((stage) => stage.id === id) ?? null
}

/** The wizard step after the one that shows `stage`, where its output is used; null after Export. */
export function stepAfter(stage: StageStatus): StepInfo | null {
  return STEPS[STEPS.findIndex((step) => step.id === stage.screen) + 1] ?? null
}
