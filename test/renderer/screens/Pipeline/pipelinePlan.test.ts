import { describe, expect, it } from 'vitest'
import * as exportTypes from '../../../../src-main/shared/types/export'
import { jobRequestSchema } from '../../../../src-main/shared/types/jobs'
import { pipelineRequestSchema } from '../../../../src-main/shared/types/pipeline'
import {
  buildPipeline,
  EMPTY_PIPELINE_FORM,
  pipelineExportName,
  PIPELINE_EXPORT_TYPES,
  remainingStages,
  stageStatuses,
  type PipelineFacts,
  type PipelineForm,
} from '../../../../src-renderer/src/screens/Pipeline/pipelinePlan'
import { STEPS } from '../../../../src-renderer/src/screens/Steps/steps'
import { allDone, importedOnly, makeComprehensionTotals, makeExport, makeRun, NOW_MS } from './pipelineFixtures'

const filled: PipelineForm = { ...EMPTY_PIPELINE_FORM, base: '/models/qwen.gguf', exportFolder: '/home/me/models' }
const context = { projectName: 'Contracts (2026)', nowMs: NOW_MS }

/** The requests as the backend will parse them, so a test sees what would run. */
function parsed(facts: PipelineFacts, form: PipelineForm = filled) {
  const plan = buildPipeline(form, facts, context)
  expect(plan.errors).toEqual({})
  const result = pipelineRequestSchema.safeParse({ steps: plan.steps })
  expect(result.success, result.error?.message).toBe(true)
  return { plan, steps: plan.steps!.map((step) => jobRequestSchema.parse(step)) }
}

describe('pipeline plan: what is done', () => {
  it('derives each stage from the project’s figures', () => {
    const statuses = stageStatuses(allDone())
    expect(statuses.map((s) => [s.id, s.done])).toEqual([
      ['import', true],
      ['comprehension', true],
      ['dataset', true],
      ['train', true],
      ['evaluate', true],
      ['export', true],
    ])
    expect(statuses.map((s) => s.summary)).toEqual([
      '3 documents, 38 chunks (19,000 tokens)',
      '95 comprehension tasks mined from 30 chunks, 40 question–answer pairs accepted',
      '120 sequences of 2048 tokens (243,000 tokens)',
      'run-12: MoRA r8 on qwen2.5-0.5b.gguf · 200 steps · loss 1.235',
      'run-12 at F16 · held-out perplexity 12.50 → 10.00 · QA accuracy 40.0% → 55.0%',
      'GGUF Q8_0, verified: /home/me/models/run-12-q8_0.gguf',
    ])
    expect(remainingStages(statuses)).toEqual([])
  })

  it('links each stage to a step screen that exists', () => {
    const ids = STEPS.map((s) => s.id)
    for (const stage of stageStatuses(importedOnly())) expect(ids).toContain(stage.screen)
  })

  it('counts LLM pairs alone as comprehension data, and nothing as none', () => {
    const only = (totals = makeComprehensionTotals()) => stageStatuses({ ...importedOnly(), comprehension: totals })[1]!
    expect(only().done).toBe(false)
    expect(only(makeComprehensionTotals({ acceptedPairs: 3 })).done).toBe(true)
    expect(stageStatuses({ ...importedOnly(), comprehension: null })[1]!.done).toBe(false)
  })

  it('needs a finished run: a running one, or an export of an older run, does not count', () => {
    const facts: PipelineFacts = { ...allDone(), runs: [makeRun({ runId: 'run-14', jobId: '14', state: 'running' })], evaluation: null }
    const statuses = stageStatuses(facts)
    expect(statuses[3]).toMatchObject({ done: false, summary: 'run-14 is training' })
    expect(statuses[5]!.done).toBe(false)
    const newer = stageStatuses({ ...allDone(), runs: [makeRun({ runId: 'run-14', jobId: '14' }), makeRun()] })
    expect(newer[5]).toMatchObject({ done: false, summary: 'run-14 not exported yet' })
    const failed = stageStatuses({ ...allDone(), exports: [makeExport({ status: 'failed' })] })
    expect(failed[5]!.done).toBe(false)
  })

  it('runs every stage after one that runs again, but not its siblings', () => {
    expect(remainingStages(stageStatuses(importedOnly()))).toEqual(['comprehension', 'dataset', 'train', 'evaluate', 'export'])
    // A dataset without comprehension data: comprehension runs, so the dataset is rebuilt.
    expect(remainingStages(stageStatuses({ ...allDone(), comprehension: makeComprehensionTotals() }))).toEqual(['comprehension', 'dataset', 'train', 'evaluate', 'export'])
    // Only the evaluation is missing: the export of the same run stays.
    expect(remainingStages(stageStatuses({ ...allDone(), evaluation: null }))).toEqual(['evaluate'])
    expect(remainingStages(stageStatuses({ ...allDone(), exports: [] }))).toEqual(['export'])
    expect(remainingStages(stageStatuses({ ...allDone(), corpus: null }))).toContain('import')
  })
})

describe('pipeline plan: the requests', () => {
  it('keeps the export types in step with the contract', () => {
    expect(PIPELINE_EXPORT_TYPES).toEqual(exportTypes.EXPORT_TYPES)
  })

  it('builds regex mining, dataset, training, evaluation and a GGUF export that the schemas accept', () => {
    const { steps } = parsed(importedOnly(), { ...filled, trainSteps: ' 40 ' })
    expect(steps.map((s) => s.kind)).toEqual(['comprehend', 'dataset', 'train', 'eval', 'export'])
    expect(steps[0]!.params).toMatchObject({ mode: 'regex', generator: null, preview: null })
    expect(steps[2]!.params).toMatchObject({ base: '/models/qwen.gguf', steps: 40, method: 'mora', data: null })
    expect(steps[3]!.params).toMatchObject({ run: 'latest' })
    expect(steps[4]!.params).toMatchObject({ run: 'latest', format: 'gguf', type: 'q8_0', out: '/home/me/models/contracts-2026-q8_0-20261102-141509.gguf' })
  })

  it('generates questions with the generator when one is given, and trains for an epoch without steps', () => {
    const { steps } = parsed(importedOnly(), { ...filled, generator: ' /models/instruct.gguf ', exportType: 'q4_k_m' })
    expect(steps[0]!.params).toMatchObject({ mode: 'llm', generator: '/models/instruct.gguf' })
    expect(steps[2]!.params).toMatchObject({ steps: null, epochs: 1 })
    expect(steps[4]!.params).toMatchObject({ type: 'q4_k_m', out: '/home/me/models/contracts-2026-q4_k_m-20261102-141509.gguf' })
  })

  it('asks only what the remaining stages need', () => {
    const { steps } = parsed({ ...allDone(), evaluation: null }, { ...EMPTY_PIPELINE_FORM })
    expect(steps).toEqual([expect.objectContaining({ kind: 'eval' })])
    const exportOnly = buildPipeline({ ...EMPTY_PIPELINE_FORM }, { ...allDone(), exports: [] }, context)
    expect(exportOnly.errors).toEqual({ exportFolder: 'Choose the folder the GGUF goes into' })
  })

  it('refuses what the backend would refuse, naming the field', () => {
    const errors = buildPipeline({ ...EMPTY_PIPELINE_FORM, trainSteps: '0' }, importedOnly(), context).errors
    expect(errors).toEqual({ base: 'Choose the base model to train', trainSteps: 'Training steps must be between 1 and 10000000', exportFolder: 'Choose the folder the GGUF goes into' })
    expect(jobRequestSchema.safeParse({ kind: 'train', params: { base: '', steps: 0 } }).success).toBe(false)
    expect(buildPipeline(filled, { ...allDone(), corpus: null }, context)).toMatchObject({ steps: null, errors: { chain: expect.stringMatching(/^Import documents first/) } })
    expect(buildPipeline(filled, allDone(), context)).toMatchObject({ steps: null, errors: { chain: 'Every step is done' } })
  })

  it('names the export after the project and the time, inside the folder with its own separator', () => {
    expect(pipelineExportName('***', 'f16', NOW_MS)).toBe('model-f16-20261102-141509.gguf')
    const plan = buildPipeline({ ...filled, exportFolder: 'C:\\models\\' }, { ...allDone(), exports: [] }, context)
    expect(plan.steps).toEqual([{ kind: 'export', params: { run: 'latest', format: 'gguf', type: 'q8_0', out: 'C:\\models\\contracts-2026-q8_0-20261102-141509.gguf' } }])
  })
})
