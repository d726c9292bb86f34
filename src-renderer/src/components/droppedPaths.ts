/**
 * The local paths of the files dropped in `event` (the desktop app's preload resolves them), or a note on why
 * there are none; null when nothing was dropped.
 */
export function droppedPaths(event: DragEvent, pathForFile: ((file: File) => string) | null): { paths: string[]; note: string | null } | null {
  event.preventDefault()
  const files = [...(event.dataTransfer?.files ?? [])]
  if (files.length === 0) return null
  if (!pathForFile) return { paths: [], note: 'Dropped files carry no path in a browser: type or paste the path instead.' }
  const paths = files.map((file) => pathForFile(file)).filter((path) => path !== '')
  return { paths, note: paths.length === 0 ? 'Nothing dropped had a path on this computer.' : null }
}
