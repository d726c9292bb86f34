/** The sentence to show for a failed call; LecternError messages already name the file involved. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
