/** A typed number field read: nothing when empty, else its value or the error to show by the field. */
export type ParsedNumber = { value?: number; error?: string }

/** The longest path a form accepts, as the main process's schemas do. */
export const MAX_PATH_CHARS = 4096

/** A whole number in [min, max]; `what` names the field in the error. */
export function integerIn(text: string, min: number, max: number, what: string): ParsedNumber {
  const trimmed = text.trim()
  if (trimmed === '') return {}
  if (!/^-?\d+$/.test(trimmed)) return { error: `${what} must be a whole number` }
  const value = Number(trimmed)
  if (value < min || value > max) return { error: `${what} must be between ${min} and ${max}` }
  return { value }
}

/** A number in [min, max], or strictly inside when `exclusive`; `what` names the field in the error. */
export function numberIn(text: string, min: number, max: number, what: string, exclusive = false): ParsedNumber {
  const trimmed = text.trim()
  if (trimmed === '') return {}
  const value = Number(trimmed)
  const outside = exclusive ? value <= min || value >= max : value < min || value > max
  if (!Number.isFinite(value) || outside) return { error: `${what} must be a number between ${min} and ${max}${exclusive ? ' (exclusive)' : ''}` }
  return { value }
}
