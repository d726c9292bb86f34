import type { ComprehensionTotals, DatasetSummary } from '../../../../src-main/shared/types/comprehension'
import type { CorpusTotals } from '../../../../src-main/shared/types/corpus'
import type { EvalReport, ExportInfo, ExportType, TrainRunInfo } from '../../../../src-main/shared/types/export'
import type { JobRequest } from '../../../../src-main/shared/types/jobs'
import { integerIn, MAX_PATH_CHARS } from '../../components/numberFields'
import { describeRun, EXPORT_TYPES, joinPath, TYPE_LABELS } from '../Export/exportOptions'
import type { StepId } from '../Steps/steps'

/**
 * What each step of the project produced so far, which steps "Run all remaining steps" still has to run, and the
 * job requests for them. Parameters not asked for keep the schemas' defaults (src-main/shared/types/*), which the
 * renderer does not import because they bundle zod; test/renderer/screens/Pipeline/pipelinePlan.test.ts runs the
 * requests built here through jobRequestSchema and pipelineRequestSchema.
 */

export type StageId = 'import' | 'comprehension' | 'dataset' | 'train' | 'evaluate' | 'export'

/** Everything the overview shows, read from the project's existing APIs. */
export interface PipelineFacts {
  corpus: CorpusTotals | null
  comprehension: ComprehensionTotals | null
  dataset: DatasetSummary | null
  /** Newest first, as `listRuns` returns them. */
  runs: readonly TrainRunInfo[]
  /** The newest evaluation of the newest finished run. */
  evaluation: EvalReport | null
  /** Newest first, as `listExports` returns them. */
  exports: readonly ExportInfo[]
}

export const NO_FACTS: PipelineFacts = { corpus: null, comprehension: null, dataset: null, runs: [], evaluation: null, exports: [] }

export interface StageInfo {
  id: StageId
  title: string
  /** The step screen that shows (and runs) this stage. */
  screen: StepId
  /** The stages whose output this one reads: when one of them runs again, this one must too. */
  needs: readonly StageId[]
}

export const STAGES: readonly StageInfo[] = [
  { id: 'import', title: 'Import', screen: 'import', needs: [] },
  { id: 'comprehension', title: 'Comprehension', screen: 'comprehension', needs: ['import'] },
  { id: 'dataset', title: 'Dataset', screen: 'comprehension', needs: ['comprehension'] },
  { id: 'train', title: 'Train', screen: 'train', needs: ['dataset'] },
  { id: 'evaluate', title: 'Evaluate', screen: 'evaluate', needs: ['train'] },
  { id: 'export', title: 'Export', screen: 'export', needs: ['train'] },
]

export interface StageStatus extends StageInfo {
  done: boolean
  /** What the stage produced, or what is missing. */
  summary: string
}

/** The newest run whose training finished: the one evaluation and export use (`run: 'latest'`). */
export function latestFinishedRun(runs: readonly TrainRunInfo[]): TrainRunInfo | null {
  return runs.find((run) => run.state === 'succeeded') ?? null
}

export const count = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`

export function describeEvaluation(report: EvalReport): string {
  const parts: string[] = [`${report.runId} at ${report.type.toUpperCase()}`]
  const { base, adapted } = report
  if (base.heldOutPerplexity !== null && adapted.heldOutPerplexity !== null) parts.push(`held-out perplexity ${base.heldOutPerplexity.toFixed(2)} → ${adapted.heldOutPerplexity.toFixed(2)}`)
  if (base.qaAccuracy !== null && adapted.qaAccuracy !== null) parts.push(`QA accuracy ${(base.qaAccuracy * 100).toFixed(1)}% → ${(adapted.qaAccuracy * 100).toFixed(1)}%`)
  return parts.join(' · ')
}

export function describeExport(info: ExportInfo): string {
  const what = `${info.format === 'gguf' ? 'GGUF' : info.format}${info.type === null ? '' : ` ${info.type.toUpperCase()}`}`
  return `${what}, verified: ${info.path}`
}

/** Each stage, whether it is done and what it produced. */
export function stageStatuses(facts: PipelineFacts): StageStatus[] {
  const run = latestFinishedRun(facts.runs)
  const verified = run === null ? undefined : facts.exports.find((e) => e.runId === run.runId && e.status === 'verified')
  return STAGES.map((stage): StageStatus => {
    switch (stage.id) {
      case 'import': {
        const corpus = facts.corpus
        const done = corpus !== null && corpus.activeChunks > 0
        return {
          ...stage,
          done,
          summary: done ? `${count(corpus.documents, 'document')}, ${count(corpus.activeChunks, 'chunk')} (${count(corpus.activeTokens, 'token')})` : 'No documents imported yet',
        }
      }
      case 'comprehension': {
        const totals = facts.comprehension
        const done = totals !== null && (totals.rcChunks > 0 || totals.acceptedPairs > 0)
        const parts = totals === null ? [] : [`${count(totals.rcTasks, 'comprehension task')} mined from ${count(totals.rcChunks, 'chunk')}`, `${count(totals.acceptedPairs, 'question–answer pair')} accepted`]
        return { ...stage, done, summary: done ? parts.join(', ') : 'No comprehension data yet' }
      }
      case 'dataset': {
        const dataset = facts.dataset
        return dataset === null
          ? { ...stage, done: false, summary: 'No dataset built yet' }
          : { ...stage, done: true, summary: `${count(dataset.sequences, 'sequence')} of ${dataset.seqLen} tokens (${count(dataset.tokens.total, 'token')})` }
      }
      case 'train': {
        if (run !== null) return { ...stage, done: true, summary: `${run.runId}: ${describeRun(run)}` }
        const active = facts.runs.find((r) => r.state === 'running' || r.state === 'queued')
        return { ...stage, done: false, summary: active ? `${active.runId} is training` : 'No finished training run yet' }
      }
      case 'evaluate':
        return facts.evaluation === null ? { ...stage, done: false, summary: run === null ? 'Nothing to evaluate yet' : `${run.runId} not evaluated yet` } : { ...stage, done: true, summary: describeEvaluation(facts.evaluation) }
      case 'export':
        return verified === undefined ? { ...stage, done: false, summary: run === null ? 'Nothing to export yet' : `${run.runId} not exported yet` } : { ...stage, done: true, summary: describeExport(verified) }
    }
  })
}

/**
 * The stages "Run all remaining steps" runs: those not done, and those after a stage that runs again (a new
 * comprehension run means a new dataset, a new dataset a new training run, and so on). Import is never among
 * them: what to import cannot be defaulted, so the chain needs an imported corpus.
 */
export function remainingStages(statuses: readonly StageStatus[]): StageId[] {
  const runs = new Set<StageId>()
  for (const stage of statuses) {
    if (!stage.done || stage.needs.some((need) => runs.has(need))) runs.add(stage.id)
  }
  return statuses.map((s) => s.id).filter((id) => runs.has(id))
}

/** The "Run all remaining steps" form: only what cannot be defaulted. */
export interface PipelineForm {
  /** The base model to train: a .gguf file or a Hugging Face folder. */
  base: string
  /** An instruct GGUF that writes question–answer pairs; empty: mine comprehension tasks with rules (regex). */
  generator: string
  /** Optimizer steps; empty: one epoch over the dataset. */
  trainSteps: string
  exportType: ExportType
  /** The folder the GGUF goes into. */
  exportFolder: string
}

export const EMPTY_PIPELINE_FORM: PipelineForm = { base: '', generator: '', trainSteps: '', exportType: 'q8_0', exportFolder: '' }

export type PipelineFormErrors = Partial<Record<keyof PipelineForm | 'chain', string>>

/** GGUF export types, as the Export screen offers them. */
export const PIPELINE_EXPORT_TYPES: readonly ExportType[] = EXPORT_TYPES
export { TYPE_LABELS }

/** `contracts-q8_0-20261129-1415.gguf`: the run is not known yet, and the file must not exist, so the time names it. */
export function pipelineExportName(projectName: string, type: ExportType, nowMs: number): string {
  const slug = projectName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'model'
  const d = new Date(nowMs)
  const two = (n: number): string => String(n).padStart(2, '0')
  const stamp = `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`
  return `${slug}-${type}-${stamp}.gguf`
}

export interface PipelinePlan {
  /** The stages that will run, in order. */
  stages: StageId[]
  /** The job requests, one or more per stage; null when the form has errors or nothing remains. */
  steps: JobRequest[] | null
  errors: PipelineFormErrors
}

/**
 * The job requests for the remaining stages. Evaluation and export name the run `latest`: the run the chain's
 * training step finishes is the newest finished one when they start.
 */
export function buildPipeline(form: PipelineForm, facts: PipelineFacts, context: { projectName: string; nowMs: number }): PipelinePlan {
  const statuses = stageStatuses(facts)
  const stages = remainingStages(statuses)
  const errors: PipelineFormErrors = {}
  if (stages.includes('import')) errors.chain = 'Import documents first: the chain starts from an imported corpus'
  else if (stages.length === 0) errors.chain = 'Every step is done'

  const base = form.base.trim()
  const generator = form.generator.trim()
  const folder = form.exportFolder.trim()
  if (stages.includes('train')) {
    if (base === '') errors.base = 'Choose the base model to train'
    else if (base.length > MAX_PATH_CHARS) errors.base = `The path is longer than ${MAX_PATH_CHARS} characters`
  }
  if (stages.includes('comprehension') && generator.length > MAX_PATH_CHARS) errors.generator = `The path is longer than ${MAX_PATH_CHARS} characters`
  const trainSteps = integerIn(form.trainSteps, 1, 10_000_000, 'Training steps')
  if (stages.includes('train') && trainSteps.error) errors.trainSteps = trainSteps.error
  if (stages.includes('export')) {
    if (!PIPELINE_EXPORT_TYPES.includes(form.exportType)) errors.exportType = `Choose one of ${PIPELINE_EXPORT_TYPES.join(', ')}`
    if (folder === '') errors.exportFolder = 'Choose the folder the GGUF goes into'
  }
  const out = folder === '' ? '' : joinPath(folder, pipelineExportName(context.projectName, form.exportType, context.nowMs))
  if (stages.includes('export') && out.length > MAX_PATH_CHARS) errors.exportFolder = `The path is longer than ${MAX_PATH_CHARS} characters`
  if (Object.keys(errors).length > 0) return { stages, steps: null, errors }

  const steps: JobRequest[] = []
  for (const stage of stages) {
    if (stage === 'comprehension') steps.push(generator === '' ? { kind: 'comprehend', params: { mode: 'regex' } } : { kind: 'comprehend', params: { mode: 'llm', generator } })
    else if (stage === 'dataset') steps.push({ kind: 'dataset', params: {} })
    else if (stage === 'train') steps.push({ kind: 'train', params: { base, ...(trainSteps.value === undefined ? {} : { steps: trainSteps.value }) } })
    else if (stage === 'evaluate') steps.push({ kind: 'eval', params: { run: 'latest' } })
    else if (stage === 'export') steps.push({ kind: 'export', params: { run: 'latest', format: 'gguf', type: form.exportType, out } })
  }
  return { stages, steps, errors }
}
