/**
 * The renderer main thread's long tasks, read from a Chromium trace taken over CDP (`Tracing.start`, category
 * `devtools.timeline`): every task of at least `minMs` with its wall time, its own thread's CPU time (a task
 * whose CPU time is far below its wall time was waiting for a core, not working) and what ran inside it (script
 * by function and source module, style, layout, paint, GC), so that a long task can be pinned on a component
 * and a handler.
 */

/** The fields of a trace event read here (Chrome's JSON trace format; times in µs). */
export interface TraceEvent {
  name: string
  ph: string
  pid: number
  tid: number
  ts: number
  dur?: number
  tdur?: number
  args?: { name?: string; data?: Record<string, unknown> }
}

export interface TracedTask {
  startMs: number
  wallMs: number
  /** The main thread's CPU time in the task; null when the trace has no thread times. */
  cpuMs: number | null
  /** Wall ms of what ran directly inside the task, by label, largest first. */
  parts: [string, number][]
}

const TASK_NAMES = new Set(['RunTask', 'ThreadControllerImpl::RunTask'])
/** Events whose label says which script or handler ran. */
const NAMED_INSIDE = new Set(['FunctionCall', 'EventDispatch', 'TimerFire', 'FireAnimationFrame'])

/** For each line of a bundle (0-based), the module its `// path` comment names. */
export function moduleLines(code: string): string[] {
  let current = '(chunk prelude)'
  return code.split('\n').map((line) => {
    const comment = /^\/\/ (\S+\.\w+)$/.exec(line)?.[1]
    if (comment) current = comment
    return current
  })
}

/** A readable label for a trace event, naming the source module of a script from the renderer bundle. */
function label(event: TraceEvent, bundles: Map<string, string[]>): string {
  const data = event.args?.data ?? {}
  const url = typeof data['url'] === 'string' ? data['url'] : ''
  const file = url.split('/').pop() ?? ''
  const line = typeof data['lineNumber'] === 'number' ? data['lineNumber'] : null
  const where = (): string => {
    const lines = bundles.get(file)
    const module = lines && line !== null ? (lines[line - 1] ?? file) : file
    return `${module}${line !== null ? `:${line}` : ''}`
  }
  switch (event.name) {
    case 'FunctionCall':
      return `script ${String(data['functionName'] || '(anonymous)')} (${where()})`
    case 'EventDispatch':
      return `event ${String(data['type'])}`
    case 'TimerFire':
      return 'timer'
    case 'FireAnimationFrame':
      return 'requestAnimationFrame callback'
    case 'EvaluateScript':
    case 'v8.compile':
    case 'v8.compileModule':
    case 'v8.evaluateModule':
      return `${event.name} ${file}`
    default:
      return event.name
  }
}

/** The renderer main thread with the most tasks (the page that stayed open longest and did the most). */
function mainThread(events: TraceEvent[]): { pid: number; tid: number } | null {
  const names = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
  let best: { pid: number; tid: number; count: number } | null = null
  for (const thread of names) {
    const count = events.filter((e) => e.pid === thread.pid && e.tid === thread.tid && TASK_NAMES.has(e.name)).length
    if (!best || count > best.count) best = { pid: thread.pid, tid: thread.tid, count }
  }
  return best
}

/** The tasks of at least `minMs` on the renderer's main thread, longest first, with what ran inside each. */
export function longTasksFromTrace(events: TraceEvent[], bundles: Map<string, string[]>, minMs = 50): TracedTask[] {
  const thread = mainThread(events)
  if (!thread) return []
  const onThread = events.filter((e) => e.pid === thread.pid && e.tid === thread.tid && e.ph === 'X' && e.dur !== undefined).sort((a, b) => a.ts - b.ts || b.dur! - a.dur!)
  const origin = Math.min(...events.filter((e) => e.ts > 0).map((e) => e.ts))
  const tasks: TracedTask[] = []
  for (const task of onThread) {
    if (!TASK_NAMES.has(task.name) || task.dur! < minMs * 1000) continue
    const end = task.ts + task.dur!
    const inside = onThread.filter((e) => e !== task && e.ts >= task.ts && e.ts + e.dur! <= end && !TASK_NAMES.has(e.name))
    // Direct children: events not inside another event of the task.
    const parts = new Map<string, number>()
    let coveredUntil = -1
    for (const event of inside) {
      if (event.ts < coveredUntil) continue
      coveredUntil = event.ts + event.dur!
      // A generic wrapper (v8.callFunction, RunMicrotasks) is named by the longest script or event inside it.
      const nested = inside
        .filter((e) => e !== event && NAMED_INSIDE.has(e.name) && e.ts >= event.ts && e.ts + e.dur! <= coveredUntil)
        .sort((a, b) => b.dur! - a.dur!)[0]
      const key = label(event, bundles) + (nested && !NAMED_INSIDE.has(event.name) ? ` > ${label(nested, bundles)}` : '')
      parts.set(key, (parts.get(key) ?? 0) + event.dur! / 1000)
    }
    tasks.push({
      startMs: (task.ts - origin) / 1000,
      wallMs: task.dur! / 1000,
      cpuMs: task.tdur === undefined ? null : task.tdur / 1000,
      parts: [...parts].sort((a, b) => b[1] - a[1]).slice(0, 6),
    })
  }
  return tasks.sort((a, b) => b.wallMs - a.wallMs)
}
