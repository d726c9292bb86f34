/** "1.2 B", "494 M", "12.3 K": parameter counts as model cards write them. */
export function formatParameters(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(count >= 1e10 ? 0 : 1)} B`
  if (count >= 1e6) return `${(count / 1e6).toFixed(count >= 1e8 ? 0 : 1)} M`
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)} K`
  return String(count)
}
