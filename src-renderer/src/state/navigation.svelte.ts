import { tick } from 'svelte'
import type { StepId } from '../screens/Steps/steps'

export type Page = StepId | 'overview' | 'settings' | 'models'

/** The element that holds the page (App.svelte's `<main>`, the skip link's target). */
export const MAIN_CONTENT_ID = 'main-content'

/** The page the app shows. App.svelte renders it; any screen may send the user to another (a model picker to Models). */
export class NavigationState {
  page = $state<Page>('overview')

  /**
   * Shows `page`. When the control that asked for it went away with the old page (a "Go to…" button inside it),
   * focus moves to the new page's main content once it is rendered, so keyboard users are not dropped on `<body>`.
   */
  open(page: Page): void {
    this.page = page
    void tick().then(() => {
      const focused = document.activeElement
      if (focused !== null && focused !== document.body && focused.isConnected) return
      document.getElementById(MAIN_CONTENT_ID)?.focus({ preventScroll: true })
    })
  }

  /** Back to the overview without moving focus (another project was opened). */
  reset(): void {
    this.page = 'overview'
  }
}

export const navigationState = new NavigationState()
