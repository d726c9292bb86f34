import type { StepId } from '../screens/Steps/steps'

export type Page = StepId | 'overview' | 'settings' | 'models'

/** The page the app shows. App.svelte renders it; any screen may send the user to another (a model picker to Models). */
export class NavigationState {
  page = $state<Page>('overview')

  open(page: Page): void {
    this.page = page
  }
}

export const navigationState = new NavigationState()
