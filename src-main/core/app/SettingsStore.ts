import { join } from 'node:path'
import { DEFAULT_SETTINGS, settingsSchema, type AppSettings, type SettingsPatch } from '../../shared/types/app.js'
import { resolveComputeThreads } from '../system/hardwareReport.js'
import { readJsonFile, writeJsonFileAtomic } from './jsonFile.js'

/** App-wide settings in `<appData>/settings.json`. */
export class SettingsStore {
  private readonly path: string
  private current: AppSettings = DEFAULT_SETTINGS

  private constructor(path: string) {
    this.path = path
  }

  static async load(appDataDir: string, warn: (message: string) => void): Promise<SettingsStore> {
    const store = new SettingsStore(join(appDataDir, 'settings.json'))
    const { value, movedAsideTo } = await readJsonFile(store.path, settingsSchema, DEFAULT_SETTINGS)
    if (movedAsideTo) warn(`${store.path} was damaged; moved to ${movedAsideTo} and defaults used`)
    store.current = value
    return store
  }

  get(): AppSettings {
    return { ...this.current }
  }

  async update(patch: SettingsPatch): Promise<AppSettings> {
    const next = settingsSchema.parse({ ...this.current, ...patch })
    await writeJsonFileAtomic(this.path, next)
    this.current = next
    return this.get()
  }

  effectiveThreads(): number {
    return resolveComputeThreads(this.current.computeThreads)
  }
}
