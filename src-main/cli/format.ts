import type { JobSummary } from '../shared/types/jobs.js'

export { formatBytes } from '../shared/format.js'

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

export function formatTime(ms: number | null): string {
  if (ms === null) return '—'
  const d = new Date(ms)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

export function formatPercent(job: JobSummary): string {
  return job.progress.fraction === null ? '—' : `${Math.floor(job.progress.fraction * 100)}%`
}

/** `[██████░░░░]  60%  600/1000  ETA 12s  message`, cut to the terminal width. */
export function progressLine(job: JobSummary, width: number): string {
  const barWidth = 24
  const fraction = job.progress.fraction ?? 0
  const filled = Math.round(fraction * barWidth)
  const bar = '█'.repeat(filled) + '░'.repeat(barWidth - filled)
  const counts = job.progress.total > 0 ? `${job.progress.done}/${job.progress.total}` : ''
  const parts = [`[${bar}]`, formatPercent(job).padStart(4), counts, `ETA ${formatDuration(job.progress.etaSeconds)}`]
  if (job.progress.message) parts.push(job.progress.message)
  const line = parts.filter(Boolean).join('  ')
  return line.length > width - 1 ? line.slice(0, width - 2) + '…' : line
}

/** Plain rows with columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n')
}
