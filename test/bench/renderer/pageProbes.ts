/**
 * Scripts that run inside the page (as strings, so that this Node-typed file needs no DOM types): what the
 * renderer bench reads from Chromium's own timing, taken where it happens rather than by polling from Node.
 */

/** What one page load reports, in ms since navigation start. */
export interface LoadTimings {
  /** Chromium's `first-paint` and `first-contentful-paint` entries; null when the page painted nothing. */
  firstPaintMs: number | null
  firstContentfulPaintMs: number | null
  domContentLoadedMs: number
  /**
   * The frame after the ready marker (a selector) first matched: the app drawn and usable, e.g. the project
   * picker's "Create project" button in place; null when it never appeared.
   */
  readyMs: number | null
}

/**
 * An init script that notes, from the first moment of the document, when `readyText` first appears as a button's
 * text, and takes the time at the next animation frame (when that content is about to be painted).
 */
export function readyProbeScript(readyText: string): string {
  return `(() => {
    const wanted = ${JSON.stringify(readyText)}
    window.__benchReadyMs = null
    const seen = () => Array.from(document.querySelectorAll('button')).some((b) => b.textContent.trim() === wanted)
    const check = () => {
      if (window.__benchReadyMs !== null || !seen()) return false
      requestAnimationFrame(() => { if (window.__benchReadyMs === null) window.__benchReadyMs = performance.now() })
      return true
    }
    const observer = new MutationObserver(() => { if (check()) observer.disconnect() })
    observer.observe(document, { childList: true, subtree: true, characterData: true })
  })()`
}

/** An expression that waits for the page's load timings (until the ready marker or `timeoutMs`) and returns them. */
export function loadTimingsExpression(timeoutMs: number, waitForReady: boolean): string {
  return `(async () => {
    const until = performance.now() + ${timeoutMs}
    const paints = () => performance.getEntriesByType('paint')
    while (performance.now() < until && (${waitForReady} ? window.__benchReadyMs == null : paints().length < 2)) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const paint = (name) => paints().find((e) => e.name === name)?.startTime ?? null
    const navigation = performance.getEntriesByType('navigation')[0]
    return {
      firstPaintMs: paint('first-paint'),
      firstContentfulPaintMs: paint('first-contentful-paint'),
      domContentLoadedMs: navigation ? navigation.domContentLoadedEventEnd : -1,
      readyMs: window.__benchReadyMs ?? null,
    }
  })()`
}

/** One entry of the `longtask` PerformanceObserver, in ms since navigation start. */
export interface LongTask {
  startMs: number
  durationMs: number
}

/** Starts collecting long tasks (tasks over 50 ms on the main thread) into `window.__benchLongTasks`. */
export const START_LONG_TASKS = `(() => {
  window.__benchLongTasks = []
  window.__benchLongTaskObserver?.disconnect()
  window.__benchLongTaskObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__benchLongTasks.push({ startMs: e.startTime, durationMs: e.duration })
  })
  window.__benchLongTaskObserver.observe({ type: 'longtask' })
  return performance.now()
})()`

/** Stops collecting and returns the long tasks seen since START_LONG_TASKS (entries queued so far are flushed). */
export const STOP_LONG_TASKS = `(() => {
  const observer = window.__benchLongTaskObserver
  const pending = observer ? observer.takeRecords() : []
  for (const e of pending) window.__benchLongTasks.push({ startMs: e.startTime, durationMs: e.duration })
  observer?.disconnect()
  return { tasks: window.__benchLongTasks, nowMs: performance.now() }
})()`
