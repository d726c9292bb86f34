import type { ClusterSummary, ComprehendSummary, DatasetSummary } from '../../../../src-main/shared/types/comprehension'
import type { ImportSummary } from '../../../../src-main/shared/types/corpus'
import type { EvalReport, ExportResult, TrainRunInfo } from '../../../../src-main/shared/types/export'
import type { JobKind } from '../../../../src-main/shared/types/jobs'
import { describeRun } from '../Export/exportOptions'
import type { StepId } from '../Steps/steps'
import { count, describeEvaluation, describeExport, STAGES, type StageId } from './pipelinePlan'

/** Where a chain step's output is shown: a link's title and the step screen it opens. */
export interface ChainStepPlace {
  title: string
  screen: StepId
}

/** The overview stage each job kind belongs to, and its own place (clusters and the dataset live on the Comprehension screen). */
const PLACE_OF_JOB_KIND: Record<JobKind, (ChainStepPlace & { stage: StageId }) | null> = {
  demo: null,
  import: { stage: 'import', title: 'Import', screen: 'import' },
  comprehend: { stage: 'comprehension', title: 'Comprehension', screen: 'comprehension' },
  cluster: { stage: 'comprehension', title: 'Clusters', screen: 'comprehension' },
  dataset: { stage: 'dataset', title: 'Dataset', screen: 'comprehension' },
  train: { stage: 'train', title: 'Train', screen: 'train' },
  eval: { stage: 'evaluate', title: 'Evaluate', screen: 'evaluate' },
  export: { stage: 'export', title: 'Export', screen: 'export' },
}

/** The screen that shows what a job of `kind` produced; null for a demo job. */
export function placeOfChainStep(kind: JobKind): ChainStepPlace | null {
  const place = PLACE_OF_JOB_KIND[kind]
  return place === null ? null : { title: place.title, screen: place.screen }
}

/**
 * Where a chain step's output is used next: the chain's following step, or after the last one the stage that reads
 * what it produced (comprehension → dataset → train → evaluate → export). Null after Export and for a demo job.
 */
export function nextOfChainStep(kinds: readonly JobKind[], index: number): ChainStepPlace | null {
  const following = kinds[index + 1]
  if (following !== undefined) return placeOfChainStep(following)
  const kind = kinds[index]
  const stage = kind === undefined ? undefined : PLACE_OF_JOB_KIND[kind]?.stage
  if (stage === undefined) return null
  const next = STAGES[STAGES.findIndex((s) => s.id === stage) + 1]
  return next === undefined ? null : { title: next.title, screen: next.screen }
}

/**
 * What one finished job produced, from its stored result (the training run is looked up by its job id among the
 * project's runs); null when it is not known.
 */
export function describeStepOutput(kind: JobKind, jobId: string, result: unknown, runs: readonly TrainRunInfo[]): string | null {
  if (kind === 'train') {
    const run = runs.find((r) => r.jobId === jobId)
    return run === undefined ? null : `${run.runId}: ${describeRun(run)}`
  }
  if (result === null || result === undefined) return null
  switch (kind) {
    case 'demo':
      return null
    case 'import': {
      const summary = result as ImportSummary
      return `${count(summary.files.added, 'new file')} and ${count(summary.files.updated, 'changed file')}: ${count(summary.documents, 'document')}, ${count(summary.chunks, 'chunk')} (${count(summary.tokens, 'token')})`
    }
    case 'comprehend': {
      const summary = result as ComprehendSummary
      return summary.mode === 'regex'
        ? `${count(summary.produced, 'comprehension task')} mined from ${count(summary.processed, 'chunk')}`
        : `${count(summary.produced, 'question–answer pair')} kept, ${summary.rejected.toLocaleString('en-US')} rejected, from ${count(summary.processed, 'chunk')}`
    }
    case 'cluster': {
      const summary = result as ClusterSummary
      return `${count(summary.clusters, 'cluster')} (${summary.multiMemberClusters.toLocaleString('en-US')} with more than one chunk, the largest ${count(summary.largestCluster, 'chunk')}), ${count(summary.embedded, 'chunk')} embedded`
    }
    case 'dataset': {
      const summary = result as DatasetSummary
      return `${count(summary.sequences, 'sequence')} of ${summary.seqLen} tokens (${count(summary.tokens.total, 'token')})`
    }
    case 'eval':
      return describeEvaluation(result as EvalReport)
    case 'export':
      return describeExport(result as ExportResult)
  }
}
