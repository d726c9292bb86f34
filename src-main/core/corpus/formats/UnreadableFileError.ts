import { LecternError } from '../../../shared/errors.js'

/**
 * A source file that cannot be imported. The message is the reason alone ("encrypted PDF: a password is
 * required"), because the import records it beside the file's path and goes on with the next file.
 */
export class UnreadableFileError extends LecternError {
  constructor(displayPath: string, reason: string, options: { cause?: unknown } = {}) {
    super('unreadable_file', reason, { file: displayPath, ...options })
    this.name = 'UnreadableFileError'
  }
}
