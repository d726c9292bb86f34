import type { AppInfo } from '../shared/types/app.js'
import { LECTERN_VERSION, PRODUCT_NAME } from '../shared/version.js'
import type { RecommendedModel } from '../shared/types/models.js'
import { ApiEventBus } from './app/ApiEventBus.js'
import { ModelLibrary } from './app/ModelLibrary.js'
import { resourcePath } from './app/resourcesDir.js'
import { RecentProjects } from './app/RecentProjects.js'
import { SettingsStore } from './app/SettingsStore.js'
import { Workspace, type WorkerOptions } from './app/Workspace.js'
import type { ChatComparer } from './eval/ChatComparer.js'
import { WorkerTrainPlanner } from './train/WorkerTrainPlanner.js'

export interface ServicesOptions {
  /** Folder for app-wide files (settings, recent projects): Electron's userData, or a folder of the caller's. */
  appDataDir: string
  shell: AppInfo['shell']
  jobWorker: WorkerOptions
  /** Native folder picker; absent outside Electron. */
  chooseDirectory?: (options: { title?: string | undefined; defaultPath?: string | undefined }) => Promise<string | null>
  /** Native picker for files or folders to import; absent outside Electron. */
  chooseImportPaths?: (options: { folders: boolean }) => Promise<string[] | null>
  /** Native picker for one file (a model, a JSONL); absent outside Electron. */
  chooseFile?: (options: { title: string; extensions: string[] }) => Promise<string | null>
  /** Reveals a file or folder in the system's file manager; absent outside Electron. */
  showInFolder?: (path: string) => Promise<boolean>
  /** Where warnings about the app's own files go. Defaults to `console.warn`. */
  warn?: (message: string) => void
  /** The Models page's download list. Defaults to `resources/models/recommended.json`. */
  recommendedModels?: RecommendedModel[]
}

export interface Services {
  appInfo: AppInfo
  events: ApiEventBus
  settings: SettingsStore
  recents: RecentProjects
  workspace: Workspace
  /** The app-wide model library (not per project). */
  models: ModelLibrary
  chooseDirectory: NonNullable<ServicesOptions['chooseDirectory']>
  chooseImportPaths: NonNullable<ServicesOptions['chooseImportPaths']>
  chooseFile: NonNullable<ServicesOptions['chooseFile']>
  showInFolder: NonNullable<ServicesOptions['showInFolder']>
  /** Side-by-side chat; llama.cpp is loaded on first use, not at start-up. */
  chatComparer(): Promise<ChatComparer>
  /** The Train wizard's fit check, on a thread of its own started on the first plan. */
  trainPlanner: WorkerTrainPlanner
  dispose(): Promise<void>
}

/** The one composition root: Electron's main, the browser bridge and tests all build their services here. */
export async function createServices(options: ServicesOptions): Promise<Services> {
  const warn = options.warn ?? ((message: string) => console.warn(`[lectern] ${message}`))
  const events = new ApiEventBus()
  const [settings, recents] = await Promise.all([
    SettingsStore.load(options.appDataDir, warn),
    RecentProjects.load(options.appDataDir, warn),
  ])
  const recommended =
    options.recommendedModels ??
    (await resourcePath('models/recommended.json')
      .then((file) => ModelLibrary.readRecommended(file))
      .catch((error: Error) => {
        warn(`no recommended models: ${error.message}`)
        return []
      }))
  const models = await ModelLibrary.load(options.appDataDir, {
    recommended,
    isOffline: () => settings.get().offline,
    onDownload: (download) => events.emit('onModelDownload', download),
    warn,
  })
  let chat: Promise<ChatComparer> | null = null
  const workspace = new Workspace(events, recents, options.jobWorker, () => settings.effectiveThreads(), warn)
  const trainPlanner = new WorkerTrainPlanner({ worker: options.jobWorker })
  // The planner's caches are the closed project's data and models: its thread goes with the project.
  const releasePlannerOnProjectChange = events.subscribe((event) => {
    if (event === 'onProjectChanged') void trainPlanner.release()
  })
  return {
    appInfo: {
      name: PRODUCT_NAME,
      version: LECTERN_VERSION,
      shell: options.shell,
      platform: process.platform,
      arch: process.arch,
      versions: Object.fromEntries(
        Object.entries(process.versions).filter(([k]) => ['node', 'electron', 'chrome', 'v8', 'modules'].includes(k)),
      ) as Record<string, string>,
    },
    events,
    settings,
    recents,
    workspace,
    models,
    chooseDirectory: options.chooseDirectory ?? (() => Promise.resolve(null)),
    chooseImportPaths: options.chooseImportPaths ?? (() => Promise.resolve(null)),
    chooseFile: options.chooseFile ?? (() => Promise.resolve(null)),
    showInFolder: options.showInFolder ?? (() => Promise.resolve(false)),
    chatComparer: () => (chat ??= import('./eval/ChatComparer.js').then(({ ChatComparer }) => new ChatComparer())),
    trainPlanner,
    dispose: async () => {
      releasePlannerOnProjectChange()
      await trainPlanner.dispose()
      await models.dispose()
      await workspace.dispose()
      await (await chat?.catch(() => null))?.dispose()
    },
  }
}
