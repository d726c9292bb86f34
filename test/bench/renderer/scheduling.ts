import { readdirSync, readFileSync } from 'node:fs'

/** What the renderer bench reads of Linux's scheduler from /proc; every function gives null elsewhere. */

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** Fields of a /proc stat line after the command name: [0] is the state, [1] the parent pid, [16] the nice value. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/**
 * The autogroup of a process (e.g. "/autogroup-389"), with autogrouping on: the kernel shares CPU time fairly
 * between groups first (one per session) and by nice value only inside a group.
 */
export function autogroupOf(pid: number): string | null {
  return readProc(`/proc/${pid}/autogroup`)?.split(' ')[0] ?? null
}

/** Pids of this process's children whose command starts with "chrom" (the browser Playwright launched). */
export function chromiumChildren(): number[] {
  if (process.platform !== 'linux') return []
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      const stat = readProc(`/proc/${pid}/stat`)
      return stat !== null && stat.slice(stat.indexOf('(') + 1).startsWith('chrom') && statFields(stat)[1] === String(process.pid)
    })
    .map(Number)
}

/** The highest nice value among this process's threads right now (a job worker's, while one runs). */
export function highestThreadNice(): number | null {
  if (process.platform !== 'linux') return null
  const nices = readdirSync('/proc/self/task').flatMap((tid) => {
    const stat = readProc(`/proc/self/task/${tid}/stat`)
    return stat === null ? [] : [Number(statFields(stat)[16])]
  })
  return nices.length ? Math.max(...nices) : null
}
