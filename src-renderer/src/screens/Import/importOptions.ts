import type { ImportParamsInput } from '../../../../src-main/shared/types/corpus'
import { integerIn, MAX_PATH_CHARS, numberIn } from '../../components/numberFields'

/**
 * The Advanced fields as typed; an empty field keeps the project's setting. The checks mirror
 * `importParamsSchema` (src-main/shared/types/corpus.ts), which the renderer does not import because it
 * would bundle zod; test/renderer/screens/Import/importOptions.test.ts keeps the two in step.
 */
export interface ImportOptionsForm {
  chunkTokens: string
  overlapTokens: string
  nearDuplicateThreshold: string
  textField: string
}

export type ImportOptionErrors = Partial<Record<keyof ImportOptionsForm | 'paths', string>>

export const EMPTY_OPTIONS: ImportOptionsForm = { chunkTokens: '', overlapTokens: '', nearDuplicateThreshold: '', textField: '' }

/** DEFAULT_CORPUS_SETTINGS, shown as placeholders (same reason as above for not importing it). */
export const DEFAULT_SETTINGS_HINT = { chunkTokens: 512, overlapTokens: 64, nearDuplicateThreshold: 0.85 } as const

const MAX_PATHS = 10_000

/** The import request for these paths and fields, or the errors to show next to each field. */
export function toImportParams(paths: readonly string[], form: ImportOptionsForm): { params: ImportParamsInput | null; errors: ImportOptionErrors } {
  const errors: ImportOptionErrors = {}
  const cleanPaths = paths.map((path) => path.trim()).filter((path) => path !== '')
  if (cleanPaths.length === 0) errors.paths = 'Choose at least one file or folder'
  else if (cleanPaths.length > MAX_PATHS) errors.paths = `At most ${MAX_PATHS} paths can be imported at once`
  else if (cleanPaths.some((path) => path.length > MAX_PATH_CHARS)) errors.paths = `A path is longer than ${MAX_PATH_CHARS} characters`

  const chunk = integerIn(form.chunkTokens, 16, 32_768, 'Chunk size')
  const overlap = integerIn(form.overlapTokens, 0, 32_767, 'Overlap')
  if (chunk.error) errors.chunkTokens = chunk.error
  if (overlap.error) errors.overlapTokens = overlap.error
  else if (overlap.value !== undefined && chunk.value !== undefined && overlap.value >= chunk.value) {
    errors.overlapTokens = 'Overlap must be smaller than the chunk size'
  }

  const threshold = numberIn(form.nearDuplicateThreshold, 0, 1, 'Threshold', true)
  if (threshold.error) errors.nearDuplicateThreshold = threshold.error

  const textField = form.textField.trim()
  if (textField.length > 200) errors.textField = 'Text field name must be at most 200 characters'

  if (Object.keys(errors).length > 0) return { params: null, errors }
  return {
    params: {
      paths: cleanPaths,
      ...(chunk.value === undefined ? {} : { chunkTokens: chunk.value }),
      ...(overlap.value === undefined ? {} : { overlapTokens: overlap.value }),
      ...(threshold.value === undefined ? {} : { nearDuplicateThreshold: threshold.value }),
      ...(textField === '' ? {} : { textField }),
    },
    errors,
  }
}
