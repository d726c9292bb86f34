import type { EvalModelMetrics, EvalParams, EvalQuestion, EvalReport } from '../../../../src-main/shared/types/export'
import { integerIn } from '../../components/numberFields'
import type { EvalJobParams, QuestionFilter } from '../../state/evaluate.svelte'

/**
 * The Evaluate form and the figures it shows. The types and defaults mirror evalParamsSchema in
 * src-main/shared/types/export.ts, which the renderer does not import because that module bundles zod;
 * test/renderer/screens/Evaluate/evaluateOptions.test.ts runs the results through the schema.
 */
export type EvalType = EvalParams['type']
export const EVAL_TYPES: readonly EvalType[] = ['f16', 'bf16', 'q8_0', 'f32']
export const EVAL_DEFAULTS = { type: 'f16', contextSize: 1024, maxTexts: 200, maxQuestions: 200 } as const

export interface EvalForm {
  type: EvalType
  contextSize: string
  maxTexts: string
  maxQuestions: string
  /** Also generate greedy answers and score them by exact match and F1 (slower). */
  generate: boolean
}

export const EMPTY_EVAL_FORM: EvalForm = { type: EVAL_DEFAULTS.type, contextSize: '', maxTexts: '', maxQuestions: '', generate: true }

/** The eval job's parameters for the run; an empty field keeps the schema's default. */
export function toEvalParams(form: EvalForm, runId: string): { params: EvalJobParams | null; errors: Partial<Record<keyof EvalForm, string>> } {
  const errors: Partial<Record<keyof EvalForm, string>> = {}
  const contextSize = integerIn(form.contextSize, 32, 32_768, 'Context size')
  const maxTexts = integerIn(form.maxTexts, 1, 100_000, 'Held-out texts')
  const maxQuestions = integerIn(form.maxQuestions, 1, 100_000, 'Questions')
  if (contextSize.error) errors.contextSize = contextSize.error
  if (maxTexts.error) errors.maxTexts = maxTexts.error
  if (maxQuestions.error) errors.maxQuestions = maxQuestions.error
  if (Object.keys(errors).length > 0) return { params: null, errors }
  return {
    params: {
      run: runId,
      type: form.type,
      generate: form.generate,
      ...(contextSize.value === undefined ? {} : { contextSize: contextSize.value }),
      ...(maxTexts.value === undefined ? {} : { maxTexts: maxTexts.value }),
      ...(maxQuestions.value === undefined ? {} : { maxQuestions: maxQuestions.value }),
    },
    errors,
  }
}

export type Direction = 'better' | 'worse' | 'same'

export interface MetricRow {
  id: keyof EvalModelMetrics
  label: string
  base: string
  adapted: string
  /** `−12.3%` for a perplexity, `+15.0 pts` for a share; null when either side is missing. */
  change: string | null
  direction: Direction | null
}

const METRICS: readonly { id: keyof EvalModelMetrics; label: string; kind: 'perplexity' | 'share' }[] = [
  { id: 'heldOutPerplexity', label: 'Held-out perplexity (your documents)', kind: 'perplexity' },
  { id: 'generalPerplexity', label: 'General-text perplexity', kind: 'perplexity' },
  { id: 'qaAccuracy', label: 'Closed-book QA accuracy', kind: 'share' },
  { id: 'qaExactMatch', label: 'QA exact match', kind: 'share' },
  { id: 'qaF1', label: 'QA F1', kind: 'share' },
]

/** `−12.3%`: a signed figure with a real minus sign. */
function signed(value: number, digits: number): string {
  const text = Math.abs(value).toFixed(digits)
  if (Number(text) === 0) return `±${text}`
  return `${value < 0 ? '−' : '+'}${text}`
}

/** The metrics table, base against adapted: lower perplexity is better, a higher share is better. */
export function metricRows(report: Pick<EvalReport, 'base' | 'adapted'>): MetricRow[] {
  return METRICS.map(({ id, label, kind }) => {
    const base = report.base[id]
    const adapted = report.adapted[id]
    const show = (value: number | null): string => (value === null ? '—' : kind === 'perplexity' ? value.toFixed(2) : `${(value * 100).toFixed(1)}%`)
    if (base === null || adapted === null) return { id, label, base: show(base), adapted: show(adapted), change: null, direction: null }
    const change = kind === 'perplexity' ? (base === 0 ? 0 : ((adapted - base) / base) * 100) : (adapted - base) * 100
    const rounded = Number(change.toFixed(1))
    const direction: Direction = rounded === 0 ? 'same' : (kind === 'perplexity' ? rounded < 0 : rounded > 0) ? 'better' : 'worse'
    return { id, label, base: show(base), adapted: show(adapted), change: kind === 'perplexity' ? `${signed(change, 1)}%` : `${signed(change, 1)} pts`, direction }
  })
}

export const QUESTION_FILTERS: readonly { id: QuestionFilter; label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'improved', label: 'Adapted right, base wrong' },
  { id: 'regressed', label: 'Base right, adapted wrong' },
  { id: 'bothWrong', label: 'Both wrong' },
]

export function filterQuestions(questions: readonly EvalQuestion[], filter: QuestionFilter): EvalQuestion[] {
  switch (filter) {
    case 'all':
      return [...questions]
    case 'improved':
      return questions.filter((q) => q.adapted.correct && !q.base.correct)
    case 'regressed':
      return questions.filter((q) => q.base.correct && !q.adapted.correct)
    case 'bothWrong':
      return questions.filter((q) => !q.base.correct && !q.adapted.correct)
  }
}
