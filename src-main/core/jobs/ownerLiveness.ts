import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'

/** Owners created in this process that are still running jobs. */
const liveOwnersHere = new Set<string>()

/** An owner id names the host, the process and the queue instance: `host:pid:tag`. */
export function createOwnerId(): string {
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  liveOwnersHere.add(owner)
  return owner
}

export function releaseOwnerId(owner: string): void {
  liveOwnersHere.delete(owner)
}

/**
 * Whether the process that owns a running job still exists. On another host we cannot tell, so we answer
 * true and leave the decision to the heartbeat's age.
 */
export function isOwnerAlive(owner: string): boolean {
  const [host, pidText] = owner.split(':')
  if (host !== hostname()) return true
  const pid = Number(pidText)
  if (pid === process.pid) return liveOwnersHere.has(owner)
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
