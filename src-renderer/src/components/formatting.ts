export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return ''
  const s = Math.round(seconds)
  if (s < 60) return `${s}s left`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s left`
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m left`
}

export function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString()
}

/** A job's log as plain text for the clipboard: one `ISO-time LEVEL message` line per entry. */
export function formatLogText(lines: { atMs: number; level: string; message: string }[]): string {
  return lines.map((line) => `${new Date(line.atMs).toISOString()} ${line.level.toUpperCase()} ${line.message}`).join('\n')
}

export { formatBytes } from '../../../src-main/shared/format'
