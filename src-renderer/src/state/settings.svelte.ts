import type { ApiClient } from '../../../src-main/shared/api'
import type { AppInfo, AppSettings, HardwareReport, SettingsPatch } from '../../../src-main/shared/types/app'
import { api } from '../api'
import { errorMessage } from './errorMessage'

/** App settings, the hardware report and app info from the main process. */
export class SettingsState {
  settings = $state<AppSettings | null>(null)
  hardware = $state<HardwareReport | null>(null)
  appInfo = $state<AppInfo | null>(null)
  saving = $state(false)
  error = $state<string | null>(null)
  private readonly client: ApiClient

  constructor(client: ApiClient) {
    this.client = client
  }

  async load(): Promise<void> {
    // The hardware report waits for the start-up probes (seconds); settings must not wait for it.
    const hardware = this.client.getHardwareReport().then(
      (report) => void (this.hardware = report),
      (error: unknown) => void (this.error = errorMessage(error)),
    )
    try {
      const [settings, appInfo] = await Promise.all([this.client.getSettings(), this.client.getAppInfo()])
      this.settings = settings
      this.appInfo = appInfo
    } catch (error) {
      this.error = errorMessage(error)
    }
    await hardware
  }

  async update(patch: SettingsPatch): Promise<void> {
    this.saving = true
    this.error = null
    try {
      this.settings = await this.client.updateSettings(patch)
      this.hardware = await this.client.getHardwareReport()
    } catch (error) {
      this.error = errorMessage(error)
    } finally {
      this.saving = false
    }
  }
}

export const settingsState = new SettingsState(api)
