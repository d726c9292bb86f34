import { describe, expect, it } from 'vitest'
import { formatBytes, formatDuration, progressLine, table } from '../../../src-main/cli/format.js'
import type { JobSummary } from '../../../src-main/shared/types/jobs.js'

const job = (done: number, total: number, etaSeconds: number | null): JobSummary => ({
  id: '1',
  kind: 'demo',
  label: 'Demo',
  state: 'running',
  progress: { done, total, fraction: total > 0 ? done / total : null, message: 'working', etaSeconds },
  createdAtMs: 0,
  startedAtMs: 0,
  finishedAtMs: null,
  attempts: 1,
  resumable: false,
  cancelRequested: false,
  error: null,
})

describe('CLI formatting', () => {
  it('formats sizes and durations', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GB')
    expect(formatDuration(null)).toBe('—')
    expect(formatDuration(42.4)).toBe('42s')
    expect(formatDuration(125)).toBe('2m05s')
    expect(formatDuration(3 * 3600 + 60 * 7)).toBe('3h07m')
  })

  it('draws a progress bar that fits the terminal', () => {
    const line = progressLine(job(60, 100, 12), 200)
    expect(line).toContain('60%')
    expect(line).toContain('60/100')
    expect(line).toContain('ETA 12s')
    expect(line.match(/█/g)).toHaveLength(14)
    expect(progressLine(job(60, 100, 12), 30).length).toBeLessThanOrEqual(29)
  })

  it('pads table columns to the widest cell', () => {
    expect(table([['a', 'bb', 'c'], ['ddd', 'e', 'f']])).toBe('a    bb  c\nddd  e   f')
  })
})
