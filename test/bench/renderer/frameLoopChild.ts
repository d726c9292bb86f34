/**
 * Child process of the renderer bench (started by frameLoop.ts): a stand-in for a renderer's main thread that
 * shares the backend's scheduling group at the default priority, as an Electron window does and as Playwright's
 * Chromium, started in a session of its own, does not. Every FRAME_MS it spends WORK_MS of CPU time and notes how
 * long that took in wall time and how late it started. 'start' clears the notes; 'stop' sends them.
 */
import type { FrameNote } from './frameLoop.js'

const FRAME_MS = 16
const WORK_MS = 4

let notes: FrameNote[] = []

function cpuMs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

function frame(dueAtMs: number): void {
  const startedAtMs = performance.now()
  const cpuUntil = cpuMs() + WORK_MS
  while (cpuMs() < cpuUntil) {
    // Busy, as a frame's script, style and layout are.
  }
  notes.push({ lateMs: startedAtMs - dueAtMs, wallMs: performance.now() - startedAtMs })
  const nextDueMs = Math.max(dueAtMs + FRAME_MS, performance.now())
  setTimeout(() => frame(nextDueMs), nextDueMs - performance.now())
}

process.on('message', (message: 'start' | 'stop') => {
  if (message === 'start') notes = []
  else process.send!(notes)
})
process.on('disconnect', () => process.exit(0))
frame(performance.now())
