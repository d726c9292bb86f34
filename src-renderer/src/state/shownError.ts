import { errorMessage } from './errorMessage'

/** A screen's state that shows the message of its last failed call. */
export interface ShowsError {
  error: string | null
}

/** `call`'s answer; when it fails, its message is shown on `state` and `fallback` is returned instead. */
export async function orShowError<T, F>(state: ShowsError, call: () => Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await call()
  } catch (error) {
    state.error = errorMessage(error)
    return fallback
  }
}

/**
 * Runs `action` with `state[flag]` set while it runs (a call in flight) and the last error cleared first; false
 * when it fails (its message shown).
 */
export async function attempt<Flag extends string>(state: ShowsError & Record<Flag, boolean>, flag: Flag, action: () => Promise<void>): Promise<boolean> {
  state[flag] = true as (ShowsError & Record<Flag, boolean>)[Flag]
  state.error = null
  try {
    await action()
    return true
  } catch (error) {
    state.error = errorMessage(error)
    return false
  } finally {
    state[flag] = false as (ShowsError & Record<Flag, boolean>)[Flag]
  }
}
