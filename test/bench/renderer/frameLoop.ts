import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** One frame of the loop: how late its work started and how long that work (a fixed CPU time) took in wall time. */
export interface FrameNote {
  lateMs: number
  wallMs: number
}

export interface FrameLoopFigures {
  frames: number
  /** Frames whose work took over `thresholdMs` of wall time: long tasks, in the page's sense. */
  longTasks: number
  maxWallMs: number
  /** Frames that started over `thresholdMs` after they were due. */
  lateFrames: number
  maxLateMs: number
}

/**
 * A frame loop in a child process that stays in this process's scheduling group (no new session, default priority;
 * frameLoopChild.ts): what a job's threads leave to a window that shares their group, as the app's renderer does.
 */
export class FrameLoop {
  private readonly child: ChildProcess

  private constructor(child: ChildProcess) {
    this.child = child
  }

  static async start(): Promise<FrameLoop> {
    const child = fork(fileURLToPath(new URL('./frameLoopChild.ts', import.meta.url)), [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', reject)
    })
    return new FrameLoop(child)
  }

  /** Clears the notes: figures from here on. */
  begin(): void {
    this.child.send('start')
  }

  async figures(thresholdMs: number): Promise<FrameLoopFigures> {
    const notes = await new Promise<FrameNote[]>((resolve) => {
      this.child.once('message', (message) => resolve(message as FrameNote[]))
      this.child.send('stop')
    })
    return {
      frames: notes.length,
      longTasks: notes.filter((n) => n.wallMs > thresholdMs).length,
      maxWallMs: Math.max(0, ...notes.map((n) => n.wallMs)),
      lateFrames: notes.filter((n) => n.lateMs > thresholdMs).length,
      maxLateMs: Math.max(0, ...notes.map((n) => n.lateMs)),
    }
  }

  close(): void {
    this.child.disconnect()
  }
}
