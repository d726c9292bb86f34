import { join } from 'node:path'
import type { BrowserWindow, Rectangle } from 'electron'
import { z } from 'zod'
import { readJsonFile, writeJsonFileAtomic } from '../core/app/jsonFile.js'

/** Size, position and maximized flag of the main window, kept in `<appData>/window-state.json`. */
export const windowStateSchema = z
  .object({
    x: z.number().int(),
    y: z.number().int(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    isMaximized: z.boolean(),
  })
  .strict()
export type WindowState = z.output<typeof windowStateSchema>

export const WINDOW_STATE_FILE = 'window-state.json'
export const DEFAULT_WINDOW_SIZE = { width: 1280, height: 820 } as const
export const MIN_WINDOW_SIZE = { width: 900, height: 600 } as const

/** Where and how big the window opens: no position means the OS centres it. */
export interface InitialWindowBounds {
  x?: number
  y?: number
  width: number
  height: number
  isMaximized: boolean
}

/**
 * Fits a remembered state onto the displays there are now (their work areas): a window whose display was unplugged,
 * or that would sit mostly off-screen, is moved onto the display it overlaps most, or centred by the OS when it
 * overlaps none; a size larger than that display shrinks to fit, never below the minimum window size.
 */
export function fitWindowState(state: WindowState | null, workAreas: Rectangle[]): InitialWindowBounds {
  if (state === null || workAreas.length === 0) return { ...DEFAULT_WINDOW_SIZE, isMaximized: state?.isMaximized ?? false }
  const overlap = (area: Rectangle): number =>
    Math.max(0, Math.min(state.x + state.width, area.x + area.width) - Math.max(state.x, area.x)) *
    Math.max(0, Math.min(state.y + state.height, area.y + area.height) - Math.max(state.y, area.y))
  const best = workAreas.reduce((a, b) => (overlap(b) > overlap(a) ? b : a))
  const width = Math.max(MIN_WINDOW_SIZE.width, Math.min(state.width, best.width))
  const height = Math.max(MIN_WINDOW_SIZE.height, Math.min(state.height, best.height))
  if (overlap(best) === 0) {
    const primary = workAreas[0]!
    return { width: Math.min(width, Math.max(MIN_WINDOW_SIZE.width, primary.width)), height: Math.min(height, Math.max(MIN_WINDOW_SIZE.height, primary.height)), isMaximized: state.isMaximized }
  }
  // Keep the whole window on the display it overlaps most (so its title bar can always be grabbed).
  const x = Math.min(Math.max(state.x, best.x), best.x + best.width - width)
  const y = Math.min(Math.max(state.y, best.y), best.y + best.height - height)
  return { x, y, width, height, isMaximized: state.isMaximized }
}

/** Reads the remembered state; a missing or damaged file gives `null` (a damaged one is moved aside). */
export async function readWindowState(appDataDir: string, warn: (message: string) => void = () => {}): Promise<WindowState | null> {
  const path = join(appDataDir, WINDOW_STATE_FILE)
  const { value, movedAsideTo } = await readJsonFile(path, windowStateSchema.nullable(), null)
  if (movedAsideTo) warn(`${path} was damaged; moved to ${movedAsideTo} and the default window size used`)
  return value
}

export function writeWindowState(appDataDir: string, state: WindowState): Promise<void> {
  return writeJsonFileAtomic(join(appDataDir, WINDOW_STATE_FILE), state)
}

/** The state to remember: the normal (restored) bounds even while maximized, so un-maximizing next time works. */
export function captureWindowState(window: Pick<BrowserWindow, 'getNormalBounds' | 'isMaximized'>): WindowState {
  const bounds = window.getNormalBounds()
  return { x: Math.round(bounds.x), y: Math.round(bounds.y), width: Math.round(bounds.width), height: Math.round(bounds.height), isMaximized: window.isMaximized() }
}

/** Saves the window's state when it closes. Returns the pending write, for the quit path to await. */
export function rememberWindowState(window: Pick<BrowserWindow, 'getNormalBounds' | 'isMaximized' | 'on'>, appDataDir: string): { saved: () => Promise<void> } {
  let pending: Promise<void> = Promise.resolve()
  window.on('close', () => {
    pending = writeWindowState(appDataDir, captureWindowState(window)).catch((error: unknown) => console.error('[lectern] could not save the window state:', error))
  })
  return { saved: () => pending }
}
