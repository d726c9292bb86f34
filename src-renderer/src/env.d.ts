/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { ApiTransport } from '../../src-main/shared/api'

declare global {
  interface Window {
    /** Provided by the preload (Electron) or the development bridge (browser). */
    readonly lecternBridge: ApiTransport
    /** The desktop app's way to learn a dropped file's path; absent in a plain browser. */
    readonly lecternFiles?: { pathForFile(file: File): string }
  }
}
