/**
 * Errors that cross a boundary (IPC, HTTP bridge, CLI) carry a machine-readable code, a human sentence and,
 * where a file is involved, the file. The UI and CLI switch on `code`, never on `instanceof`, because class
 * identity does not survive IPC.
 */
export type ErrorCode =
  | 'invalid_argument'
  | 'unknown_method'
  | 'not_found'
  | 'no_project_open'
  | 'project_exists'
  | 'not_a_project'
  | 'project_corrupt'
  | 'project_too_new'
  | 'job_not_found'
  | 'job_state'
  | 'cancelled'
  | 'interrupted'
  | 'invalid_model_file'
  | 'unsupported_model'
  | 'unreadable_file'
  | 'io'
  | 'internal'
  | 'verification_failed'
  /** A network path was asked for while the offline switch is on. */
  | 'offline'

export interface SerializedError {
  code: ErrorCode
  message: string
  file?: string
  detail?: string
}

export class LecternError extends Error {
  readonly code: ErrorCode
  readonly file: string | undefined
  readonly detail: string | undefined

  constructor(code: ErrorCode, message: string, options: { file?: string; detail?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'LecternError'
    this.code = code
    this.file = options.file
    this.detail = options.detail
  }

  toJSON(): SerializedError {
    return serializeError(this)
  }
}

export function isLecternError(value: unknown): value is LecternError {
  return value instanceof LecternError
}

/** Anything thrown becomes a plain object; unexpected errors become `internal` (their stack stays in main). */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof LecternError) {
    const out: SerializedError = { code: error.code, message: error.message }
    if (error.file !== undefined) out.file = error.file
    if (error.detail !== undefined) out.detail = error.detail
    return out
  }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'internal', message: `Internal error: ${message}` }
}

export function deserializeError(error: SerializedError): LecternError {
  const options: { file?: string; detail?: string } = {}
  if (error.file !== undefined) options.file = error.file
  if (error.detail !== undefined) options.detail = error.detail
  return new LecternError(error.code, error.message, options)
}

/** One line for terminals and toasts: the message already names the file where one is involved. */
export function formatErrorLine(error: SerializedError): string {
  return error.message.replace(/\s*\n\s*/g, ' ')
}
