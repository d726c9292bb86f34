import { isLecternError } from '../../shared/errors.js'
import { UnreadableFileError } from './formats/UnreadableFileError.js'

/** The reason recorded beside a file that could not be imported. */
export function describeImportError(error: unknown): string {
  if (error instanceof UnreadableFileError) return error.message
  const fsCode = (error as NodeJS.ErrnoException).code
  if (fsCode === 'ENOENT') return 'the file disappeared during the import'
  if (fsCode === 'EACCES' || fsCode === 'EPERM') return 'permission denied'
  if (fsCode === 'EISDIR') return 'is a folder'
  if (isLecternError(error)) return error.message
  return `unexpected error: ${(error as Error).message ?? String(error)}`
}

/** Whether an import error is a bug rather than a property of the file (its stack is then logged). */
export function isUnexpectedImportError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return !(error instanceof UnreadableFileError) && !(typeof code === 'string' && code.startsWith('E')) && !isLecternError(error)
}
