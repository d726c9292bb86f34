import type { ComprehensionTotals } from './comprehension.js'
import type { CorpusTotals } from './corpus.js'
import type { JobState } from './jobs.js'

export interface ProjectSummary {
  /** Absolute path of the project folder. */
  dir: string
  name: string
  dbPath: string
  schemaVersion: number
  /** Version of Lectern that created the project. */
  createdByVersion: string
  createdAtMs: number
  dbSizeBytes: number
  jobCounts: Record<JobState, number>
  /** Null only for an old project opened read-only (its corpus tables do not exist yet). */
  corpus: CorpusTotals | null
  /** Null only for an old project opened read-only (schema < 3). */
  comprehension: ComprehensionTotals | null
}

export interface RecentProject {
  dir: string
  name: string
  lastOpenedAtMs: number
  /** False when the folder or its project.db has gone since it was last opened. */
  available: boolean
}
