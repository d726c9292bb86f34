import { describe, expect, it } from 'vitest'
import { evalParamsSchema } from '../../../../src-main/shared/types/export'
import { EMPTY_EVAL_FORM, EVAL_DEFAULTS, EVAL_TYPES, filterQuestions, metricRows, toEvalParams } from '../../../../src-renderer/src/screens/Evaluate/evaluateOptions'
import { makeReport } from './evaluateFixtures'

describe('evaluate options', () => {
  it('keeps the types and defaults in step with the contract', () => {
    expect([...EVAL_TYPES].sort()).toEqual([...evalParamsSchema.shape.type.unwrap().options].sort())
    const defaults = evalParamsSchema.parse({})
    expect({ type: defaults.type, contextSize: defaults.contextSize, maxTexts: defaults.maxTexts, maxQuestions: defaults.maxQuestions }).toEqual(EVAL_DEFAULTS)
  })

  it('builds parameters the schema accepts, leaving empty fields to its defaults', () => {
    const { params } = toEvalParams(EMPTY_EVAL_FORM, 'run-12')
    expect(params).toEqual({ run: 'run-12', type: 'f16', generate: true })
    expect(evalParamsSchema.safeParse(params).success).toBe(true)
    const full = toEvalParams({ type: 'q8_0', contextSize: '2048', maxTexts: '10', maxQuestions: '20', generate: false }, 'latest').params
    expect(full).toEqual({ run: 'latest', type: 'q8_0', generate: false, contextSize: 2048, maxTexts: 10, maxQuestions: 20 })
    expect(evalParamsSchema.safeParse(full).success).toBe(true)
  })

  it('names each field out of range', () => {
    const { params, errors } = toEvalParams({ ...EMPTY_EVAL_FORM, contextSize: '40000', maxTexts: '0', maxQuestions: 'x' }, 'run-12')
    expect(params).toBeNull()
    expect(errors).toEqual({
      contextSize: 'Context size must be between 32 and 32768',
      maxTexts: 'Held-out texts must be between 1 and 100000',
      maxQuestions: 'Questions must be a whole number',
    })
  })

  it('reads lower perplexity and a higher share as better', () => {
    const rows = metricRows(makeReport())
    expect(rows.map((r) => [r.id, r.change, r.direction])).toEqual([
      ['heldOutPerplexity', '−20.0%', 'better'],
      ['generalPerplexity', '+5.0%', 'worse'],
      ['qaAccuracy', '+15.0 pts', 'better'],
      ['qaExactMatch', '±0.0 pts', 'same'],
      ['qaF1', null, null],
    ])
  })

  it('filters questions by which model got them right', () => {
    const { questions } = makeReport()
    expect(filterQuestions(questions, 'all')).toHaveLength(3)
    expect(filterQuestions(questions, 'improved')).toEqual([questions[0]])
    expect(filterQuestions(questions, 'regressed')).toEqual([questions[1]])
    expect(filterQuestions(questions, 'bothWrong')).toEqual([questions[2]])
  })
})
